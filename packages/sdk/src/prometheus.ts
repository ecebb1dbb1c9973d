import type { HasDecisions } from './metric-tags.js';

/**
 * The Prometheus label of a flag: `feature_flag_<name>`, every character outside
 * `[a-zA-Z0-9_]` replaced by `_` — label names cannot hold the `.` of Merino's
 * StatsD tags (`feature_flag.new_ui`) or the `-` of names like `test-perc-enabled`.
 */
export function featureFlagLabelName(flagName: string): string {
  return `feature_flag_${flagName.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/** Label names to declare on a prom-client metric (`labelNames`) for these flags. */
export function featureFlagLabelNames(flagNames: Iterable<string>): string[] {
  return [...new Set([...flagNames].map(featureFlagLabelName))];
}

/**
 * The decisions made so far as prom-client labels, `{ feature_flag_new_ui: '1' }`
 * (`'0'` when off). prom-client refuses labels a metric did not declare, so pass the
 * flag names the metric was declared with: other decisions are left out, and so are
 * declared flags not checked yet (their label stays empty). Each flag label doubles
 * the series of a metric at most: label only the flags you want to compare.
 *
 * ```ts
 * const flags = ['new_ui'];
 * const requests = new Counter({ name: 'requests_total', help: '…', labelNames: ['route', ...featureFlagLabelNames(flags)] });
 * requests.inc({ route: '/suggest', ...featureFlagLabels(request.featureFlags, flags) });
 * ```
 */
export function featureFlagLabels(featureFlags: HasDecisions, flagNames?: Iterable<string>): Record<string, '1' | '0'> {
  const labels: Record<string, '1' | '0'> = {};
  const names = flagNames === undefined ? Object.keys(featureFlags.decisions) : flagNames;
  for (const name of names) {
    const decision = featureFlags.decisions[name];
    if (decision !== undefined) labels[featureFlagLabelName(name)] = decision ? '1' : '0';
  }
  return labels;
}
