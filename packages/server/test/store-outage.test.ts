import { type FlagRef, type RowKind, UnavailableError } from '@vexil/core';
import { type EvaluationLogEntry, type LogQuery, MemoryStore, type StoredRow } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { checkout, flagUrl, flushLog, provider, serviceWithFlags } from './service-harness.js';

/**
 * The store stops answering: every flag served before keeps being served from its last
 * data on every endpoint, marked stale in /readyz and /metrics, and all is fresh
 * again once the store answers, without a restart.
 */

/** A memory store that can be switched off: every call fails as an unreachable store's would. */
class SwitchableStore extends MemoryStore {
  down = false;
  private check(): void {
    if (this.down) throw new UnavailableError('the store cannot be reached (connection refused)');
  }
  override async latest(kind: RowKind, ref: FlagRef): Promise<StoredRow | undefined> {
    this.check();
    return super.latest(kind, ref);
  }
  override async listFlags(project: string): Promise<StoredRow[]> {
    this.check();
    return super.listFlags(project);
  }
  override async listProjects(): Promise<string[]> {
    this.check();
    return super.listProjects();
  }
  override async ping(): Promise<void> {
    this.check();
    return super.ping();
  }
  override async appendLogs(entries: readonly EvaluationLogEntry[]): Promise<void> {
    this.check();
    return super.appendLogs(entries);
  }
  override async readLogs(query: LogQuery): Promise<EvaluationLogEntry[]> {
    return super.readLogs(query);
  }
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// A flag-data TTL of 120 ms, so the outage outlasts every cached entry.
const SHORT_TTL = { FEATURE_FLAG_CACHE_TTL_MINUTES: '0.002' };

function ofrep(service: FastifyInstance, key: string) {
  return service.inject({
    method: 'POST',
    url: `/ofrep/v1/evaluate/flags/${key}`,
    payload: { context: { targetingKey: 'A123456', project_name: 'shop' } },
  });
}

describe('store outage', () => {
  it('serves every flag served before from its last data on every endpoint, stale, and recovers without a restart', async () => {
    const store = new SwitchableStore();
    const service = await serviceWithFlags(SHORT_TTL, store);
    app = service.app;
    const served: string[] = [];
    const get = async (ref: FlagRef, id = 'A123456') => {
      const response = await app!.inject(flagUrl(ref, id));
      if (response.statusCode === 200) served.push(response.json().request_id);
      return response;
    };
    // Before: one flag through OFREP only, the other through /get-feature-flag only.
    const checkoutBefore = (await ofrep(app, 'new_checkout')).json();
    const providerBefore = (await get(provider)).json();
    expect((await app.inject('/metrics')).body).toMatch(/^vexil_store_stale 0$/m);

    store.down = true;
    await pause(250);
    // /get-feature-flag answers for the flag it never served, from what OFREP read.
    const checkoutDuring = await get(checkout);
    expect(checkoutDuring.statusCode).toBe(200);
    expect(checkoutDuring.json().flag_value).toBe(checkoutBefore.value);
    const providerDuring = await get(provider);
    expect(providerDuring.statusCode).toBe(200);
    expect(providerDuring.json().flag_value).toBe(providerBefore.flag_value);
    expect((await ofrep(app, 'new_checkout')).statusCode).toBe(200);
    expect((await ofrep(app, 'llm_provider')).json().value).toBe(providerBefore.flag_value);
    expect((await app.inject('/sdk/v1/projects/shop/snapshot')).statusCode).toBe(200);
    // Served again and again while the store is down, without waiting for it each time.
    for (let i = 0; i < 20; i++) expect((await get(checkout, `user-${i}`)).statusCode).toBe(200);
    // A flag never read has nothing to be served from.
    expect((await app.inject(flagUrl({ ...checkout, name: 'never_seen' }, 'A1'))).statusCode).toBe(503);

    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'stale', store: 'memory' });
    expect((await app.inject('/metrics')).body).toMatch(/^vexil_store_stale 1$/m);

    store.down = false;
    // Written while the service still serves the old revision: it must see the new one, unrestarted.
    await service.admin.addRevision(checkout, { ControlValue: true, Treatments: [] });
    await pause(250);
    const after = await get(checkout, 'someone-new');
    expect(after.json().flag_value).toBe(true);
    expect((await ofrep(app, 'new_checkout')).json().value).toBe(true);
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready', store: 'memory' });
    expect((await app.inject('/metrics')).body).toMatch(/^vexil_store_stale 0$/m);

    // Every evaluation answered during the outage reached the log once the store was back.
    await flushLog(app);
    const logged = new Set((await store.readLogs({ project: 'shop', limit: 10_000 })).map((row) => row.requestId));
    expect(served.filter((id) => !logged.has(id))).toEqual([]);
  });

  it('answers 503 in /readyz when the store is down and nothing was ever read', async () => {
    const store = new SwitchableStore();
    app = (await serviceWithFlags({}, store)).app;
    store.down = true;
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'unavailable' });
  });
});
