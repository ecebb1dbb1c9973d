import { MemoryStore } from '@vexil/store';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { seedFlags } from './service-harness.js';
import { buildTestApp } from './support/test-token.js';

const API = '/admin/v1';
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
const noToken = { authorization: null } as never;

describe('who am I, which projects (the dashboard sign-in)', () => {
  let store: MemoryStore;
  let app: FastifyInstance;

  beforeEach(async () => {
    store = new MemoryStore();
    // shop predates project settings (public evaluation); payments is another project with one flag and a segment.
    await seedFlags(new FlagAdmin(store));
    const admin = new FlagAdmin(store);
    await admin.addFlag({ project: 'payments', flagType: 'number', name: 'retry_limit' });
    await admin.addSegment({ project: 'payments', flagType: 'segment', name: 'staff' }, { Included: ['a'] });
    app = await buildTestApp({ config: loadConfig({ VEXIL_STORE: 'memory:' }), store, defaultMetrics: false });
  });

  afterEach(async () => {
    await app.close();
  });

  const send = (options: InjectOptions) => app.inject(options);

  async function token(scope: string, projects: string[], owner = `${scope}-owner`) {
    const response = await send({ method: 'POST', url: `${API}/tokens`, payload: { scope, projects, owner } });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { secret: string; token: { id: string } };
  }

  it('whoami names the token, its owner, scope and projects; an admin token covers "*"', async () => {
    const reader = await token('read', ['shop', 'fresh'], 'pm-anna');
    const mine = await send({ url: `${API}/whoami`, headers: bearer(reader.secret) });
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json()).toEqual({
      tokenId: reader.token.id,
      owner: 'pm-anna',
      scope: 'read',
      projects: ['shop', 'fresh'],
    });
    const admin = (await send({ url: `${API}/whoami` })).json();
    expect(admin).toEqual({
      tokenId: expect.stringMatching(/^tok_/),
      owner: 'bootstrap',
      scope: 'admin',
      projects: '*',
    });
  });

  it('whoami and projects answer 401 with WWW-Authenticate without a token, with an unknown one and a revoked one', async () => {
    const writer = await token('write', ['shop']);
    await send({ method: 'POST', url: `${API}/tokens/${writer.token.id}/revoke` });
    for (const url of [`${API}/whoami`, `${API}/projects`]) {
      for (const headers of [noToken, bearer('vexil_made-up'), bearer(writer.secret)]) {
        const response = await send({ url, headers });
        expect(response.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(response.json()).toMatchObject({ error: 'Unauthorized', field: 'Authorization' });
      }
    }
  });

  it('lists every project with a flag for an admin, with flag counts (segments not counted) and the evaluation setting', async () => {
    await send({ method: 'PUT', url: `${API}/projects/payments/settings`, payload: { publicEvaluation: false } });
    const response = await send({ url: `${API}/projects` });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      projects: [
        { name: 'payments', flagCount: 1, publicEvaluation: false },
        { name: 'shop', flagCount: 2, publicEvaluation: true },
      ],
    });
  });

  it("lists only a read or write token's own projects, one without flags yet as empty and not public", async () => {
    const reader = await token('read', ['shop', 'fresh']);
    const response = await send({ url: `${API}/projects`, headers: bearer(reader.secret) });
    expect(response.json()).toEqual({
      projects: [
        { name: 'fresh', flagCount: 0, publicEvaluation: false },
        { name: 'shop', flagCount: 2, publicEvaluation: true },
      ],
    });
  });

  it("lets a read token use the admin API's reading routes of its projects, and nothing that writes", async () => {
    const reader = await token('read', ['shop']);
    const as = bearer(reader.secret);
    const flag = `${API}/projects/shop/flags/feature/new_checkout`;
    for (const url of [
      `${API}/projects/shop/flags?with_revision=true`,
      flag,
      `${flag}/revisions`,
      `${flag}/revisions/latest`,
      `${flag}/evaluate?instance_id=u1`,
      `${API}/projects/shop/log`,
      `${API}/projects/shop/segments`,
      `${API}/projects/shop/doctor`,
    ]) {
      const response = await send({ url, headers: as });
      expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
    }
    const evaluated = await send({
      method: 'POST',
      url: `${flag}/evaluate`,
      headers: as,
      payload: { context: { targetingKey: 'qa-1' } },
    });
    expect(evaluated.statusCode, evaluated.body).toBe(200);
    expect(evaluated.json()).toMatchObject({ value: true, group: 'override' });

    const before = await store.scanProject('shop');
    for (const [method, url, payload] of [
      ['POST', `${flag}/revisions`, { ControlValue: true }],
      ['POST', `${flag}/archive`, {}],
      ['POST', `${flag}/disable`, {}],
      ['POST', `${flag}/rollback`, {}],
      ['PATCH', flag, { description: 'x' }],
      ['POST', `${API}/projects/shop/flags`, { name: 'x', type: 'feature' }],
    ] as const) {
      const response = await send({ method, url, headers: as, payload });
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json()).toMatchObject({ error: 'Forbidden' });
    }
    expect(await store.scanProject('shop')).toEqual(before);
    // Another project's reading routes, the settings and the audit stay closed to it.
    expect((await send({ url: `${API}/projects/payments/flags`, headers: as })).statusCode).toBe(403);
    expect((await send({ url: `${API}/projects/shop/settings`, headers: as })).statusCode).toBe(403);
    expect((await send({ url: `${API}/audit`, headers: as })).statusCode).toBe(403);
  });

  it("keeps a public project's flags and log closed to callers without a token (only its evaluation is public)", async () => {
    const response = await send({ url: `${API}/projects/shop/flags`, headers: noToken });
    expect(response.statusCode).toBe(401);
    expect(response.json().message).toContain('a read token');
  });

  it('declares whoami and projects in the OpenAPI document, with the bearer scheme', async () => {
    const doc = (await send({ url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
    };
    for (const path of ['/admin/v1/whoami', '/admin/v1/projects']) {
      expect(doc.paths[path]!.get!.security).toEqual([{ bearerToken: [] }]);
      expect(Object.keys(doc.paths[path]!.get!.responses)).toEqual(expect.arrayContaining(['200', '401']));
    }
  });
});
