import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '@vexil/store';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../src/access/audit.js';
import type { TokenView } from '../src/access/tokens.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { startService } from '../src/serve.js';
import type { RevisionView } from '../src/views.js';
import { checkout, flagUrl, seedFlags } from './service-harness.js';
import { ADMIN_HEADERS, buildTestApp, TEST_ADMIN_TOKEN } from './support/test-token.js';

const API = '/admin/v1';
const archiveUrl = `${API}/projects/shop/flags/feature/new_checkout/archive`;

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

describe('access control', () => {
  let store: MemoryStore;
  let app: FastifyInstance;

  beforeEach(async () => {
    store = new MemoryStore();
    // Flags written before tokens existed (no project settings): public evaluation, as the runbook API always was.
    await seedFlags(new FlagAdmin(store));
    app = await buildTestApp({ config: loadConfig({ VEXIL_STORE: 'memory:' }), store, defaultMetrics: false });
  });

  afterEach(async () => {
    await app.close();
  });

  const send = (options: InjectOptions) => app.inject(options);

  async function token(scope: string, projects: string[], owner = `${scope}-owner`): Promise<string> {
    const response = await send({ method: 'POST', url: `${API}/tokens`, payload: { scope, projects, owner } });
    expect(response.statusCode, response.body).toBe(201);
    return (response.json() as { secret: string }).secret;
  }

  it('refuses a bodyless cross-site POST to archive with 401 and WWW-Authenticate, and the flag is unchanged', async () => {
    const before = await store.scanProject('shop');
    // What a form on another site makes a browser send: no token (cookies are never read).
    const response = await send({
      method: 'POST',
      url: archiveUrl,
      headers: { authorization: null, origin: 'https://evil.example', cookie: 'session=1' } as never,
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(response.json()).toMatchObject({ error: 'Unauthorized', status: 401 });
    // No CORS answer on the admin API: a page of another origin cannot read it either.
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(await store.scanProject('shop')).toEqual(before);
    const evaluated = await send({ url: flagUrl(checkout, 'qa-1'), headers: { authorization: null } as never });
    expect(evaluated.statusCode).toBe(200);
  });

  it('refuses every admin route without a valid token: none, unknown, revoked (401); a narrower token (403)', async () => {
    const flags = `${API}/projects/shop/flags`;
    expect((await send({ url: flags, headers: { authorization: null } as never })).statusCode).toBe(401);
    expect((await send({ url: flags, headers: bearer('vexil_made-up-secret') })).statusCode).toBe(401);
    expect((await send({ url: `${API}/tokens`, headers: { authorization: null } as never })).statusCode).toBe(401);

    const read = await token('read', ['shop']);
    const write = await token('write', ['shop']);
    const other = await token('write', ['payments'], 'payments-bot');
    expect((await send({ method: 'POST', url: archiveUrl, headers: bearer(read) })).statusCode).toBe(403);
    expect((await send({ method: 'POST', url: archiveUrl, headers: bearer(other) })).statusCode).toBe(403);
    expect((await send({ url: `${API}/tokens`, headers: bearer(write) })).statusCode).toBe(403);
    expect((await send({ url: `${API}/audit`, headers: bearer(write) })).statusCode).toBe(403);
    const viaHeader = await send({ url: flags, headers: { authorization: null, 'x-vexil-token': write } as never });
    expect(viaHeader.statusCode).toBe(200);

    const list = (await send({ url: `${API}/tokens` })).json() as TokenView[];
    const writeId = list.find((t) => t.owner === 'write-owner')!.id;
    expect(JSON.stringify(list)).not.toContain(write);
    expect(list.every((t) => !('hash' in t) && !('secret' in t))).toBe(true);
    const revoked = await send({ method: 'POST', url: `${API}/tokens/${writeId}/revoke` });
    expect(revoked.statusCode).toBe(200);
    expect((revoked.json() as TokenView).revokedTime).toMatch(/^\d{4}-/);
    const after = await send({ url: flags, headers: bearer(write) });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ message: expect.stringContaining('revoked') });
    expect((await send({ method: 'POST', url: `${API}/tokens/tok_nosuchtoken/revoke` })).statusCode).toBe(404);
  });

  it("records the token's owner as OwnerID, a given owner as OnBehalfOf, with the address and token", async () => {
    const write = await token('write', ['shop'], 'release-bot');
    const response = await send({
      method: 'POST',
      url: archiveUrl,
      headers: bearer(write),
      payload: { OwnerID: 'ceo', Comment: 'as asked' },
    });
    expect(response.statusCode, response.body).toBe(201);
    const { revision } = response.json() as RevisionView;
    expect(revision).toMatchObject({
      OwnerID: 'release-bot',
      OnBehalfOf: 'ceo',
      ActorAddress: '127.0.0.1',
      TokenID: expect.stringMatching(/^tok_/),
    });

    const audit = (await send({ url: `${API}/audit?project=shop` })).json() as AuditEntry[];
    expect(audit[0]).toMatchObject({
      action: 'archive',
      actor: 'release-bot',
      onBehalfOf: 'ceo',
      address: '127.0.0.1',
      project: 'shop',
      flagType: 'feature',
      name: 'new_checkout',
      detail: 'as asked',
    });
    const all = (await send({ url: `${API}/audit` })).json() as AuditEntry[];
    expect(all.filter((e) => e.action === 'token-create').map((e) => e.actor)).toEqual(['bootstrap', 'bootstrap']);
    expect(all.map((e) => e.action)).toEqual(expect.arrayContaining(['add', 'revision', 'archive', 'token-create']));
    const sinceNow = (await send({ url: `${API}/audit?since=2999-01-01` })).json() as AuditEntry[];
    expect(sinceNow).toEqual([]);
    expect((await send({ url: `${API}/audit?since=yesterday` })).statusCode).toBe(400);
  });

  it('keeps public evaluation for projects that predate settings; a new project needs a read token until set on', async () => {
    const add = await send({
      method: 'POST',
      url: `${API}/projects/fresh/flags`,
      payload: { name: 'f', type: 'feature' },
    });
    expect(add.statusCode).toBe(201);
    await send({
      method: 'POST',
      url: `${API}/projects/fresh/flags/feature/f/revisions`,
      payload: { ControlValue: true, Treatments: [] },
    });
    const fresh = { project: 'fresh', flagType: 'feature' as const, name: 'f' };
    const anonymous = { authorization: null } as never;

    const refused = await send({ url: flagUrl(fresh, 'u1'), headers: anonymous });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer/);
    const ofrep = await send({
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/f',
      headers: anonymous,
      payload: { context: { targetingKey: 'u1', project_name: 'fresh' } },
    });
    expect(ofrep.statusCode).toBe(401);
    expect((await send({ url: '/sdk/v1/projects/fresh/snapshot', headers: anonymous })).statusCode).toBe(401);

    const read = await token('read', ['fresh']);
    expect((await send({ url: flagUrl(fresh, 'u1'), headers: bearer(read) })).json()).toMatchObject({
      flag_value: true,
    });
    const shopRead = await token('read', ['shop']);
    expect((await send({ url: flagUrl(fresh, 'u1'), headers: bearer(shopRead) })).statusCode).toBe(403);
    // The project that predates settings answers without a token, as before.
    expect((await send({ url: flagUrl(checkout, 'qa-1'), headers: anonymous })).statusCode).toBe(200);

    const settings = await send({ url: `${API}/projects/fresh/settings` });
    expect(settings.json()).toMatchObject({ project: 'fresh', publicEvaluation: false, stored: true });
    const on = await send({
      method: 'PUT',
      url: `${API}/projects/fresh/settings`,
      payload: { publicEvaluation: true },
    });
    expect(on.statusCode, on.body).toBe(200);
    expect((await send({ url: flagUrl(fresh, 'u1'), headers: anonymous })).statusCode).toBe(200);
    const audit = (await send({ url: `${API}/audit?project=fresh` })).json() as AuditEntry[];
    expect(audit.filter((e) => e.action === 'settings').map((e) => e.detail)).toEqual([
      'publicEvaluation on',
      'publicEvaluation off',
    ]);
  });

  it('declares the bearer scheme in the OpenAPI document', async () => {
    const doc = (await send({ url: '/docs/json' })).json() as {
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    expect(doc.components.securitySchemes.bearerToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/get-feature-flag']!.get!.security).toEqual([{}, { bearerToken: [] }]);
  });
});

describe('admin CORS', () => {
  it('is closed unless VEXIL_ADMIN_CORS_ORIGINS names the origin', async () => {
    const store = new MemoryStore();
    const preflight = {
      method: 'OPTIONS' as const,
      url: archiveUrl,
      headers: { origin: 'https://admin.example', 'access-control-request-method': 'POST' },
    };
    const closed = await buildTestApp({ config: loadConfig({}), store, defaultMetrics: false });
    const refused = await closed.inject(preflight);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    await closed.close();
    const open = await buildTestApp({
      config: loadConfig({ VEXIL_ADMIN_CORS_ORIGINS: 'https://admin.example' }),
      store,
      defaultMetrics: false,
    });
    const allowed = await open.inject(preflight);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://admin.example');
    expect(String(allowed.headers['access-control-allow-headers'])).toMatch(/authorization/i);
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
    await open.close();
  });
});

describe('bootstrap token', () => {
  it('accepts VEXIL_ADMIN_TOKEN as given, stored hashed with owner bootstrap', async () => {
    const store = new MemoryStore();
    const app = await buildApp({
      config: loadConfig({ VEXIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN }),
      store,
      defaultMetrics: false,
    });
    const response = await app.inject({ url: `${API}/tokens`, headers: ADMIN_HEADERS });
    expect(response.json()).toEqual([expect.objectContaining({ owner: 'bootstrap', scope: 'admin', projects: [] })]);
    expect(JSON.stringify(await store.access.listTokens())).not.toContain(TEST_ADMIN_TOKEN);
    await app.close();
    await expect(
      buildApp({ config: loadConfig({ VEXIL_ADMIN_TOKEN: 'short' }), store, defaultMetrics: false }),
    ).rejects.toThrow(/at least 24 characters/);
  });

  it('creates and shows one admin token on a first start without any, and none on the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vexil-bootstrap-'));
    const config = loadConfig({ VEXIL_STORE: `sqlite:${join(dir, 'vexil.db')}`, PORT: '0', HOST: '127.0.0.1' });
    try {
      const shown: string[] = [];
      const first = await startService(config, { notice: (text) => shown.push(text) });
      const secret = /\n {4}(vexil_\S+)\n/.exec(shown.join(''))?.[1];
      expect(secret).toMatch(/^vexil_[A-Za-z0-9_-]{43}$/);
      expect((await fetch(`${first.url}${API}/tokens`, { headers: bearer(secret!) })).status).toBe(200);
      expect((await fetch(`${first.url}${API}/tokens`)).status).toBe(401);
      await first.stop();

      const again: string[] = [];
      const second = await startService(config, { notice: (text) => again.push(text) });
      expect(again).toEqual([]);
      expect((await fetch(`${second.url}${API}/tokens`, { headers: bearer(secret!) })).status).toBe(200);
      await second.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
