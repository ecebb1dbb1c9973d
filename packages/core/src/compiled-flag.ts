import { isVexilError, type VexilError } from './errors.js';
import { type CompiledRevision, compileRevision } from './evaluate.js';
import type { CompiledSegment, SegmentLookup } from './evaluation-context.js';
import { compileSegment } from './segments.js';
import type { FlagType, SegmentRevision } from './types.js';

/** What a flag's newest revision is to an evaluator: checked once, as stored data. */
export type CompiledFlag =
  /** Ready to evaluate; `targetsNobody`: every answer is the control value (OpenFeature's STATIC). */
  | { readonly state: 'compiled'; readonly compiled: CompiledRevision; readonly targetsNobody: boolean }
  /** Archived: answers as if the flag had no data (its `compiled.evaluate` throws EmptyFlagDataException). */
  | { readonly state: 'archived'; readonly compiled: CompiledRevision }
  /** The revision does not validate: `error` says where and why. */
  | { readonly state: 'invalid'; readonly error: VexilError };

/**
 * What a segment's newest revision is to an evaluator. An archived segment compiles
 * too: it is known, with no members (so `not_in_segment` holds for it).
 */
export type CompiledSegmentEntry =
  | { readonly state: 'segment'; readonly segment: CompiledSegment & { readonly revision: SegmentRevision } }
  /** The revision does not validate: rules that name the segment treat it as unknown. */
  | { readonly state: 'invalid'; readonly error: VexilError };

/** A flag with its newest revision as stored: a snapshot flag, a change event, or a store row's parts. */
export interface StoredFlagRevision {
  readonly flagType: FlagType;
  readonly name: string;
  readonly revision: unknown;
}

/**
 * Checks a flag's newest revision as stored data (rows may come from other tools:
 * the runbook system's 400s, or a 500 ValidationError) against the flag's type and
 * name, and prepares it for evaluation. Errors other than Vexil's are thrown.
 */
export function compileFlag(flag: StoredFlagRevision): CompiledFlag {
  let compiled: CompiledRevision;
  try {
    // A segment's row (flag type segment) is refused here, naming compileSegmentFlag's job: it has no value.
    compiled = compileRevision(flag.revision, { flagType: flag.flagType, name: flag.name });
  } catch (error) {
    if (!isVexilError(error)) throw error;
    return { state: 'invalid', error };
  }
  if (compiled.archived) return { state: 'archived', compiled };
  return { state: 'compiled', compiled, targetsNobody: compiled.targetsNobody };
}

/**
 * `compileFlag` for an entry of flag type `segment` (a snapshot's, a change event's, a
 * store's): its newest revision checked as stored data and compiled for membership.
 * Errors other than Vexil's are thrown.
 */
export function compileSegmentFlag(flag: StoredFlagRevision): CompiledSegmentEntry {
  try {
    return { state: 'segment', segment: compileSegment(flag.revision, { flagType: flag.flagType, name: flag.name }) };
  } catch (error) {
    if (!isVexilError(error)) throw error;
    return { state: 'invalid', error };
  }
}

/**
 * A SegmentLookup over a project's segments: the valid ones among `entries` (what
 * `compileSegmentFlag` made of each segment's newest revision). A segment whose newest revision
 * does not validate is unknown, so conditions naming it do not hold.
 */
export function segmentLookupOf(entries: Iterable<CompiledSegmentEntry>): SegmentLookup {
  const segments = new Map<string, CompiledSegment>();
  for (const entry of entries) if (entry.state === 'segment') segments.set(entry.segment.name, entry.segment);
  return (name) => segments.get(name);
}

/**
 * Why a flag whose newest revision does not validate cannot be evaluated, naming the
 * flag, the revision time and the field at fault; callers add what happens meanwhile.
 */
export function invalidRevisionMessage(
  flag: { readonly flagType: FlagType; readonly name: string; readonly wtime: string },
  error: Error,
): string {
  const field = isVexilError(error) && error.field !== undefined ? ` at ${error.field}` : '';
  return `the newest revision of ${flag.flagType} flag ${flag.name} (${flag.wtime}) does not validate${field}: ${error.message}`;
}
