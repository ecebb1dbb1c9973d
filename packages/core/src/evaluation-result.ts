import type { ResultValue, RolloutGroup } from './types.js';

/** Why an evaluation gave its value: OpenFeature's resolution reasons, as OFREP answers them. */
export const EVALUATION_REASONS = Object.freeze(['STATIC', 'DEFAULT', 'TARGETING_MATCH', 'SPLIT', 'DISABLED'] as const);
export type EvaluationReason = (typeof EVALUATION_REASONS)[number];

/** What an evaluation gave, in its JSON form: the runbook's `{value, group}`. */
export interface EvaluationResult {
  /** The value, or null: "no value, use the caller's default". */
  readonly value: ResultValue;
  readonly group: RolloutGroup;
}

/** What `CompiledRevision.evaluate` and `evaluateContext` return: the result, and why. */
export interface EvaluationDetails extends EvaluationResult {
  /** Not enumerable: the result's JSON form stays the runbook's `{value, group}`. */
  readonly reason: EvaluationReason;
  /**
   * The value's name in the revision's `Variants`; without `Variants` the rollout group;
   * undefined for a null value. Not enumerable, like `reason`.
   */
  readonly variant: string | undefined;
}

/**
 * A frozen result, made once per revision and shared by every evaluation that gives it.
 * `value` and `group` are its own enumerable fields, as they always were, so results
 * compare, spread and serialize as before; `reason` and `variant` are read by name.
 */
export function evaluationResult(
  value: ResultValue,
  group: RolloutGroup,
  reason: EvaluationReason,
  variant: string | undefined,
): EvaluationDetails {
  const result = { value, group };
  Object.defineProperty(result, 'reason', { value: reason, enumerable: false });
  Object.defineProperty(result, 'variant', { value: variant, enumerable: false });
  return Object.freeze(result) as EvaluationDetails;
}
