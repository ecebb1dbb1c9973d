import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatWTime } from '@vexil/core';
import { PostgresStore, SqliteStore, type StoreEngine } from '@vexil/store';
import { type PostgresServer, startPostgres } from '@vexil/store/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewImpact } from '../src/change-impact.js';
import { loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { checkout, flagUrl, flushLog } from './service-harness.js';
import { buildTestApp } from './support/test-token.js';

const FLAG = '/admin/v1/projects/shop/flags/feature/new_checkout';
const rollout = (percent: number, extra: Record<string, unknown> = {}) => ({
  ControlValue: false,
  Treatments: [{ OverrideList: [], PercentRollout: percent, Value: true }],
  ...extra,
});

interface Engine {
  open(): Promise<StoreEngine>;
  close(): Promise<void>;
}

function sqliteEngine(): Engine {
  let dir = '';
  return {
    async open() {
      dir = await mkdtemp(join(tmpdir(), 'vexil-impact-'));
      return SqliteStore.open(join(dir, 'vexil.db'));
    },
    async close() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function postgresEngine(): Engine {
  let server: PostgresServer | undefined;
  return {
    async open() {
      server ??= await startPostgres();
      return PostgresStore.open(await server.createDatabase());
    },
    async close() {},
  };
}

const engines: [string, Engine][] = [
  ['SQLite', sqliteEngine()],
  ['PostgreSQL', postgresEngine()],
];

describe.each(engines)('change impact preview on %s, from real log rows', (_name, engine) => {
  let store: StoreEngine;
  let app: FastifyInstance;
  /** What each id was served last, as /get-feature-flag answered it. */
  let served: Map<string, { value: boolean; group: string }>;

  beforeAll(async () => {
    store = await engine.open();
    const admin = new FlagAdmin(store);
    await admin.addFlag(checkout, {});
    await admin.addRevision(checkout, rollout(40));
    app = await buildTestApp({ config: loadConfig({ VEXIL_STORE: 'memory:' }), store, defaultMetrics: false });
    served = new Map();
    const serve = async (id: string) => {
      const response = await app.inject(flagUrl(checkout, id));
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json() as { flag_value: boolean; rollout_group: string };
      served.set(id, { value: body.flag_value, group: body.rollout_group });
    };
    for (let i = 0; i < 200; i++) await serve(`u${i}`);
    await flushLog(app);
    // Then everybody on: u0..u9 are served again, so their newest rows say control (true).
    await admin.addRevision(checkout, { ControlValue: true, Treatments: [] });
    app.services.evaluator.flags.invalidateAll();
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 10; i++) await serve(`u${i}`);
    // One id only an SDK evaluated (a reported row).
    const reported = await app.inject({
      method: 'POST',
      url: '/sdk/v1/evaluations',
      payload: {
        project: 'shop',
        evaluations: [
          {
            flagType: 'feature',
            flagName: 'new_checkout',
            instanceId: 'sdk-1',
            value: true,
            group: 'control',
            time: formatWTime((Date.now() - 1000) * 1000),
          },
        ],
      },
    });
    expect(reported.json()).toMatchObject({ accepted: 1 });
    served.set('sdk-1', { value: true, group: 'control' });
    // An id seen three days ago only: outside the default one-day window.
    await store.appendLogs([
      {
        project: 'shop',
        flagType: 'feature',
        flagName: 'new_checkout',
        instanceId: 'old-1',
        requestId: 'r-old',
        time: formatWTime((Date.now() - 3 * 86_400_000) * 1000),
        value: false,
        group: 'control',
        cacheHit: false,
      },
    ]);
    await flushLog(app);
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
    await engine.close();
  });

  const impact = (payload: unknown) =>
    app.inject({ method: 'POST', url: `${FLAG}/impact`, payload: payload as object });

  it('counts the ids whose value a 100 % rollout would change, by their newest logged answer', async () => {
    expect([...served.values()].filter((s) => s.group === 'control' && s.value === true)).toHaveLength(11);
    const response = await impact({ revision: rollout(100) });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    const wasOff = [...served.values()].filter((s) => s.value === false).length;
    expect(wasOff).toBeGreaterThan(50);
    expect(body).toMatchObject({
      instances: 201,
      changed: wasOff,
      unchanged: 201 - wasOff,
      truncated: false,
      rows: { served: 210, reported: 1 },
    });
    // The ids served "on" under the second revision keep their value, but change group.
    expect(body.transitions).toEqual([
      {
        from: 'control (false)',
        to: 'treatment (true)',
        fromGroup: 'control',
        fromValue: false,
        toGroup: 'treatment',
        toValue: true,
        valueChanged: true,
        count: wasOff,
      },
      expect.objectContaining({ from: 'control (true)', to: 'treatment (true)', valueChanged: false, count: 11 }),
    ]);
    expect(body.since < formatWTime(Date.now() * 1000)).toBe(true);
  });

  it('evaluates overrides and the hash as the service does, and reads further back with days', async () => {
    // Off for everybody but u150 and old-1.
    const draft = {
      ControlValue: false,
      Treatments: [{ OverrideList: ['u150', 'old-1'], PercentRollout: 0, Value: true }],
    };
    const body = (await impact({ revision: draft })).json();
    const wasOn = [...served.entries()].filter(([id, s]) => s.value === true && id !== 'u150').length;
    const u150 = served.get('u150')!;
    expect(body).toMatchObject({ instances: 201, changed: wasOn + (u150.value ? 0 : 1) });
    const override = body.transitions.find((t: { toGroup: string }) => t.toGroup === 'override');
    expect(override).toMatchObject({ from: `${u150.group} (${u150.value})`, to: 'override (true)', count: 1 });

    const wider = (await impact({ revision: draft, days: 5 })).json();
    expect(wider.instances).toBe(202);
    expect(wider.changed).toBe(body.changed + 1);
  });

  it('refuses a draft with the write route’s own errors, writing nothing, and bad days naming the field', async () => {
    const before = await store.history('REVISION', checkout);
    const bad = rollout(140);
    const previewed = await impact({ revision: bad });
    const written = await app.inject({ method: 'POST', url: `${FLAG}/revisions`, payload: bad });
    expect(previewed.statusCode).toBe(400);
    const { request_id: _a, ...previewError } = previewed.json();
    const { request_id: _b, ...writeError } = written.json();
    expect(previewError).toEqual(writeError);
    expect(previewError.field).toMatch(/PercentRollout/);

    const misspelt = await impact({ revision: { ControlValue: false, Treatment: [] } });
    expect(misspelt.statusCode).toBe(400);
    expect(misspelt.json()).toMatchObject({ field: 'Treatment' });
    for (const days of [0, 31, 1.5, '2']) {
      const response = await impact({ revision: rollout(10), days });
      expect(response.statusCode, String(days)).toBe(400);
      expect(response.json()).toMatchObject({ field: 'days', message: expect.stringContaining('1 to 30') });
    }
    expect((await impact({ days: 1 })).json()).toMatchObject({ status: 400 });
    const missing = await app.inject({
      method: 'POST',
      url: '/admin/v1/projects/shop/flags/feature/nope/impact',
      payload: { revision: rollout(10) },
    });
    expect(missing.statusCode).toBe(404);
    expect(await store.history('REVISION', checkout)).toEqual(before);
  });

  it('is open to a read token of the project', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/admin/v1/tokens',
      payload: { scope: 'read', projects: ['shop'], owner: 'pm' },
    });
    const response = await app.inject({
      method: 'POST',
      url: `${FLAG}/impact`,
      payload: { revision: rollout(100) },
      headers: { authorization: `Bearer ${created.json().secret}` },
    });
    expect(response.statusCode, response.body).toBe(200);
  });

  it('says truncated when more rows were logged than it reads', async () => {
    const admin = new FlagAdmin(store);
    const all = await previewImpact(admin, store, checkout, rollout(100), 1);
    const capped = await previewImpact(admin, store, checkout, rollout(100), 1, { maxRows: 5 });
    expect(all.truncated).toBe(false);
    // The first rows in key order (by instance id): sdk-1's report, then u0's and u1's two rows each.
    expect(capped).toMatchObject({ truncated: true, instances: 3, rows: { served: 4, reported: 1 } });
  });
});
