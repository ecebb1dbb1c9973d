import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatWTime, storedFlagType } from '@vexil/core';
import { type NewRow, SqliteStore, type StoreEngine } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { FlagSummary } from '../src/flag-summaries.js';
import { checkout, flagUrl, flushLog, provider } from './service-harness.js';
import { buildTestApp } from './support/test-token.js';

const API = '/admin/v1';
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

/** Counts the store's reads by method, to check the page is one scan whatever the number of flags. */
function counting(store: StoreEngine): { store: StoreEngine; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        calls.set(property, (calls.get(property) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

describe('flag summaries (the dashboard flags page), on a SQLite file', () => {
  let dir: string;
  let sqlite: SqliteStore;
  let app: FastifyInstance;
  let calls: Map<string, number>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vexil-summaries-'));
    sqlite = await SqliteStore.open(join(dir, 'vexil.db'));
    const counted = counting(sqlite);
    calls = counted.calls;
    app = await buildTestApp({
      config: loadConfig({ VEXIL_STORE: 'sqlite:./unused.db' }),
      store: counted.store,
      defaultMetrics: false,
    });
  });

  afterEach(async () => {
    await app.close();
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = async (url: string, payload: unknown, headers?: Record<string, string>) => {
    const response = await app.inject({
      method: 'POST',
      url: `${API}${url}`,
      payload: payload as object,
      ...(headers ? { headers } : {}),
    });
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json();
  };

  async function summaries(project = 'shop', headers?: Record<string, string>) {
    const response = await app.inject({
      url: `${API}/projects/${project}/flag-summaries`,
      ...(headers ? { headers } : {}),
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { project: string; flags: FlagSummary[] };
  }

  it('gives each flag its latest revision, revision count, last change, archived, disabled, metadata and last evaluation', async () => {
    const flag = (ref: { flagType: string; name: string }) => `/projects/shop/flags/${ref.flagType}/${ref.name}`;
    await post('/projects/shop/flags', { name: checkout.name, type: 'feature', description: 'checkout' });
    await post(`${flag(checkout)}/revisions`, {
      ControlValue: false,
      Treatments: [{ PercentRollout: 40, Value: true }],
    });
    const writer = await post('/tokens', { scope: 'write', projects: ['shop'], owner: 'release-bot' });
    await post(
      `${flag(checkout)}/revisions`,
      {
        ControlValue: false,
        Treatments: [{ PercentRollout: 60, Value: true }],
        Metadata: { owner: 'team-checkout', ticket: 'CHK-12', expires: '2027-03-31' },
        Comment: 'to 60 %',
        OwnerID: 'pm-anna',
      },
      bearer(writer.secret),
    );
    await post('/projects/shop/flags', { name: provider.name, type: 'data' });
    await post(`${flag(provider)}/revisions`, { ControlValue: 'openai' });
    await post(`${flag(provider)}/archive`, {});
    await post('/projects/shop/flags', { name: 'retries', type: 'number' });
    await post('/projects/shop/flags/number/retries/revisions', { ControlValue: 3 });
    await post('/projects/shop/flags/number/retries/disable', {});
    await post('/projects/shop/flags', { name: 'no_rules_yet', type: 'json' });
    await post('/projects/shop/segments', { name: 'staff', Included: ['a'] });

    for (const id of ['u1', 'u2', 'u3']) expect((await app.inject(flagUrl(checkout, id))).statusCode).toBe(200);
    await flushLog(app);
    const newestLogged = (await sqlite.readLogs({ project: 'shop', flagType: 'feature', flagName: checkout.name }))
      .map((entry) => entry.time)
      .sort()
      .at(-1);

    const { project, flags } = await summaries();
    expect(project).toBe('shop');
    expect(flags.map((f) => `${f.flagType}/${f.name}`)).toEqual([
      'data/llm_provider',
      'feature/new_checkout',
      'json/no_rules_yet',
      'number/retries',
    ]);
    const [data, feature, json, number] = flags as [FlagSummary, FlagSummary, FlagSummary, FlagSummary];
    expect(feature).toMatchObject({
      description: 'checkout',
      revisionCount: 2,
      archived: false,
      disabled: false,
      metadata: { owner: 'team-checkout', ticket: 'CHK-12', expires: '2027-03-31' },
      lastChange: { kind: 'revision', owner: 'release-bot', onBehalfOf: 'pm-anna', comment: 'to 60 %' },
      lastEvaluated: newestLogged,
    });
    expect(feature.lastChange.tokenId).toMatch(/^tok_/);
    expect(feature.latestRevision?.revision).toMatchObject({ Treatments: [{ PercentRollout: 60, Value: true }] });
    expect(feature.latestRevision?.wtime).toBe(feature.lastChange.time);
    expect(feature.createdTime < feature.lastChange.time).toBe(true);
    expect(data).toMatchObject({ archived: true, disabled: false, revisionCount: 2, lastEvaluated: null });
    expect(data.lastChange).toMatchObject({ kind: 'revision', owner: 'bootstrap', comment: 'Archived' });
    expect(number).toMatchObject({ archived: false, disabled: true, revisionCount: 2 });
    expect(json).toMatchObject({ revisionCount: 0, archived: false, metadata: {}, lastChange: { kind: 'flag' } });
    expect(json.latestRevision).toBeUndefined();
    expect(flags.every((f) => f.problem === undefined)).toBe(true);
  });

  it('shows a revision in force that does not validate as stored, with what is wrong', async () => {
    const ref = { project: 'shop', flagType: 'feature' as const, name: 'broken' };
    await sqlite.append([
      { kind: 'FLAG', ref, fields: { Name: 'broken', Type: 'FEATURE' } },
      { kind: 'REVISION', ref, fields: { Name: 'broken', Type: 'FEATURE', FormatVersion: 1, ControlValue: 'yes' } },
    ]);
    const [broken] = (await summaries()).flags;
    expect(broken).toMatchObject({
      name: 'broken',
      revisionCount: 1,
      latestRevision: { revision: { ControlValue: 'yes' } },
    });
    expect(broken!.problem).toMatchObject({ field: 'ControlValue', message: expect.stringContaining('ControlValue') });
  });

  it('answers 404 naming the known projects for a project without flags, 400 naming the field for a bad name', async () => {
    await post('/projects/shop/flags', { name: 'a', type: 'feature' });
    const missing = await app.inject(`${API}/projects/nope/flag-summaries`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ known_projects: ['shop'] });
    const bad = await app.inject(`${API}/projects/${encodeURIComponent('a b')}/flag-summaries`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'project_name' });
    const unknownQuery = await app.inject(`${API}/projects/shop/flag-summaries?view=all`);
    expect(unknownQuery.statusCode).toBe(400);
    expect(unknownQuery.json()).toMatchObject({ field: 'view' });
  });

  it('is open to a read token of the project, and to nobody without a token', async () => {
    await post('/projects/shop/flags', { name: 'a', type: 'feature' });
    const reader = await post('/tokens', { scope: 'read', projects: ['shop'], owner: 'pm' });
    expect((await summaries('shop', bearer(reader.secret))).flags).toHaveLength(1);
    const anonymous = await app.inject({
      url: `${API}/projects/shop/flag-summaries`,
      headers: { authorization: null } as never,
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('reads a project of 1,000 flags with one scan and one log question, not a query per flag', async () => {
    const rows: NewRow[] = [];
    for (let i = 0; i < 1000; i++) {
      const ref = { project: 'big', flagType: 'feature' as const, name: `flag_${String(i).padStart(4, '0')}` };
      rows.push({ kind: 'FLAG', ref, fields: { Name: ref.name, Type: storedFlagType('feature') } });
      for (let r = 0; r < 3; r++) {
        rows.push({
          kind: 'REVISION',
          ref,
          fields: { Name: ref.name, Type: 'FEATURE', FormatVersion: 1, ControlValue: r === 2, Treatments: [] },
        });
      }
    }
    await sqlite.append(rows);
    const now = Date.now() * 1000;
    await sqlite.appendLogs(
      Array.from({ length: 500 }, (_, i) => ({
        project: 'big',
        flagType: 'feature',
        flagName: `flag_${String(i * 2).padStart(4, '0')}`,
        instanceId: `u${i}`,
        requestId: `r${i}`,
        time: formatWTime(now - i),
        value: true,
        group: 'control',
        cacheHit: false,
      })),
    );
    calls.clear();
    const started = performance.now();
    const { flags } = await summaries('big');
    const ms = performance.now() - started;
    console.log(`flag summaries of 1,000 flags (3,000 revisions, 500 logged) on SQLite: ${ms.toFixed(1)} ms`);
    expect(flags).toHaveLength(1000);
    expect(flags.every((f) => f.revisionCount === 3 && f.latestRevision?.revision.ControlValue === true)).toBe(true);
    expect(flags.filter((f) => f.lastEvaluated !== null)).toHaveLength(500);
    expect(flags[2]!.lastEvaluated).toBe(formatWTime(now - 1));
    expect(Object.fromEntries(calls)).toEqual({ scanProject: 1, lastLogTimes: 1 });
  });
});
