/** Anything with Merino-style decisions: a FeatureFlags. */
export interface HasDecisions {
  readonly decisions: Readonly<Record<string, boolean>>;
}

export const FEATURE_FLAG_TAG_PREFIX = 'feature_flag';

/**
 * The decisions made so far as Merino's metric tags: `feature_flag.<name>` → `'1'` or
 * `'0'` (Merino sends `int(decision)`). In DogStatsD form that is `feature_flag.new_ui:1`.
 */
export function featureFlagTags(featureFlags: HasDecisions): Record<string, '1' | '0'> {
  const tags: Record<string, '1' | '0'> = {};
  for (const name of Object.keys(featureFlags.decisions)) {
    tags[`${FEATURE_FLAG_TAG_PREFIX}.${name}`] = featureFlags.decisions[name] ? '1' : '0';
  }
  return tags;
}
