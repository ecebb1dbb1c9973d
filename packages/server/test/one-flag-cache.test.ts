import type { FlagRef } from '@vexil/core';
import { MemoryStore } from '@vexil/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FlagAdmin } from '../src/flag-admin.js';
import { FlagCache } from '../src/flag-cache.js';
import { FlagEvaluator } from '../src/flag-evaluator.js';
import { ProjectSnapshots } from '../src/project-snapshots.js';
import { checkout, flagUrl, flushLog, provider, seedFlags, serviceWithFlags } from './service-harness.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Counts the store's reads of each flag's newest revision (and its project listings). */
function countReads(store: MemoryStore) {
  const revisions = new Map<string, number>();
  const latest = store.latest.bind(store);
  vi.spyOn(store, 'latest').mockImplementation((kind, ref) => {
    if (kind === 'REVISION') {
      const key = `${ref.flagType}#${ref.name}`;
      revisions.set(key, (revisions.get(key) ?? 0) + 1);
    }
    return latest(kind, ref);
  });
  const listFlags = vi.spyOn(store, 'listFlags');
  return {
    of: (ref: FlagRef) => revisions.get(`${ref.flagType}#${ref.name}`) ?? 0,
    listings: () => listFlags.mock.calls.length,
  };
}

const ofrep = (name: string, targetingKey: string) => ({
  method: 'POST' as const,
  url: `/ofrep/v1/evaluate/flags/${name}`,
  payload: { context: { targetingKey, project_name: 'shop' } },
});

describe('one cache of compiled flags', () => {
  it('serves /get-feature-flag, OFREP and the snapshot from one store read of a flag', async () => {
    const store = new MemoryStore();
    const { app } = await serviceWithFlags({}, store);
    cleanups.push(() => app.close());
    const reads = countReads(store);

    const direct = await app.inject(flagUrl(checkout, 'qa-1'));
    expect(direct.json()).toMatchObject({ flag_value: true, rollout_group: 'override' });
    expect(reads.of(checkout)).toBe(1);

    const viaOfrep = await app.inject(ofrep('new_checkout', 'qa-1'));
    expect(viaOfrep.json()).toMatchObject({ value: true, variant: 'override' });
    const snapshot = await app.inject('/sdk/v1/projects/shop/snapshot');
    expect(snapshot.json().flags.map((flag: { name: string }) => flag.name)).toEqual(['llm_provider', 'new_checkout']);

    expect(reads.of(checkout)).toBe(1); // the entry /get-feature-flag read served OFREP and the snapshot
    expect(reads.of(provider)).toBe(1); // the flag nobody had asked for yet: read once, for the project
    expect(reads.listings()).toBe(1);
  });

  it('answers /get-feature-flag from the cache after a snapshot read the flag (CacheFlag true, a hit in the metrics)', async () => {
    const store = new MemoryStore();
    const { app } = await serviceWithFlags({}, store);
    cleanups.push(() => app.close());
    const reads = countReads(store);

    expect((await app.inject('/sdk/v1/projects/shop/snapshot')).statusCode).toBe(200);
    const answer = await app.inject({
      url: flagUrl(provider, 'A123456'),
      headers: { 'x-request-id': 'after-snapshot' },
    });
    expect(answer.json()).toMatchObject({ flag_value: 'claude', rollout_group: 'override-1' });
    expect(reads.of(provider)).toBe(1);

    await flushLog(app);
    const [row] = await store.readLogs({ project: 'shop', flagType: 'data', flagName: 'llm_provider' });
    expect(row).toMatchObject({ requestId: 'after-snapshot', cacheHit: true });
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/vexil_cache_lookups_total\{cache="flag",result="hit"\} 1\b/);
    expect(metrics).not.toMatch(/vexil_cache_lookups_total\{cache="flag",result="miss"\} [1-9]/);
  });

  it('reads a changed flag once for every route: the change feed drops it, the snapshot reads it back into the cache', async () => {
    const store = new MemoryStore();
    const { app, admin } = await serviceWithFlags({}, store);
    cleanups.push(() => app.close());
    await app.inject(flagUrl(checkout, 'someone'));
    const before = (await app.inject('/sdk/v1/projects/shop/snapshot')).json();
    const reads = countReads(store);

    const written = await admin.addRevision(checkout, { ControlValue: true });
    await vi.waitFor(async () => {
      const after = (await app.inject('/sdk/v1/projects/shop/snapshot')).json();
      expect(after.version).not.toBe(before.version);
    });
    const direct = await app.inject(flagUrl(checkout, 'someone'));
    expect(direct.json()).toMatchObject({ flag_value: true, rollout_group: 'control' });
    const viaOfrep = await app.inject(ofrep('new_checkout', 'someone'));
    expect(viaOfrep.json()).toMatchObject({ value: true, metadata: { revision: written.wtime } });
    expect(viaOfrep.headers['x-vexil-revision']).toBe(written.wtime);
    expect(reads.of(checkout)).toBe(1);
    expect(reads.listings()).toBe(0);
  });

  it('keeps one entry object per revision: the snapshot holds the very entry /get-feature-flag evaluates', async () => {
    const store = new MemoryStore();
    await seedFlags(new FlagAdmin(store));
    const evaluator = new FlagEvaluator(store, {
      flagCacheTtlMs: 60_000,
      flagCacheSize: 100,
      storeTimeoutMs: 1000,
    });
    const snapshots = new ProjectSnapshots(store, { flags: evaluator.flags, storeTimeoutMs: 1000, refreshMs: 60_000 });
    cleanups.push(() => snapshots.close());

    await evaluator.evaluate(checkout, 'x');
    const { snapshot, entries } = await snapshots.read('shop');
    const key = evaluator.flags.keyOf(checkout);
    const entry = entries.find((candidate) => candidate.key === key);
    expect(entry).toBeDefined();
    expect(entry).toBe(evaluator.flags.peek(key));
    expect(snapshot.flags).toContain(entry?.flag);
    expect(entry?.compiled.state).toBe('compiled');
  });

  it('brings back a snapshot flag the size limit evicted without a store read, until the project is dropped', async () => {
    const store = new MemoryStore();
    await seedFlags(new FlagAdmin(store));
    const cache = new FlagCache(store, { ttlMs: 60_000, size: 1, storeTimeoutMs: 1000 });
    const snapshots = new ProjectSnapshots(store, {
      flags: cache,
      storeTimeoutMs: 1000,
      refreshMs: 60_000,
      idleMs: 1000,
    });
    cleanups.push(() => snapshots.close());

    const { snapshot } = await snapshots.read('shop');
    expect(snapshot.flags).toHaveLength(2);
    // A size of one: the cache itself holds one of the two now.
    expect([cache.peek(cache.keyOf(checkout)), cache.peek(cache.keyOf(provider))].filter(Boolean)).toHaveLength(1);
    const reads = countReads(store);
    const pinned = await Promise.all([cache.get(checkout), cache.get(provider)]);
    expect(pinned.map((entry) => entry.flag?.name)).toEqual(['new_checkout', 'llm_provider']);
    expect(reads.of(checkout) + reads.of(provider)).toBe(0);
    expect((await snapshots.read('shop')).snapshot).toBe(snapshot); // untouched by the evictions

    await snapshots.sweep(Date.now() + 5000); // idle: the project goes, and its pins with it
    expect(snapshots.size).toBe(0);
    await Promise.all([cache.get(checkout), cache.get(provider)]);
    expect(reads.of(checkout) + reads.of(provider)).toBe(1); // the one the cache itself still held is not read
  });

  it('does not keep a read that began before the flag was invalidated', async () => {
    const store = new MemoryStore();
    const admin = new FlagAdmin(store);
    await seedFlags(admin);
    const cache = new FlagCache(store, { ttlMs: 60_000, size: 100, storeTimeoutMs: 1000 });
    const latest = store.latest.bind(store);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    vi.spyOn(store, 'latest').mockImplementationOnce(async (kind, ref) => {
      const row = await latest(kind, ref);
      await gate;
      return row;
    });

    const early = cache.get(checkout);
    const written = await admin.addRevision(checkout, { ControlValue: true });
    cache.invalidate(checkout);
    release();
    expect((await early).wtime).not.toBe(written.wtime); // its callers asked before the change
    expect(cache.peek(cache.keyOf(checkout))).toBeUndefined();
    expect((await cache.get(checkout)).wtime).toBe(written.wtime);
  });
});
