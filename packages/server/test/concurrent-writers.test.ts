import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlagRef } from '@vexil/core';
import { openStore, type StoreEngine } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import type { RevisionView } from '../src/index.js';
import { CliHarness } from './cli-harness.js';
import { ADMIN_HEADERS, buildTestApp } from './support/test-token.js';

/**
 * Issue 15, item 7: many writers at once lose no revision, and a write based on a
 * revision (`expectedLatest`) is refused with 409 when someone else wrote first. The
 * stores' own guarantees are in the store conformance suite (every engine); these
 * tests cover what the service and the CLI add on SQLite files, written by several
 * connections as several processes would.
 */

const PROJECT = 'shop';
const ref: FlagRef = { project: PROJECT, flagType: 'feature', name: 'checkout' };
const flagPath = `/admin/v1/projects/${PROJECT}/flags/feature/checkout`;

describe('concurrent writers of one flag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vexil-writers-'));
  const spec = `sqlite:${join(dir, 'vexil.db')}`;
  const stores: StoreEngine[] = [];
  let app: FastifyInstance;

  async function connection(): Promise<StoreEngine> {
    const store = await openStore(spec);
    stores.push(store);
    return store;
  }

  beforeAll(async () => {
    const store = await connection();
    app = await buildTestApp({ config: loadConfig({ VEXIL_STORE: spec }), store, defaultMetrics: false });
    const admin = new FlagAdmin(store);
    await admin.addFlag(ref, { description: 'contended' });
    await admin.addRevision(ref, { ControlValue: false, Comment: 'base' });
  });
  afterAll(async () => {
    await app.close();
    for (const store of stores) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const latest = async (): Promise<RevisionView> =>
    (await app.inject({ url: `${flagPath}/revisions/latest`, headers: ADMIN_HEADERS })).json() as RevisionView;
  const post = (path: string, payload: object) =>
    app.inject({ method: 'POST', url: `${flagPath}/${path}`, headers: ADMIN_HEADERS, payload });

  it('lets exactly one of several API writers based on the same revision through; the others answer 409 and write nothing', async () => {
    const base = await latest();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        post('revisions', { ControlValue: true, Comment: `edit ${i}`, expectedLatest: base.wtime }),
      ),
    );
    const statuses = answers.map((answer) => answer.statusCode).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const refused = answers.find((answer) => answer.statusCode === 409)!.json();
    expect(refused).toMatchObject({ error: 'RevisionConflict', status: 409, field: 'expectedLatest' });
    expect(refused.message).toContain(`not expectedLatest ${base.wtime}`);
    const winner = answers.find((answer) => answer.statusCode === 201)!.json() as RevisionView;
    const history = (await app.inject({ url: `${flagPath}/revisions?limit=2`, headers: ADMIN_HEADERS })).json();
    expect(history.map((revision: RevisionView) => revision.wtime)).toEqual([winner.wtime, base.wtime]);
  });

  it('refuses a stale expectedLatest on rollback, archive, kill switch and metadata, writing nothing', async () => {
    const [older] = (await app.inject({ url: `${flagPath}/revisions?limit=2`, headers: ADMIN_HEADERS }))
      .json()
      .slice(1);
    const before = await latest();
    for (const [path, payload] of [
      ['revisions', { ControlValue: false }],
      ['rollback', {}],
      ['archive', {}],
      ['disable', {}],
      ['metadata', { Metadata: { ticket: 'SHOP-1' } }],
    ] as const) {
      const answer = await post(path, { ...payload, expectedLatest: older.wtime });
      expect(answer.statusCode, `${path}: ${answer.body}`).toBe(409);
      expect(answer.json().error).toBe('RevisionConflict');
    }
    expect((await latest()).wtime).toBe(before.wtime);
    const current = await post('metadata', { Metadata: { ticket: 'SHOP-1' }, expectedLatest: before.wtime });
    expect(current.statusCode, current.body).toBe(201);
  });

  it('answers 400 naming expectedLatest when it is not a revision time', async () => {
    const answer = await post('revisions', { ControlValue: true, expectedLatest: 'yesterday' });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ error: 'InvalidInput', field: 'expectedLatest' });
    const wrongType = await post('revisions', { ControlValue: true, expectedLatest: 42 });
    expect(wrongType.statusCode).toBe(400);
  });

  it('keeps every metadata change of writers on several connections patching at once (a change made from the revision in force is made again on the newer one)', async () => {
    const admins = await Promise.all(Array.from({ length: 6 }, async () => new FlagAdmin(await connection())));
    const before = (await admins[0]!.history(ref)).length;
    await Promise.all(admins.map((admin, i) => admin.updateMetadata(ref, { Metadata: { [`key${i}`]: `value ${i}` } })));
    const revision = await latest();
    for (let i = 0; i < admins.length; i++) expect(revision.revision.Metadata).toHaveProperty(`key${i}`, `value ${i}`);
    expect((await admins[0]!.history(ref)).length).toBe(before + admins.length);
  });

  it('loses no revision of many API writers at once, and lists them in strict time order', async () => {
    const before = (await app.inject({ url: `${flagPath}/revisions`, headers: ADMIN_HEADERS })).json().length;
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => post('revisions', { ControlValue: i % 2 === 0, Comment: `many ${i}` })),
    );
    expect(answers.filter((answer) => answer.statusCode !== 201)).toEqual([]);
    const history: RevisionView[] = (await app.inject({ url: `${flagPath}/revisions`, headers: ADMIN_HEADERS })).json();
    expect(history).toHaveLength(before + 40);
    const comments = new Set(history.map((revision) => revision.revision.Comment));
    for (let i = 0; i < 40; i++) expect(comments).toContain(`many ${i}`);
    for (let i = 1; i < history.length; i++) expect(history[i - 1]!.wtime > history[i]!.wtime).toBe(true);
  });
});

describe('vexil --expected-latest', () => {
  const cli = new CliHarness();
  afterAll(() => cli.cleanup());

  it('writes when the revision named is still the newest, and fails saying the flag changed, writing nothing, when it is not', async () => {
    const flag = ['checkout', '-p', PROJECT, '-t', 'feature'];
    expect((await cli.run('add-flag', ...flag)).code).toBe(0);
    const first = await cli.json<RevisionView>('add-revision', ...flag, '-c', 'false', '--expected-latest', 'none');
    const second = await cli.json<RevisionView>(
      'add-revision',
      ...flag,
      '-c',
      'true',
      '--expected-latest',
      first.wtime,
    );
    const stale = await cli.run('disable', ...flag, '--expected-latest', first.wtime);
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain('changed since you read it');
    expect(stale.stderr).toContain(`its newest revision is ${second.wtime}`);
    expect((await cli.json<RevisionView>('latest', ...flag)).wtime).toBe(second.wtime);
  });
});
