import type { Revision, RolloutGroup } from './types.js';

/** OpenFeature's resolution reasons for a flag that could be evaluated, as OFREP answers them. */
export type OfrepReason = 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'STATIC';

/**
 * Whether no treatment of the revision can give anybody its value (no percentage,
 * no override list): every answer is the control value.
 */
export function targetsNobody(revision: Revision): boolean {
  return !revision.Treatments.some((t) => t.PercentRollout > 0 || t.OverrideList.length > 0);
}

/**
 * The OpenFeature reason of an evaluation, from its rollout group: an override list
 * match is TARGETING_MATCH, a percentage rollout SPLIT, the control value DEFAULT —
 * or STATIC when the revision targets nobody (see `targetsNobody`).
 */
export function ofrepReason(group: RolloutGroup, revisionTargetsNobody: boolean): OfrepReason {
  if (group.startsWith('override')) return 'TARGETING_MATCH';
  if (group.startsWith('treatment')) return 'SPLIT';
  return revisionTargetsNobody ? 'STATIC' : 'DEFAULT';
}
