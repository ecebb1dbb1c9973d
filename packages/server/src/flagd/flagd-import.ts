import type { FlagAdmin } from '../flag-admin.js';
import type { BatchAction } from '../flag-batch.js';
import type { FlagdImportPlan } from './flagd-plan.js';

/** What an import did (or, with dryRun, would do), item by item. */
export interface FlagdImportOutcome {
  project: string;
  source: string;
  dryRun: boolean;
  /** `add`: a new flag (its FLAG row and first revision); `update`: a new revision of an existing flag. */
  flags: { name: string; flagType: string; action: BatchAction }[];
  segments: { name: string; action: BatchAction }[];
  notes: string[];
}

/**
 * Writes a plan into `project` as one batch (FlagAdmin.writeBatch): every flag and
 * segment is checked first, against the store too (a flag's type is fixed, so a key
 * that exists with another type is refused); flags and segments that exist get a new
 * revision; then all rows go in one atomic batch, or none do.
 */
export async function importFlagdPlan(
  admin: FlagAdmin,
  project: string,
  plan: FlagdImportPlan,
  options: { source: string; dryRun: boolean },
): Promise<FlagdImportOutcome> {
  const { flags, segments } = await admin.writeBatch({
    project,
    segments: plan.segments.map((segment) => ({ name: segment.name, segment: segment.revision })),
    flags: plan.flags.map((flag) => ({ name: flag.name, flagType: flag.flagType, revision: flag.revision })),
    existing: 'revise',
    dryRun: options.dryRun,
    source: 'the flagd file',
  });
  return { project, source: options.source, dryRun: options.dryRun, flags, segments, notes: plan.notes };
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
