import {
  type CompiledFlag,
  type CompiledRevision,
  type CompiledSegment,
  type CompiledSegmentEntry,
  compileFlag,
  compileSegmentFlag,
  type FlagType,
  invalidRevisionMessage,
  type ProjectSnapshotFlag,
} from '@vexil/core';
import { VexilClientError } from './client-errors.js';

/** A snapshot flag (or segment) checked and compiled once, when it arrives: what every get looks up. */
export interface FlagEntry {
  readonly flag: ProjectSnapshotFlag;
  readonly name: string;
  readonly flagType: FlagType;
  readonly wtime: string;
  /** Ready to evaluate; undefined when the flag is archived, is a segment, or its revision does not validate. */
  readonly compiled: CompiledRevision | undefined;
  /** A segment's membership test; undefined for flags and for a segment that does not validate. */
  readonly segment: CompiledSegment | undefined;
  /** Why the flag answers the default (archived, or a revision that does not validate). */
  readonly problem: VexilClientError | undefined;
}

/** Checks a snapshot flag's (or segment's) revision as the service does, and compiles it. */
export function compileEntry(flag: ProjectSnapshotFlag): FlagEntry {
  const base = { flag, name: flag.name, flagType: flag.flagType, wtime: flag.wtime };
  let outcome: CompiledFlag | CompiledSegmentEntry | { state: 'failed'; error: unknown };
  try {
    outcome = flag.flagType === 'segment' ? compileSegmentFlag(flag) : compileFlag(flag);
  } catch (error) {
    // Not one of Vexil's validation errors: still only this flag answers its default.
    outcome = { state: 'failed', error };
  }
  switch (outcome.state) {
    case 'compiled':
      return { ...base, compiled: outcome.compiled, segment: undefined, problem: undefined };
    case 'segment':
      return { ...base, compiled: undefined, segment: outcome.segment, problem: undefined };
    case 'archived': {
      const problem = new VexilClientError(
        'FLAG_NOT_FOUND',
        `${flag.flagType} flag ${flag.name} is archived: it answers the default`,
        { operation: 'evaluate', flagName: flag.name },
      );
      return { ...base, compiled: undefined, segment: undefined, problem };
    }
    default: {
      const error = outcome.error;
      const cause = error instanceof Error ? error : new Error(String(error));
      const what = invalidRevisionMessage(flag, cause);
      const problem = new VexilClientError(
        'PARSE_ERROR',
        flag.flagType === 'segment'
          ? `${what}; conditions naming segment ${flag.name} do not hold until a revision fixes it`
          : `${what}; it answers the default until a revision fixes it`,
        { operation: 'evaluate', flagName: flag.name, cause: error },
      );
      return { ...base, compiled: undefined, segment: undefined, problem };
    }
  }
}
