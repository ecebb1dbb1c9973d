import type { HasDecisions } from './metric-tags.js';

/**
 * The part of an OpenTelemetry `Span` (@opentelemetry/api) used here, so the SDK does
 * not need @opentelemetry/api installed; a real Span fits.
 */
export interface SpanLike {
  addEvent(name: string, attributes?: Record<string, string | boolean>): unknown;
}

/**
 * OpenTelemetry's feature-flag semantic conventions as of semconv v1.34.0 (where
 * `feature_flag.result.value` was added; `feature_flag.provider.name` is the v1.33.0
 * name of the older `feature_flag.provider_name`, and `feature_flag.result.variant`
 * replaced `feature_flag.variant` in v1.32.0): one `feature_flag.evaluation` event per
 * evaluation, recorded on the span it happened in.
 */
export const FEATURE_FLAG_EVALUATION_EVENT = 'feature_flag.evaluation';
export const ATTR_FEATURE_FLAG_KEY = 'feature_flag.key';
export const ATTR_FEATURE_FLAG_RESULT_VALUE = 'feature_flag.result.value';
export const ATTR_FEATURE_FLAG_RESULT_VARIANT = 'feature_flag.result.variant';
export const ATTR_FEATURE_FLAG_PROVIDER_NAME = 'feature_flag.provider.name';

export interface FeatureFlagEventOptions {
  /** `feature_flag.provider.name`. Default `Vexil`. */
  providerName?: string | undefined;
}

/**
 * Adds a `feature_flag.evaluation` event to `span` for one decision, with
 * `feature_flag.key`, `feature_flag.result.value` (the boolean),
 * `feature_flag.result.variant` (`on` / `off`) and `feature_flag.provider.name`.
 * Use it as FeatureFlags' `onDecision` hook to record each check as it happens.
 */
export function recordFeatureFlagEvaluation(
  span: SpanLike,
  flagName: string,
  decision: boolean,
  options: FeatureFlagEventOptions = {},
): void {
  span.addEvent(FEATURE_FLAG_EVALUATION_EVENT, {
    [ATTR_FEATURE_FLAG_KEY]: flagName,
    [ATTR_FEATURE_FLAG_RESULT_VALUE]: decision,
    [ATTR_FEATURE_FLAG_RESULT_VARIANT]: decision ? 'on' : 'off',
    [ATTR_FEATURE_FLAG_PROVIDER_NAME]: options.providerName ?? 'Vexil',
  });
}

/** One `feature_flag.evaluation` event per decision made so far — call it once, when the request ends. */
export function recordFeatureFlagEvaluations(
  span: SpanLike,
  featureFlags: HasDecisions,
  options: FeatureFlagEventOptions = {},
): void {
  for (const name of Object.keys(featureFlags.decisions)) {
    recordFeatureFlagEvaluation(span, name, featureFlags.decisions[name] === true, options);
  }
}
