import { type EvaluationLogEntry, MemoryStore } from '@vexil/store';
import { describe, expect, it, vi } from 'vitest';
import { EvaluationLog } from '../src/evaluation-log.js';
import { ServiceMetrics } from '../src/metrics.js';

function entry(i: number): EvaluationLogEntry {
  return {
    project: 'p',
    flagType: 'feature',
    flagName: 'f',
    instanceId: `id-${i}`,
    requestId: `r-${i}`,
    time: '2026-11-21 10:00:00.000000',
    value: true,
    group: 'treatment',
    cacheHit: true,
  };
}

/** A store whose log writes can be made to fail or to wait. */
class LogStore extends MemoryStore {
  failures = 0;
  batches: number[] = [];
  gate: Promise<void> | undefined;

  override async appendLogs(entries: readonly EvaluationLogEntry[]): Promise<void> {
    if (this.gate) await this.gate;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('disk full');
    }
    this.batches.push(entries.length);
    return super.appendLogs(entries);
  }
}

const count = async (store: MemoryStore) => (await store.readLogs({ project: 'p' })).length;

describe('EvaluationLog', () => {
  it('writes in batches of at most batchSize and close() writes the rest', async () => {
    const store = new LogStore();
    const log = new EvaluationLog(store, { maxQueue: 10_000, batchSize: 100, flushMs: 10_000 });
    for (let i = 0; i < 250; i++) log.add(entry(i));
    await log.close();
    expect(await count(store)).toBe(250);
    expect(Math.max(...store.batches)).toBeLessThanOrEqual(100);
  });

  it('writes a partial batch after flushMs without being asked', async () => {
    const store = new LogStore();
    const log = new EvaluationLog(store, { maxQueue: 100, batchSize: 50, flushMs: 20 });
    log.add(entry(1));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await count(store)).toBe(1);
    await log.close();
  });

  it('drops and counts entries past the bound instead of waiting, and reports them', async () => {
    const store = new LogStore();
    let release!: () => void;
    store.gate = new Promise((resolve) => {
      release = resolve;
    });
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const warnings: object[] = [];
    const log = new EvaluationLog(store, {
      maxQueue: 10,
      batchSize: 5,
      flushMs: 1,
      metrics,
      logger: { warn: (details) => warnings.push(details), error: () => {} },
    });
    for (let i = 0; i < 10; i++) log.add(entry(i));
    await new Promise((resolve) => setTimeout(resolve, 20)); // the first batch is now stuck in the store
    for (let i = 10; i < 30; i++) log.add(entry(i));
    expect(log.depth).toBe(10);
    expect(log.droppedCount).toBe(15);
    expect((await metrics.logDropped.get()).values[0]?.value).toBe(15);
    expect(warnings[0]).toMatchObject({ dropped: 1, queueMax: 10 });
    release();
    store.gate = undefined;
    await log.close();
    expect(await count(store)).toBe(15);
  });

  it('retries a failed batch, so a passing store fault loses nothing', async () => {
    const store = new LogStore();
    store.failures = 2;
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const log = new EvaluationLog(store, {
      maxQueue: 1000,
      batchSize: 10,
      flushMs: 1,
      metrics,
      logger: { warn: () => {}, error: () => {} },
    });
    for (let i = 0; i < 25; i++) log.add(entry(i));
    await log.close();
    expect(await count(store)).toBe(25);
    expect((await metrics.logWriteErrors.get()).values[0]?.value).toBe(2);
  });

  it('takes no entries after close() and counts them as dropped', async () => {
    const store = new LogStore();
    const log = new EvaluationLog(store, { maxQueue: 10, batchSize: 10, flushMs: 1 });
    await log.close();
    log.add(entry(1));
    expect(log.droppedCount).toBe(1);
    expect(await count(store)).toBe(0);
  });
});

describe('EvaluationLog under steady load', () => {
  it('keeps one pending immediate write while a full batch waits, instead of re-arming it per entry', async () => {
    const store = new LogStore();
    const log = new EvaluationLog(store, { maxQueue: 100_000, batchSize: 50, flushMs: 10_000 });
    for (let i = 0; i < 50; i++) log.add(entry(i)); // a full batch: a write is due now
    // Re-arming the due timer on every further entry postponed the write for as long
    // as requests kept coming (seen under load as 27-215 ms gaps and a full queue).
    const timers = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 50; i < 150; i++) log.add(entry(i));
    expect(timers).not.toHaveBeenCalled();
    timers.mockRestore();
    await log.close();
    expect(await count(store)).toBe(150);
  });
});
