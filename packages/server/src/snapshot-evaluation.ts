import {
  type CompiledRevision,
  compileRevision,
  type EvaluationResult,
  isVexilError,
  type Revision,
  type VexilError,
} from '@vexil/core';
import type { SnapshotFlag } from './project-snapshots.js';

/** OpenFeature's resolution reasons, as OFREP answers them. */
export type EvaluationReason = 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'STATIC';

export interface SnapshotEvaluation extends EvaluationResult {
  reason: EvaluationReason;
}

/** What a snapshot flag's revision compiles to: ready to evaluate, archived, or why it does not validate. */
export type CompiledFlag = { compiled: CompiledRevision } | { archived: true } | { invalid: VexilError };

// Snapshot flags are immutable (a change makes a new one), so each is compiled once.
const compiledFlags = new WeakMap<SnapshotFlag, CompiledFlag>();

/** Checks a snapshot flag's revision as stored data (as /get-feature-flag does) and prepares it. */
export function compileFlag(flag: SnapshotFlag): CompiledFlag {
  let compiled = compiledFlags.get(flag);
  if (compiled === undefined) {
    try {
      const revision = compileRevision(flag.revision, { flagType: flag.flagType, name: flag.name });
      compiled = revision.archived ? { archived: true } : { compiled: revision };
    } catch (error) {
      if (!isVexilError(error)) throw error;
      compiled = { invalid: error };
    }
    compiledFlags.set(flag, compiled);
  }
  return compiled;
}

/**
 * The rule of /get-feature-flag on a compiled revision, with the OpenFeature reason:
 * an override list match is TARGETING_MATCH, a percentage rollout SPLIT, the control
 * value DEFAULT — or STATIC when no treatment can give anybody its value.
 */
export function evaluateCompiled(compiled: CompiledRevision, instanceId: string): SnapshotEvaluation {
  const { value, group } = compiled.evaluate(instanceId);
  return { value, group, reason: reasonFor(group, compiled.revision) };
}

function reasonFor(group: string, revision: Revision): EvaluationReason {
  if (group.startsWith('override')) return 'TARGETING_MATCH';
  if (group.startsWith('treatment')) return 'SPLIT';
  const targets = revision.Treatments.some((t) => t.PercentRollout > 0 || t.OverrideList.length > 0);
  return targets ? 'DEFAULT' : 'STATIC';
}
