import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram } from '../src/hot-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVED = [0.0005, 0.001, 0.002, 0.05, 0.05, 0.7, 3, 0.01];

describe('hot-path metrics', () => {
  it('expose the same Prometheus text as prom-client given the same counts and observations', async () => {
    const theirs = new Registry();
    const counter = new Counter({ name: 'c_total', help: 'c', labelNames: ['route', 'status'], registers: [theirs] });
    const histogram = new Histogram({
      name: 'h_seconds',
      help: 'h',
      labelNames: ['route'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const ours = new Registry();
    const hotCounter = new HotCounter<'route' | 'status'>('c_total', 'c', ours);
    const hotHistogram = new HotHistogram<'route'>('h_seconds', 'h', BUCKETS, ours);

    const ok = hotCounter.child({ route: '/a', status: '200' });
    const bad = hotCounter.child({ route: '/a', status: '400' });
    hotCounter.child({ route: '/never', status: '200' });
    for (let i = 0; i < 5; i++) ok.inc();
    bad.inc(2);
    counter.inc({ route: '/a', status: '200' }, 5);
    counter.inc({ route: '/a', status: '400' }, 2);

    const a = hotHistogram.child({ route: '/a' });
    const b = hotHistogram.child({ route: '/b' });
    for (const value of OBSERVED) {
      a.observe(value);
      histogram.observe({ route: '/a' }, value);
    }
    b.observe(0.2);
    histogram.observe({ route: '/b' }, 0.2);

    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });

  it('reset to zero, and a label set never counted does not show', async () => {
    const registry = new Registry();
    const counter = new HotCounter<'cache'>('lookups_total', 'lookups', registry);
    const hit = counter.child({ cache: 'hash' });
    hit.inc();
    expect(await registry.metrics()).toContain('lookups_total{cache="hash"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('cache="hash"');
  });
});
