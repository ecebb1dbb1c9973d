import {
  type CompiledFlag,
  type CompiledRevision,
  compileFlag,
  type FlagType,
  invalidRevisionMessage,
  type ProjectSnapshotFlag,
} from '@vexil/core';
import { VexilClientError } from './client-errors.js';

/** A snapshot flag checked and compiled once, when it arrives: what every get looks up. */
export interface FlagEntry {
  readonly flag: ProjectSnapshotFlag;
  readonly name: string;
  readonly flagType: FlagType;
  readonly wtime: string;
  /** Ready to evaluate; undefined when the flag is archived or its revision does not validate. */
  readonly compiled: CompiledRevision | undefined;
  /** Why the flag answers the default (archived, or a revision that does not validate). */
  readonly problem: VexilClientError | undefined;
  /** No treatment gives anybody its value: every answer is the control value (OpenFeature's STATIC). */
  readonly isStatic: boolean;
}

/** Checks a snapshot flag's revision as the service does for /get-feature-flag, and compiles it. */
export function compileEntry(flag: ProjectSnapshotFlag): FlagEntry {
  const base = { flag, name: flag.name, flagType: flag.flagType, wtime: flag.wtime };
  let outcome: CompiledFlag | { state: 'failed'; error: unknown };
  try {
    outcome = compileFlag(flag);
  } catch (error) {
    // Not one of Vexil's validation errors: still only this flag answers its default.
    outcome = { state: 'failed', error };
  }
  switch (outcome.state) {
    case 'compiled':
      return { ...base, compiled: outcome.compiled, problem: undefined, isStatic: outcome.targetsNobody };
    case 'archived': {
      const problem = new VexilClientError(
        'FLAG_NOT_FOUND',
        `${flag.flagType} flag ${flag.name} is archived: it answers the default`,
        { operation: 'evaluate', flagName: flag.name },
      );
      return { ...base, compiled: undefined, problem, isStatic: false };
    }
    default: {
      const error = outcome.error;
      const cause = error instanceof Error ? error : new Error(String(error));
      const problem = new VexilClientError(
        'PARSE_ERROR',
        `${invalidRevisionMessage(flag, cause)}; it answers the default until a revision fixes it`,
        { operation: 'evaluate', flagName: flag.name, cause: error },
      );
      return { ...base, compiled: undefined, problem, isStatic: false };
    }
  }
}
