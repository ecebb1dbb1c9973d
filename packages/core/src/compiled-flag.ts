import { isVexilError, type VexilError } from './errors.js';
import { type CompiledRevision, compileRevision } from './evaluate.js';
import { targetsNobody } from './ofrep-reason.js';
import type { FlagType } from './types.js';

/** What a flag's newest revision is to an evaluator: checked once, as stored data. */
export type CompiledFlag =
  /** Ready to evaluate; `targetsNobody`: every answer is the control value (OpenFeature's STATIC). */
  | { readonly state: 'compiled'; readonly compiled: CompiledRevision; readonly targetsNobody: boolean }
  /** Archived: answers as if the flag had no data (its `compiled.evaluate` throws EmptyFlagDataException). */
  | { readonly state: 'archived'; readonly compiled: CompiledRevision }
  /** The revision does not validate: `error` says where and why. */
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
    compiled = compileRevision(flag.revision, { flagType: flag.flagType, name: flag.name });
  } catch (error) {
    if (!isVexilError(error)) throw error;
    return { state: 'invalid', error };
  }
  if (compiled.archived) return { state: 'archived', compiled };
  return { state: 'compiled', compiled, targetsNobody: targetsNobody(compiled.revision) };
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
