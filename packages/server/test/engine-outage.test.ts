import type { FlagRef } from '@vexil/core';
import { openStore, type StoreEngine } from '@vexil/store';
import { startBigtableEmulator, startPostgres } from '@vexil/store/testing';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { type Env, loadConfig, storeOptions } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { checkout, flagUrl, flushLog, provider, seedFlags } from './service-harness.js';

/**
 * PostgreSQL is shut down and started again, and the Bigtable emulator frozen and let
 * go, and stopped and started again (it keeps its data in memory only, so the new one
 * gets its tables and flags restored), while the service is under load: flags keep
 * being served meanwhile, and afterwards writes and change propagation work again,
 * without a restart.
 */

interface Outage {
  env: Env;
  /** The engine comes back empty (the emulator keeps its data in memory only); `up` restores the flags. */
  losesData?: boolean;
  down(): Promise<void>;
  up(): Promise<void>;
  teardown(): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => Promise<boolean>, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`waited ${deadlineMs} ms for ${what}`);
    await pause(100);
  }
}

function ofrep(app: FastifyInstance, key: string, targetingKey: string) {
  return app.inject({
    method: 'POST',
    url: `/ofrep/v1/evaluate/flags/${key}`,
    payload: { context: { targetingKey, project_name: 'shop' } },
  });
}

async function survivesOutage(outage: Outage): Promise<void> {
  const env: Env = {
    ...outage.env,
    // Cached flag data expires during the outage, so it is the last-known data that serves.
    FEATURE_FLAG_CACHE_TTL_MINUTES: '0.005',
    VEXIL_STORE_TIMEOUT_MS: '500',
    VEXIL_CHANGE_POLL_MS: '100',
    VEXIL_REPORT_RATE_LIMIT: '0',
    // Log rows written to an engine that comes back empty are gone with it, which says
    // nothing about the service: the log is flushed by hand just before the outage and
    // after it, so every row the service answered meanwhile waits in its queue through
    // the outage and must reach the restored engine.
    ...(outage.losesData ? { VEXIL_LOG_FLUSH_MS: '600000', VEXIL_LOG_BATCH_SIZE: '1000000' } : {}),
  };
  const config = loadConfig(env);
  const store: StoreEngine = await openStore(config.store, { ...storeOptions(config), initialize: true });
  const app = await buildApp({ config, store, defaultMetrics: false });
  const writer = await openStore(config.store, storeOptions(config));
  let running = true;
  try {
    await seedFlags(new FlagAdmin(writer));
    const statuses: { phase: string; status: number; requestId?: string }[] = [];
    let phase = 'before';
    const refs: FlagRef[] = [checkout, provider];
    const worker = async (n: number) => {
      for (let i = 0; running; i++) {
        const ref = refs[i % 2]!;
        const response =
          i % 3 === 0 ? await ofrep(app, ref.name, `w${n}-${i}`) : await app.inject(flagUrl(ref, `w${n}-${i}`));
        statuses.push({
          phase,
          status: response.statusCode,
          ...(String(response.headers['content-type']).includes('json') && i % 3 !== 0
            ? { requestId: response.json().request_id }
            : {}),
        });
        await pause(5);
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    await waitFor('the service to answer', async () => statuses.filter((s) => s.status === 200).length > 20);

    const loggedBefore = new Set<string>();
    if (outage.losesData) {
      phase = 'flushing';
      await flushLog(app);
      for (const row of await store.readLogs({ project: 'shop', limit: 1_000_000 })) loggedBefore.add(row.requestId);
    }
    phase = 'outage';
    await outage.down();
    await pause(2000);
    const ready = await app.inject('/readyz');
    expect(ready.json()).toMatchObject({ status: 'stale' });
    await pause(500);
    phase = 'recovering';
    await outage.up();
    await waitFor('the store to answer again', async () => (await app.inject('/readyz')).json().status === 'ready');
    if (outage.losesData) {
      // Between the empty engine's start and the restore, "no such flag" was the store's
      // true answer, and the cache may hold it for its short missing-flag time.
      await waitFor('the restored flags to be served', async () => {
        const answers = await Promise.all(refs.map((ref) => app.inject(flagUrl(ref, 'restored'))));
        return answers.every((answer) => answer.statusCode === 200);
      });
    }
    phase = 'after';
    await pause(500);

    // Writes work again, and the service sees them through its change feed.
    await new FlagAdmin(writer).addRevision(checkout, { ControlValue: true, Treatments: [] });
    await waitFor(
      'the new revision to be served',
      async () => (await app.inject(flagUrl(checkout, 'after-change'))).json().flag_value === true,
    );
    running = false;
    await load;

    const during = statuses.filter((s) => s.phase === 'outage');
    expect(during.length).toBeGreaterThan(20);
    expect(during.filter((s) => s.status !== 200)).toEqual([]);
    expect(
      statuses.filter((s) => ['before', 'flushing', 'after'].includes(s.phase)).filter((s) => s.status !== 200),
    ).toEqual([]);
    // Every evaluation answered, the outage's included, has its log row.
    await flushLog(app);
    const logged = new Set(loggedBefore);
    for (const row of await store.readLogs({ project: 'shop', limit: 1_000_000 })) logged.add(row.requestId);
    const answered = statuses.filter((s) => s.status === 200 && s.requestId !== undefined);
    expect(answered.filter((s) => !logged.has(s.requestId!))).toEqual([]);
  } finally {
    running = false;
    await app.close();
    await writer.close();
    await store.close();
    await outage.teardown();
  }
}

describe('engine outages under load', () => {
  it('PostgreSQL shut down and started again', async () => {
    const server = await startPostgres();
    await survivesOutage({
      env: { VEXIL_STORE: server.url },
      down: () => server.halt(),
      up: () => server.restart(),
      teardown: () => server.stop(),
    });
  }, 120_000);

  it('the Bigtable emulator frozen and let go', async () => {
    const emulator = await startBigtableEmulator();
    await survivesOutage({
      env: {
        VEXIL_STORE: 'bigtable',
        BIGTABLE_EMULATOR_HOST: emulator.host,
        PROJECT_ID: 'outage-test',
        INSTANCE_ID: 'outage-test',
      },
      down: async () => emulator.pause(),
      up: async () => emulator.resume(),
      teardown: () => emulator.stop(),
    });
  }, 120_000);

  it('the Bigtable emulator stopped and started again, its tables restored', async () => {
    const emulator = await startBigtableEmulator();
    const env: Env = {
      VEXIL_STORE: 'bigtable',
      BIGTABLE_EMULATOR_HOST: emulator.host,
      PROJECT_ID: 'restart-test',
      INSTANCE_ID: 'restart-test',
    };
    await survivesOutage({
      env,
      losesData: true,
      down: () => emulator.halt(),
      // The emulator keeps its data in memory only, so the new one starts empty; real
      // Bigtable keeps it. Restoring the tables and flags stands in for that.
      up: async () => {
        await emulator.restart();
        const config = loadConfig(env);
        const restored = await openStore(config.store, { ...storeOptions(config), initialize: true });
        try {
          await seedFlags(new FlagAdmin(restored));
        } finally {
          await restored.close();
        }
      },
      teardown: () => emulator.stop(),
    });
  }, 120_000);
});
