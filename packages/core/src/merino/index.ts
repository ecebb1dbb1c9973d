/** `@vexil/core/merino`: Mozilla Merino's in-app flag decision, for `@vexil/sdk`'s `FeatureFlags`. */
export {
  MERINO_SCHEMES,
  type MerinoScheme,
  merinoBucketingId,
  merinoDecision,
  merinoDecisionForKey,
} from './decision.js';
