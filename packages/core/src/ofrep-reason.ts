import type { EvaluationReason } from './evaluation-result.js';
import type { Revision, RolloutGroup } from './types.js';

/** OpenFeature's resolution reasons for a flag that could be evaluated, as OFREP answers them. */
export type OfrepReason = EvaluationReason;

/**
 * Whether nothing in the revision can give anybody a value other than the control
 * value: no override list, no treatment above 0 %, no rules. (`CompiledRevision` has the
 * same answer as `targetsNobody`.)
 */
export function targetsNobody(revision: Revision): boolean {
  if (revision.Rules !== undefined && revision.Rules.length !== 0) return false;
  return !revision.Treatments.some((t) => t.PercentRollout > 0 || t.OverrideList.length > 0);
}

/**
 * The OpenFeature reason of an evaluation, from its rollout group: an override list or
 * rule match is TARGETING_MATCH, a percentage rollout or a rule's split SPLIT, a disabled
 * flag DISABLED, the control value DEFAULT — or STATIC when the revision targets nobody
 * (see `targetsNobody`). An evaluation result also carries its `reason`.
 */
export function ofrepReason(group: RolloutGroup, revisionTargetsNobody: boolean): OfrepReason {
  if (group.startsWith('override')) return 'TARGETING_MATCH';
  if (group.startsWith('treatment')) return 'SPLIT';
  if (group.startsWith('rule-')) return group.includes('-split-') ? 'SPLIT' : 'TARGETING_MATCH';
  if (group === 'disabled') return 'DISABLED';
  return revisionTargetsNobody ? 'STATIC' : 'DEFAULT';
}
