import type { FlagRef } from '@vexil/core';
import type { NewRow } from '../src/index.js';

/** A small feature-flag revision row for the engine-specific tests. */
export function revision(ref: FlagRef, comment: string): NewRow {
  return {
    kind: 'REVISION',
    ref,
    fields: {
      Name: ref.name,
      Type: 'FEATURE',
      FormatVersion: 1,
      ControlValue: false,
      Treatments: [],
      Comment: comment,
    },
  };
}

/** A feature flag's metadata row. */
export function flag(ref: FlagRef, description = 'a flag'): NewRow {
  return { kind: 'FLAG', ref, fields: { Name: ref.name, Type: 'FEATURE', Description: description } };
}

/**
 * Revisions r1, r2… of `busy` up to `count - 1`, each followed by o1, o2… of `other`,
 * in batches of `pairs` pairs: a long history interleaved with another flag's.
 */
export function interleavedHistory(busy: FlagRef, other: FlagRef, count: number, pairs: number): NewRow[][] {
  const batches: NewRow[][] = [];
  for (let start = 1; start < count; start += pairs) {
    const batch: NewRow[] = [];
    for (let i = start; i < Math.min(start + pairs, count); i++)
      batch.push(revision(busy, `r${i}`), revision(other, `o${i}`));
    batches.push(batch);
  }
  return batches;
}

/** The runbook system's operation-log columns, in its order. */
export const LOG_COLUMNS = [
  'RequestID',
  'Name',
  'CreatedTimestamp',
  'Type',
  'InstanceID',
  'AssignedValue',
  'AssignedGroup',
  'CacheFlag',
] as const;
