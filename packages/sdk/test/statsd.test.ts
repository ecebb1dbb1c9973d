import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { StatsD } from 'hot-shots';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeatureFlags, featureFlagsPlugin, featureFlagTags, withFeatureFlagTags } from '../src/index.js';
import { FLAGS } from './http-helpers.js';

/** A StatsD listener: a UDP socket on 127.0.0.1 that keeps every line it receives. */
class Listener {
  readonly lines: string[] = [];
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('message', (message) => {
      this.lines.push(...message.toString('utf8').split('\n').filter(Boolean));
      for (const waiter of [...this.waiters]) {
        if (this.lines.length >= waiter.count) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
  }

  static async open(): Promise<Listener> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new Listener(socket);
  }

  get port(): number {
    return (this.socket.address() as AddressInfo).port;
  }

  /** Resolves once `count` lines have arrived (the test's timeout bounds the wait). */
  received(count: number): Promise<string[]> {
    if (this.lines.length >= count) return Promise.resolve(this.lines);
    return new Promise((resolve) => this.waiters.push({ count, resolve: () => resolve(this.lines) }));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

describe('hot-shots wrapper: decisions as DogStatsD tags, received by a real UDP listener', () => {
  let listener: Listener;
  let statsd: StatsD;

  beforeEach(async () => {
    listener = await Listener.open();
    statsd = new StatsD({ host: '127.0.0.1', port: listener.port, prefix: 'merino.', globalTags: { app: 'test' } });
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => statsd.close(() => resolve()));
    await listener.close();
  });

  it('tags every metric emitted while handling a request with the decisions made so far', async () => {
    const app = Fastify();
    await app.register(featureFlagsPlugin, { flags: FLAGS });
    app.addHook('onResponse', async (request) => {
      // Emitted after the handler: carries every decision of the request.
      withFeatureFlagTags(statsd, request.featureFlags).timing('request.duration', 12);
    });
    app.get('/suggest', async (request) => {
      const metrics = withFeatureFlagTags(statsd, request.featureFlags);
      metrics.increment('suggest.before_checks');
      const half = request.featureFlags.isEnabled('half');
      metrics.increment('suggest.after_one_check');
      request.featureFlags.isEnabled('most');
      metrics.gauge('suggest.results', 3, ['route:suggest']);
      return { half };
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await fetch(`${base}/suggest?sid=000`);
      // Loopback UDP keeps order in practice; sorting keeps the test honest if it does not.
      const lines = await listener.received(4);
      expect([...lines].sort()).toEqual(
        [
          'merino.suggest.before_checks:1|c|#app:test',
          'merino.suggest.after_one_check:1|c|#app:test,feature_flag.half:1',
          'merino.suggest.results:3|g|#app:test,feature_flag.half:1,feature_flag.most:1,route:suggest',
          'merino.request.duration:12|ms|#app:test,feature_flag.half:1,feature_flag.most:1',
        ].sort(),
      );

      listener.lines.length = 0;
      await fetch(`${base}/suggest?sid=fff`);
      expect(await listener.received(4)).toContain(
        'merino.request.duration:12|ms|#app:test,feature_flag.half:0,feature_flag.most:0',
      );
    } finally {
      await app.close();
    }
  });

  it("keeps hot-shots' argument forms for every method, and tags given in the call win", async () => {
    const flags = new FeatureFlags({ on: { enabled: 1 }, off: { enabled: 0 } });
    flags.isEnabled('on');
    flags.isEnabled('off');
    const metrics = withFeatureFlagTags(statsd, flags);
    const sent = new Promise<unknown>((resolve) => metrics.increment('with_callback', 2, resolve));
    metrics.increment('tags_only', { team: 'search' });
    metrics.decrement('down');
    metrics.histogram('h', 5, 1, { 'feature_flag.on': 'forced' });
    metrics.distribution('d', 7, ['feature_flag.off:x', 'bare']);
    metrics.timing('t', 3, { kind: 'x' });
    metrics.gauge('g', 1.5);
    await sent;
    const lines = await listener.received(7);
    expect([...lines].sort()).toEqual(
      [
        'merino.with_callback:2|c|#app:test,feature_flag.on:1,feature_flag.off:0',
        'merino.tags_only:1|c|#app:test,feature_flag.on:1,feature_flag.off:0,team:search',
        'merino.down:-1|c|#app:test,feature_flag.on:1,feature_flag.off:0',
        'merino.h:5|h|#app:test,feature_flag.on:forced,feature_flag.off:0',
        'merino.d:7|d|#app:test,feature_flag.on:1,feature_flag.off:x,bare',
        'merino.t:3|ms|#app:test,feature_flag.on:1,feature_flag.off:0,kind:x',
        'merino.g:1.5|g|#app:test,feature_flag.on:1,feature_flag.off:0',
      ].sort(),
    );
  });

  it('reads the FeatureFlags through a function, e.g. one per request from a context store', async () => {
    let current: FeatureFlags | undefined;
    const metrics = withFeatureFlagTags(statsd, () => current);
    metrics.increment('outside_request');
    current = new FeatureFlags({ x: { enabled: 1 } });
    current.isEnabled('x');
    metrics.increment('inside_request');
    expect(await listener.received(2)).toEqual([
      'merino.outside_request:1|c|#app:test',
      'merino.inside_request:1|c|#app:test,feature_flag.x:1',
    ]);
  });

  it("makes Merino's tag map: feature_flag.<name> → 1 or 0", () => {
    const flags = new FeatureFlags({ a: { enabled: 1 }, b: { enabled: 0 } });
    flags.isEnabled('a');
    flags.isEnabled('b');
    flags.isEnabled('unknown');
    expect(featureFlagTags(flags)).toEqual({
      'feature_flag.a': '1',
      'feature_flag.b': '0',
      'feature_flag.unknown': '0',
    });
  });
});
