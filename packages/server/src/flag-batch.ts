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
}

export interface FlagBatchResult {
  /** The rows written, in order: each segment's, then each flag's (FLAG row first when new). */
  rows: StoredRow[];
  /**
   * true: the rows landed as one atomic batch. false: the store has no atomic batches
   * (its `capabilities.atomicBatch`); they were written one at a time, in order.
   */
  atomic: boolean;
}

/** What a failure names: `segment beta` or `flag boolean-flag`. */
interface Planned {
  row: NewRow;
  label: string;
}

/**
 * FlagAdmin.writeBatch: checks everything, then writes. Each refusal names the flag
 * or segment at fault (the message starts with it) and keeps core's field.
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
  const planned: Planned[] = [];
  /** Segments of the batch, which its flags' rules may name. */
  const batchSegments = new Set<string>();

  for (const [index, entry] of (batch.segments ?? []).entries()) {
    const label = `segment ${entry.name}`;
    await naming(`segments[${index}] (${label})`, async () => {
      const ref = segmentRef(project, entry.name);
      if (batchSegments.has(ref.name)) {
        throw new InvalidInputError(`the batch holds segment ${ref.name} twice`, { field: 'segment_name' });
      }
      batchSegments.add(ref.name);
      const revision = segmentFromInput(ref, { ...entry.segment }, undefined);
      const exists = await admin.store.latest('FLAG', ref);
      if (exists && mode === 'refuse') {
        throw new FlagExistsError(`segment ${ref.name} already exists in project ${project}`, {
          field: 'segment_name',
          hint: 'leave it out of the batch, or write the batch with existing: "revise" to give it a new revision',
        });
      }
      if (!exists) {
        planned.push({
          row: { kind: 'FLAG', ref, fields: admin.metadataFor(ref, entry.description) },
          label: `${label} (its FLAG row)`,
        });
      }
      planned.push({ row: { kind: 'REVISION', ref, fields: revision }, label: `${label} (its revision)` });
    });
  }

  const flagNames = new Set<string>();
  for (const [index, entry] of (batch.flags ?? []).entries()) {
    const label = `flag ${entry.name}`;
    await naming(`flags[${index}] (${label})`, async () => {
      const ref: FlagRef = flagRef(project, entry.flagType, entry.name);
      if (flagNames.has(ref.name)) {
        throw new InvalidInputError(`the batch holds flag ${ref.name} twice`, { field: 'flag_name' });
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
          throw new FlagExistsError(`flag ${ref.name} already exists in project ${project} as a ${type} flag`, {
            field: 'flag_type',
          });
        }
        exists = true;
      }
      if (exists && mode === 'refuse') {
        throw new FlagExistsError(`flag ${ref.name} already exists in project ${project}`, {
          field: 'flag_name',
          hint: 'leave it out of the batch, or write the batch with existing: "revise" to give it a new revision',
        });
      }
      if (!exists) {
        planned.push({
          row: { kind: 'FLAG', ref, fields: admin.metadataFor(ref, entry.description) },
          label: `${label} (its FLAG row)`,
        });
      }
      planned.push({ row: { kind: 'REVISION', ref, fields: revision }, label: `${label} (its revision)` });
    });
  }

  const atomic = admin.store.capabilities.atomicBatch;
  const rows = await admin.appendInOrder(
    planned.map((item) => item.row),
    (i) => planned[i]?.label ?? `row ${i + 1}`,
    'batch',
  );
  return { rows, atomic };
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
