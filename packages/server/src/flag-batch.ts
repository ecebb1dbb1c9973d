import {
  assertProjectName,
  FlagExistsError,
  type FlagRef,
  InvalidInputError,
  isVexilError,
  VALUE_FLAG_TYPES,
  type ValueFlagType,
} from '@vexil/core';
import type { NewRow, StoredRow } from '@vexil/store';
import {
  type FlagAdmin,
  flagRef,
  type RevisionInput,
  type SegmentInput,
  segmentFromInput,
  segmentRef,
} from './flag-admin.js';
import { refuseUnusableSegments, segmentReferences } from './segment-references.js';

/** A flag of a batch: created with its first revision (or, with `existing: 'revise'`, given a new one). */
export interface BatchFlag {
  name: string;
  flagType: ValueFlagType;
  description?: string | undefined;
  revision: RevisionInput;
}

/** A segment of a batch, written before the flags whose rules may name it. */
export interface BatchSegment {
  name: string;
  description?: string | undefined;
  segment: Omit<SegmentInput, 'description'>;
}

/** A whole set of flags and segments of one project, written all together (an import). */
export interface FlagBatch {
  project: string;
  segments?: readonly BatchSegment[] | undefined;
  flags?: readonly BatchFlag[] | undefined;
  /**
   * A flag or segment the project has already: `refuse` (the default) refuses the whole
   * batch, naming it; `revise` gives it a new revision (a flag only if of the same type).
   */
  existing?: 'refuse' | 'revise' | undefined;
  /** Check everything and say what would be written, but write nothing. */
  dryRun?: boolean | undefined;
  /** What the batch came from, in messages: `the flagd file`; `the batch` by default. */
  source?: string | undefined;
}

/** `add`: a new flag or segment (its FLAG row and first revision); `update`: a new revision of one that exists. */
export type BatchAction = 'add' | 'update';

export interface FlagBatchResult {
  segments: { name: string; action: BatchAction }[];
  flags: { name: string; flagType: ValueFlagType; action: BatchAction }[];
  /** The rows written, in order: each segment's, then each flag's (FLAG row first when new); none on a dry run. */
  rows: StoredRow[];
}

/**
 * FlagAdmin.writeBatch, the one way Vexil writes many flags at once (`vexil import
 * flagd` too): checks everything, then appends every row in one atomic batch, or
 * nothing. A store without atomic batches (Bigtable) is refused before anything is
 * written. Each refusal names the flag or segment at fault (the message starts with
 * it) and keeps core's field.
 */
export async function writeFlagBatch(admin: FlagAdmin, batch: FlagBatch): Promise<FlagBatchResult> {
  const { project } = batch;
  assertProjectName(project);
  const mode = batch.existing ?? 'refuse';
  if (mode !== 'refuse' && mode !== 'revise') {
    throw new InvalidInputError(`existing must be "refuse" or "revise", got ${JSON.stringify(mode)}`, {
      field: 'existing',
    });
  }
  const source = batch.source ?? 'the batch';
  const rows: NewRow[] = [];
  const result: FlagBatchResult = { segments: [], flags: [], rows: [] };
  /** Segments of the batch, which its flags' rules may name. */
  const batchSegments = new Set<string>();

  for (const [index, entry] of (batch.segments ?? []).entries()) {
    await naming(`segments[${index}] (segment ${entry.name})`, async () => {
      const ref = segmentRef(project, entry.name);
      if (batchSegments.has(ref.name)) {
        throw new InvalidInputError(`${source} holds segment ${ref.name} twice`, { field: 'segment_name' });
      }
      batchSegments.add(ref.name);
      const revision = segmentFromInput(ref, { ...entry.segment }, undefined);
      const exists = (await admin.store.latest('FLAG', ref)) !== undefined;
      if (exists && mode === 'refuse') {
        throw new FlagExistsError(`segment ${ref.name} already exists in project ${project}`, {
          field: 'segment_name',
          hint: 'leave it out of the batch, or write the batch with existing: "revise" to give it a new revision',
        });
      }
      if (!exists) rows.push({ kind: 'FLAG', ref, fields: admin.metadataFor(ref, entry.description) });
      rows.push({ kind: 'REVISION', ref, fields: revision });
      result.segments.push({ name: ref.name, action: exists ? 'update' : 'add' });
    });
  }

  const flagNames = new Set<string>();
  for (const [index, entry] of (batch.flags ?? []).entries()) {
    await naming(`flags[${index}] (flag ${entry.name})`, async () => {
      const ref: FlagRef = flagRef(project, entry.flagType, entry.name);
      if (flagNames.has(ref.name)) {
        throw new InvalidInputError(`${source} holds flag ${ref.name} twice`, { field: 'flag_name' });
      }
      flagNames.add(ref.name);
      const revision = admin.revisionFromInput(ref, entry.revision);
      await refuseUnusableSegments(project, segmentReferences(revision), async (name) =>
        batchSegments.has(name) ? 'active' : admin.segmentState(project, name),
      );
      let exists = false;
      for (const type of VALUE_FLAG_TYPES) {
        if (!(await admin.store.latest('FLAG', { ...ref, flagType: type }))) continue;
        if (type !== ref.flagType) {
          throw new FlagExistsError(
            `${ref.name} exists in project ${project} as a ${type} flag; ${source} makes it a ${ref.flagType}: ` +
              "a flag's type cannot change, so nothing was written",
            { field: 'flag_type', hint: `rename the flag, or archive the ${type} flag first` },
          );
        }
        exists = true;
      }
      if (exists && mode === 'refuse') {
        throw new FlagExistsError(`flag ${ref.name} already exists in project ${project}`, {
          field: 'flag_name',
          hint: 'leave it out of the batch, or write the batch with existing: "revise" to give it a new revision',
        });
      }
      if (!exists) rows.push({ kind: 'FLAG', ref, fields: admin.metadataFor(ref, entry.description) });
      rows.push({ kind: 'REVISION', ref, fields: revision });
      result.flags.push({ name: ref.name, flagType: ref.flagType as ValueFlagType, action: exists ? 'update' : 'add' });
    });
  }

  if (batch.dryRun === true) return result;
  if (!admin.store.capabilities.atomicBatch) {
    throw new InvalidInputError(
      `the ${admin.store.engine} store cannot write a batch all at once, and ${source} is written whole or not at all; nothing was written`,
      { field: 'VEXIL_STORE', hint: 'write it into a store with atomic batches (sqlite, postgres or memory)' },
    );
  }
  result.rows = await admin.appendRows(rows);
  return result;
}

/** Runs `check`, starting the message of a Vexil error it throws with `what`. */
async function naming(what: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (error) {
    if (isVexilError(error) && !error.message.startsWith(what)) error.message = `${what}: ${error.message}`;
    throw error;
  }
}
