import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FeatureFlags, featureFlagLabelName, featureFlagLabelNames, featureFlagLabels } from '../src/index.js';

describe('prom-client labels from decisions', () => {
  it('labels a real prom-client metric with the flags it declared', async () => {
    const registry = new Registry();
    const declared = ['new_ui', 'test-perc-enabled'];
    const requests = new Counter({
      name: 'suggest_requests_total',
      help: 'Suggest requests',
      labelNames: ['route', ...featureFlagLabelNames(declared)],
      registers: [registry],
    });

    const on = new FeatureFlags({ new_ui: { enabled: 1 }, 'test-perc-enabled': { enabled: 0 }, other: { enabled: 1 } });
    on.isEnabled('new_ui');
    on.isEnabled('test-perc-enabled');
    on.isEnabled('other'); // decided but not declared: left out, or prom-client would throw
    requests.inc({ route: '/suggest', ...featureFlagLabels(on, declared) });

    const fresh = new FeatureFlags({ new_ui: { enabled: 0 } });
    fresh.isEnabled('new_ui');
    requests.inc({ route: '/suggest', ...featureFlagLabels(fresh, declared) });

    const text = await registry.metrics();
    expect(text).toContain(
      'suggest_requests_total{route="/suggest",feature_flag_new_ui="1",feature_flag_test_perc_enabled="0"} 1',
    );
    expect(text).toContain('suggest_requests_total{route="/suggest",feature_flag_new_ui="0"} 1');
  });

  it('makes valid label names and labels every decision when no names are given', () => {
    expect(featureFlagLabelName('test-perc-enabled')).toBe('feature_flag_test_perc_enabled');
    expect(featureFlagLabelName('a.b c')).toBe('feature_flag_a_b_c');
    expect(featureFlagLabelNames(['a-b', 'a_b'])).toEqual(['feature_flag_a_b']);
    const flags = new FeatureFlags({ x: { enabled: 1 } });
    flags.isEnabled('x');
    flags.isEnabled('y');
    expect(featureFlagLabels(flags)).toEqual({ feature_flag_x: '1', feature_flag_y: '0' });
  });
});
