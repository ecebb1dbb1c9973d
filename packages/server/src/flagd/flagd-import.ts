import {
  FLAG_TYPES,
  type FlagRef,
  InvalidInputError,
  parseFlagMetadata,
  parseRevision,
  parseSegmentRevision,
  storedFlagType,
} from '@vexil/core';
import type { NewRow } from '@vexil/store';
import type { FlagAdmin } from '../flag-admin.js';
import type { FlagdImportPlan } from './flagd-plan.js';

/** What an import did (or, with dryRun, would do), item by item. */
export interface FlagdImportOutcome {
  project: string;
  source: string;
  dryRun: boolean;
  /** `add`: a new flag (its FLAG row and first revision); `update`: a new revision of an existing flag. */
  flags: { name: string; flagType: string; action: 'add' | 'update' }[];
  segments: { name: string; action: 'add' | 'update' }[];
  notes: string[];
}

/**
 * Writes a plan into `project`: every flag and segment is checked first (against the
 * store too: a flag's type is fixed, so a key that exists with another type is
 * refused), then all rows go in one atomic batch, or none do.
 */
export async function importFlagdPlan(
  admin: FlagAdmin,
  project: string,
  plan: FlagdImportPlan,
  options: { source: string; dryRun: boolean },
): Promise<FlagdImportOutcome> {
  const rows: NewRow[] = [];
  const outcome: FlagdImportOutcome = {
    project,
    source: options.source,
    dryRun: options.dryRun,
    flags: [],
    segments: [],
    notes: plan.notes,
  };
  const items = [
    ...plan.segments.map((s) => ({ ref: ref(project, 'segment', s.name), revision: s.revision, segment: true })),
    ...plan.flags.map((f) => ({ ref: ref(project, f.flagType, f.name), revision: f.revision, segment: false })),
  ];
  for (const { ref: item, revision, segment } of items) {
    await refuseOtherType(admin, item);
    const fields = { Name: item.name, Type: storedFlagType(item.flagType), FormatVersion: 2, ...revision };
    const context = { mode: 'input' as const, flagType: item.flagType, name: item.name };
    const checked = segment
      ? parseSegmentRevision(fields, context)
      : parseRevision({ ...fields, Salt: item.name }, context);
    const exists = (await admin.store.latest('FLAG', item)) !== undefined;
    if (!exists) {
      const metadata = parseFlagMetadata({ Name: item.name, Type: storedFlagType(item.flagType) }, context);
      rows.push({ kind: 'FLAG', ref: item, fields: metadata });
    }
    rows.push({ kind: 'REVISION', ref: item, fields: checked });
    const action = exists ? 'update' : 'add';
    if (segment) outcome.segments.push({ name: item.name, action });
    else outcome.flags.push({ name: item.name, flagType: item.flagType, action });
  }
  if (options.dryRun) return outcome;
  if (!admin.store.capabilities.atomicBatch) {
    throw new InvalidInputError(
      `the ${admin.store.engine} store cannot write a batch all at once, and an import writes all its flags or none`,
      { field: 'VEXIL_STORE', hint: 'import into a store with atomic batches (sqlite, postgres or memory)' },
    );
  }
  await admin.store.append(rows);
  return outcome;
}

function ref(project: string, flagType: string, name: string): FlagRef {
  return { project, flagType: flagType as FlagRef['flagType'], name };
}

/** A flag's type is part of its row keys: the same name with another type is another flag, and OFREP finds flags by name. */
async function refuseOtherType(admin: FlagAdmin, item: FlagRef): Promise<void> {
  for (const other of FLAG_TYPES) {
    if (other === item.flagType) continue;
    if (await admin.store.latest('FLAG', { ...item, flagType: other })) {
      throw new InvalidInputError(
        `${item.name} exists in project ${item.project} as a ${other} flag; the flagd file makes it a ${item.flagType}: a flag's type cannot change, so nothing was written`,
        { field: 'file', hint: `rename the flag in the file, or archive the ${other} flag first` },
      );
    }
  }
}

/** The outcome for people: one line per flag and segment, then the notes. */
export function formatImport(outcome: FlagdImportOutcome): string {
  const verb = outcome.dryRun ? 'would import' : 'imported';
  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const lines = [
    `${verb} ${count(outcome.flags.length, 'flag')} and ${count(outcome.segments.length, 'segment')} into project ${outcome.project} from ${outcome.source}${outcome.dryRun ? ' (dry run: nothing written)' : ''}:`,
  ];
  for (const s of outcome.segments) lines.push(`  ${s.action.padEnd(6)} segment  ${s.name}`);
  for (const f of outcome.flags) lines.push(`  ${f.action.padEnd(6)} ${f.flagType.padEnd(8)} ${f.name}`);
  if (outcome.notes.length > 0) {
    lines.push('where Vexil will answer differently from flagd:');
    for (const note of outcome.notes) lines.push(`  - ${note}`);
  }
  return lines.join('\n');
}
