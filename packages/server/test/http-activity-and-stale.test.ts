import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FlagRef, formatWTime } from '@vexil/core';
import { type EvaluationLogEntry, SqliteStore } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { FlagActivity } from '../src/flag-activity.js';
import { FlagAdmin } from '../src/flag-admin.js';
import type { StaleFlag } from '../src/stale-flags.js';
import { checkout, flagUrl, flushLog } from './service-harness.js';
import { buildTestApp } from './support/test-token.js';

const DAY_MS = 86_400_000;
const ref = (name: string): FlagRef => ({ project: 'shop', flagType: 'feature', name });
const logRow = (name: string, msAgo: number, extra: Partial<EvaluationLogEntry> = {}): EvaluationLogEntry => ({
  project: 'shop',
  flagType: 'feature',
  flagName: name,
  instanceId: `old-${msAgo}`,
  requestId: `r-${name}-${msAgo}`,
  time: formatWTime((Date.now() - msAgo) * 1000),
  value: false,
  group: 'control',
  cacheHit: false,
  ...extra,
});

describe('monitoring and stale hints, from real log rows on a SQLite file', () => {
  let dir: string;
  let store: SqliteStore;
  let app: FastifyInstance;
  const served: { value: boolean; group: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vexil-activity-'));
    const path = join(dir, 'vexil.db');
    // Revisions written 40 days ago, by a store whose clock says so.
    const past = await SqliteStore.open(path, { now: () => (Date.now() - 40 * DAY_MS) * 1000 });
    const old = new FlagAdmin(past);
    for (const name of ['killed', 'everyone', 'unused', 'old_log', 'archived_one']) await old.addFlag(ref(name), {});
    await old.addRevision(ref('killed'), { ControlValue: false, Treatments: [{ PercentRollout: 50, Value: true }] });
    await old.setDisabled(ref('killed'), true);
    await old.addRevision(ref('everyone'), { ControlValue: false, Treatments: [{ PercentRollout: 100, Value: true }] });
    await old.addRevision(ref('old_log'), { ControlValue: false, Treatments: [{ PercentRollout: 10, Value: true }] });
    await old.archive(ref('archived_one'));
    await past.close();

    store = await SqliteStore.open(path);
    const admin = new FlagAdmin(store);
    await admin.addFlag(checkout, {});
    await admin.addRevision(checkout, { ControlValue: false, Treatments: [{ PercentRollout: 40, Value: true }] });
    await admin.addFlag(ref('expired'), {});
    await admin.addRevision(ref('expired'), {
      ControlValue: false,
      Treatments: [{ PercentRollout: 30, Value: true }],
      Metadata: { expires: '2020-01-01', ticket: 'CHK-1', owner: 'team-x' },
    });
    app = await buildTestApp({ config: loadConfig({ VEXIL_STORE: 'memory:' }), store, defaultMetrics: false });
    for (let i = 0; i < 300; i++) {
      const body = (await app.inject(flagUrl(checkout, `u${i}`))).json() as {
        flag_value: boolean;
        rollout_group: string;
      };
      served.push({ value: body.flag_value, group: body.rollout_group });
    }
    for (const name of ['killed', 'everyone', 'expired']) {
      expect((await app.inject(flagUrl(ref(name), 'u1'))).statusCode).toBe(200);
    }
    await store.appendLogs([
      logRow(checkout.name, 2 * 3_600_000, { group: 'treatment', value: true }),
      logRow('old_log', 40 * DAY_MS),
    ]);
    await flushLog(app);
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const activity = async (query: string) => {
    const response = await app.inject(`/admin/v1/projects/shop/flags/feature/new_checkout/activity${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as FlagActivity;
  };

  it('counts the last hour per minute and group, with observed shares beside the configured 40 / 60 %', async () => {
    const minuteOf = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString();
    const before = Date.now();
    const body = await activity('?minutes=60');
    expect(body.perMinute).toHaveLength(60);
    expect([minuteOf(before), minuteOf(Date.now())]).toContain(body.perMinute.at(-1)!.minute);
    const counted = body.perMinute.flatMap((m) => Object.values(m.groups)).reduce((a, b) => a + b, 0);
    expect(counted).toBe(300);
    expect(body.evaluations).toBe(300);
    const treatment = served.filter((s) => s.group === 'treatment').length;
    expect(body.shares).toEqual([
      { group: 'treatment', observed: treatment / 300, configured: 40 },
      { group: 'control', observed: (300 - treatment) / 300, configured: 60 },
    ]);
    const rows = await store.readLogs({ project: 'shop', flagType: 'feature', flagName: checkout.name });
    const recentRows = rows.filter((row) => row.instanceId.startsWith('u'));
    expect(body.cacheHitRate).toBe(recentRows.filter((row) => row.cacheHit).length / 300);
    expect(body.recent).toHaveLength(50);
    const times = body.recent.map((r) => r.time);
    expect([...times].sort().reverse()).toEqual(times);
    expect(times[0]).toBe(
      recentRows
        .map((row) => row.time)
        .sort()
        .at(-1),
    );
    expect(body.recent[0]).toMatchObject({ source: 'served', requestId: expect.any(String) });
    expect(body.truncated).toBe(false);
  });

  it('reads further back when asked, and refuses a bad window naming minutes', async () => {
    const wider = await activity('?minutes=180');
    expect(wider.perMinute).toHaveLength(180);
    expect(wider.evaluations).toBe(301);
    expect((await activity('')).perMinute).toHaveLength(60);
    for (const minutes of ['0', '1441', 'abc', '1.5']) {
      const response = await app.inject(
        `/admin/v1/projects/shop/flags/feature/new_checkout/activity?minutes=${minutes}`,
      );
      expect(response.statusCode, minutes).toBe(400);
      expect(response.json()).toMatchObject({ field: 'minutes' });
    }
    expect((await app.inject('/admin/v1/projects/shop/flags/feature/nope/activity')).statusCode).toBe(404);
  });

  const stale = async (query = '') => {
    const response = await app.inject(`/admin/v1/projects/shop/stale${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { project: string; days: number; flags: StaleFlag[] };
  };

  it('hints flags never or long not evaluated, answering one value for 30 days, or past their expiry', async () => {
    const body = await stale();
    expect(body.days).toBe(30);
    const kinds = Object.fromEntries(body.flags.map((f) => [f.name, f.hints.map((h) => h.kind)]));
    expect(kinds).toEqual({
      everyone: ['one-value'],
      expired: ['expired'],
      killed: ['one-value'],
      old_log: ['not-evaluated'],
      unused: ['not-evaluated'],
    });
    const byName = new Map(body.flags.map((f) => [f.name, f]));
    expect(byName.get('killed')!.reasons[0]).toMatch(/^one value for everybody for 30 days: false \(disabled\)/);
    expect(byName.get('everyone')!.reasons[0]).toMatch(/^one value for everybody for 30 days: true/);
    expect(byName.get('unused')!.reasons).toEqual(['never evaluated (nothing in the evaluation log)']);
    expect(byName.get('old_log')!.reasons[0]).toMatch(/^not evaluated for 30 days \(last \d{4}-/);
    expect(byName.get('expired')).toMatchObject({
      reasons: ['past its expiry date 2020-01-01 (ticket CHK-1)'],
      owner: 'team-x',
    });
  });

  it('reads N days as asked, and refuses a bad N naming days', async () => {
    const kinds = Object.fromEntries((await stale('?days=60')).flags.map((f) => [f.name, f.hints.map((h) => h.kind)]));
    expect(kinds).toEqual({ expired: ['expired'], unused: ['not-evaluated'] });
    for (const days of ['0', 'x', '3651']) {
      const response = await app.inject(`/admin/v1/projects/shop/stale?days=${days}`);
      expect(response.statusCode, days).toBe(400);
      expect(response.json()).toMatchObject({ field: 'days' });
    }
    expect((await app.inject('/admin/v1/projects/nope/stale')).statusCode).toBe(404);
  });
});
