import { OFREPProvider } from '@openfeature/ofrep-provider';
import { ErrorCode, OpenFeature } from '@openfeature/server-sdk';
import type { FlagRef } from '@vexil/core';
import { InvalidInputError } from '@vexil/core';
import { MemoryStore } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Env, loadConfig } from '../src/config.js';
import { checkout, flagUrl, flushLog, provider, serviceWithFlags } from './service-harness.js';
import { buildTestApp } from './support/test-token.js';

const ids = Array.from({ length: 150 }, (_, i) => `user-${i}`).concat(['qa-1', 'A123456', '', 'ünïcødé id', 'a:b#c']);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => OpenFeature.clearProviders());

async function service(env: Env = {}) {
  const built = await serviceWithFlags(env);
  cleanups.push(() => built.app.close());
  return built;
}

async function listening(env: Env = {}) {
  const built = await service(env);
  const url = await built.app.listen({ port: 0, host: '127.0.0.1' });
  return { ...built, url };
}

async function viaGetFeatureFlag(app: FastifyInstance, ref: FlagRef, id: string) {
  const response = await app.inject(flagUrl(ref, id));
  expect(response.statusCode).toBe(200);
  return response.json<{ flag_value: boolean | string; rollout_group: string }>();
}

function evaluate(app: FastifyInstance, key: string, context: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: `/ofrep/v1/evaluate/flags/${key}`,
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ context }),
  });
}

function bulk(app: FastifyInstance, context: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/ofrep/v1/evaluate/flags',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ context }),
  });
}

describe('the official OFREP provider (@openfeature/ofrep-provider 0.1.3) against the service', () => {
  it('returns what /get-feature-flag returns, for many instance ids, for a feature and a data flag', async () => {
    const { app, url } = await listening();
    await OpenFeature.setProviderAndWait('vexil', new OFREPProvider({ baseUrl: url }));
    const client = OpenFeature.getClient('vexil');
    const seen = { feature: new Set<unknown>(), data: new Set<unknown>() };
    for (const id of ids.filter((id) => id !== '')) {
      const context = { targetingKey: id, project_name: 'shop' };
      const expectedFeature = await viaGetFeatureFlag(app, checkout, id);
      const expectedData = await viaGetFeatureFlag(app, provider, id);
      expect(await client.getBooleanValue('new_checkout', !expectedFeature.flag_value, context)).toBe(
        expectedFeature.flag_value,
      );
      expect(await client.getStringValue('llm_provider', 'default', context)).toBe(expectedData.flag_value);
      const details = await client.getBooleanDetails('new_checkout', false, context);
      expect(details.variant).toBe(expectedFeature.rollout_group);
      expect(details.errorCode).toBeUndefined();
      seen.feature.add(expectedFeature.rollout_group);
      seen.data.add(expectedData.rollout_group);
    }
    // Every rule was exercised: override, rollout and control for both flags.
    expect([...seen.feature].sort()).toEqual(['control', 'override', 'treatment']);
    expect([...seen.data].sort()).toEqual(['control', 'override-1', 'treatment-1', 'treatment-2']);
  });

  it('gives reason, variant and metadata in the details', async () => {
    const { url, admin } = await listening();
    const newest = await admin.latestRevision(checkout);
    await OpenFeature.setProviderAndWait('vexil-details', new OFREPProvider({ baseUrl: url }));
    const client = OpenFeature.getClient('vexil-details');
    const details = await client.getBooleanDetails('new_checkout', false, {
      targetingKey: 'qa-1',
      project_name: 'shop',
    });
    expect(details).toMatchObject({
      flagKey: 'new_checkout',
      value: true,
      reason: 'TARGETING_MATCH',
      variant: 'override',
      flagMetadata: { project: 'shop', flagType: 'feature', revision: newest.wtime },
    });
  });

  it('answers FLAG_NOT_FOUND (and the default value) for a missing flag', async () => {
    const { url } = await listening();
    await OpenFeature.setProviderAndWait('vexil-missing', new OFREPProvider({ baseUrl: url }));
    const client = OpenFeature.getClient('vexil-missing');
    const context = { targetingKey: 'user-1', project_name: 'shop' };
    const details = await client.getBooleanDetails('no_such_flag', true, context);
    expect(details).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND });
    expect(details.errorMessage).toContain('no_such_flag');
    expect(await client.getStringValue('no_such_flag', 'fallback', context)).toBe('fallback');
    // In a project that does not exist, too.
    const elsewhere = await client.getBooleanDetails('new_checkout', false, {
      targetingKey: 'u',
      project_name: 'none',
    });
    expect(elsewhere.errorCode).toBe(ErrorCode.FLAG_NOT_FOUND);
  });

  it('answers TARGETING_KEY_MISSING when the context has no targetingKey', async () => {
    const { url } = await listening();
    await OpenFeature.setProviderAndWait('vexil-nokey', new OFREPProvider({ baseUrl: url }));
    const details = await OpenFeature.getClient('vexil-nokey').getBooleanDetails('new_checkout', false, {
      project_name: 'shop',
    });
    expect(details).toMatchObject({ value: false, errorCode: ErrorCode.TARGETING_KEY_MISSING });
  });
});

describe('POST /ofrep/v1/evaluate/flags/{key}', () => {
  it('answers {key, value, reason, variant, metadata}', async () => {
    const { app, admin } = await service();
    const newest = await admin.latestRevision(provider);
    const response = await evaluate(app, 'llm_provider', { targetingKey: 'A123456', project_name: 'shop' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({
      key: 'llm_provider',
      value: 'claude',
      reason: 'TARGETING_MATCH',
      variant: 'override-1',
      metadata: { project: 'shop', flagType: 'data', revision: newest.wtime },
    });
    // Which flag and revision answered, in headers too (for answers of the flag model, whose metadata is the revision's own).
    expect(response.headers).toMatchObject({
      'x-vexil-project': 'shop',
      'x-vexil-flag-type': 'data',
      'x-vexil-revision': newest.wtime,
    });
  });

  it('gives SPLIT for a percentage rollout, DEFAULT for the control value, STATIC when nobody is targeted', async () => {
    const { app, admin } = await service();
    const reasons = new Map<string, string>();
    for (const id of ids.slice(0, 50)) {
      const body = (await evaluate(app, 'new_checkout', { targetingKey: id, project_name: 'shop' })).json();
      reasons.set(body.variant, body.reason);
    }
    expect(Object.fromEntries(reasons)).toEqual({ treatment: 'SPLIT', control: 'DEFAULT' });

    const fixed: FlagRef = { project: 'shop', flagType: 'data', name: 'fixed_model' };
    await admin.addFlag(fixed);
    await admin.addRevision(fixed, { ControlValue: 'gpt-4o' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const body = (await evaluate(app, 'fixed_model', { targetingKey: 'u', project_name: 'shop' })).json();
    expect(body).toMatchObject({ value: 'gpt-4o', reason: 'STATIC', variant: 'control' });
  });

  it('takes the project from VEXIL_DEFAULT_PROJECT when the context has no project_name', async () => {
    const { app } = await service({ VEXIL_DEFAULT_PROJECT: 'shop' });
    const response = await evaluate(app, 'new_checkout', { targetingKey: 'qa-1' });
    expect(response.json()).toMatchObject({ value: true, metadata: { project: 'shop' } });
    expect(response.headers['x-vexil-project']).toBe('shop');
  });

  it.each([
    ['no targetingKey', { project_name: 'shop' }, 'TARGETING_KEY_MISSING', 'targetingKey'],
    ['a targetingKey that is no string', { targetingKey: 42, project_name: 'shop' }, 'INVALID_CONTEXT', 'string'],
    ['no project_name and no default project', { targetingKey: 'u' }, 'INVALID_CONTEXT', 'VEXIL_DEFAULT_PROJECT'],
    ['a bad project_name', { targetingKey: 'u', project_name: '../etc' }, 'INVALID_CONTEXT', 'project_name'],
    ['a bad flag_type', { targetingKey: 'u', project_name: 'shop', flag_type: 'bool' }, 'INVALID_CONTEXT', 'flag_type'],
    ['a context that is no object', 'A123', 'INVALID_CONTEXT', 'context'],
  ])('answers 400 for %s, with the errorCode and what to fix', async (_what, context, errorCode, mention) => {
    const { app } = await service();
    const response = await evaluate(app, 'new_checkout', context);
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body).toMatchObject({ key: 'new_checkout', errorCode });
    expect(body.errorDetails).toContain(mention);
  });

  it('answers 400 PARSE_ERROR for a body that is not JSON', async () => {
    const { app } = await service();
    const response = await app.inject({
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/new_checkout',
      headers: { 'content-type': 'application/json' },
      payload: '{"context": ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      key: 'new_checkout',
      errorCode: 'PARSE_ERROR',
      errorDetails:
        'the request body is not valid JSON (Content-Type says application/json): send a JSON body (an OFREP request body is {"context": {…}})',
    });
    expect(response.body).not.toMatch(/FST_|Fastify|content-type is set to/);
  });

  it('answers 404 FLAG_NOT_FOUND for a missing flag, a flag without revision, an archived flag and a bad name', async () => {
    const { app, admin } = await service();
    await admin.addFlag({ project: 'shop', flagType: 'feature', name: 'not_yet' });
    await admin.archive(checkout);
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const key of ['missing', 'not_yet', 'new_checkout', 'Bad-Name']) {
      const response = await evaluate(app, key, { targetingKey: 'u', project_name: 'shop' });
      expect(response.statusCode, key).toBe(404);
      expect(response.json()).toMatchObject({ key, errorCode: 'FLAG_NOT_FOUND', errorDetails: expect.any(String) });
    }
    // As /get-feature-flag answers them.
    expect((await app.inject(flagUrl(checkout, 'u'))).statusCode).toBe(404);
  });

  it('answers 400 INVALID_CONTEXT for a name that is both a feature and a data flag, unless flag_type picks one', async () => {
    const { app, admin } = await service();
    const twin: FlagRef = { project: 'shop', flagType: 'data', name: 'new_checkout' };
    await admin.addFlag(twin);
    await admin.addRevision(twin, { ControlValue: 'v2' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const ambiguous = await evaluate(app, 'new_checkout', { targetingKey: 'qa-1', project_name: 'shop' });
    expect(ambiguous.statusCode).toBe(400);
    expect(ambiguous.json()).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
    expect(ambiguous.json().errorDetails).toContain('flag_type');
    const feature = await evaluate(app, 'new_checkout', {
      targetingKey: 'qa-1',
      project_name: 'shop',
      flag_type: 'feature',
    });
    expect(feature.json()).toMatchObject({ value: true, metadata: { flagType: 'feature' } });
    expect(feature.headers['x-vexil-flag-type']).toBe('feature');
    const data = await evaluate(app, 'new_checkout', { targetingKey: 'qa-1', project_name: 'shop', flag_type: 'data' });
    expect(data.json()).toMatchObject({ value: 'v2', metadata: { flagType: 'data' } });
    expect(data.headers['x-vexil-flag-type']).toBe('data');
  });

  it('answers 400 PARSE_ERROR for a stored revision that does not validate, for that flag only', async () => {
    const { app, store } = await service();
    const broken: FlagRef = { project: 'shop', flagType: 'feature', name: 'broken' };
    await store.append([
      { kind: 'FLAG', ref: broken, fields: { Name: 'broken', Type: 'FEATURE' } },
      {
        kind: 'REVISION',
        ref: broken,
        fields: {
          Name: 'broken',
          Type: 'FEATURE',
          FormatVersion: 1,
          ControlValue: false,
          Treatments: [{ OverrideList: [], PercentRollout: 150, Value: true }],
        },
      },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const response = await evaluate(app, 'broken', { targetingKey: 'u', project_name: 'shop' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ key: 'broken', errorCode: 'PARSE_ERROR' });
    expect(response.json().errorDetails).toContain('PercentRollout');
    expect((await evaluate(app, 'new_checkout', { targetingKey: 'u', project_name: 'shop' })).statusCode).toBe(200);
  });

  it('writes each evaluation to the evaluation log, as /get-feature-flag does', async () => {
    const { app, store } = await service();
    await evaluate(app, 'new_checkout', { targetingKey: 'qa-1', project_name: 'shop' }, { 'x-request-id': 'of-1' });
    await evaluate(app, 'llm_provider', { targetingKey: 'A123456', project_name: 'shop' }, { 'x-request-id': 'of-2' });
    await evaluate(app, 'missing', { targetingKey: 'u', project_name: 'shop' });
    await flushLog(app);
    const rows = await store.readLogs({ project: 'shop' });
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.requestId === 'of-1')).toMatchObject({
      flagType: 'feature',
      flagName: 'new_checkout',
      instanceId: 'qa-1',
      value: true,
      group: 'override',
      cacheHit: false,
    });
    expect(rows.find((r) => r.requestId === 'of-2')).toMatchObject({
      flagType: 'data',
      value: 'claude',
      group: 'override-1',
      cacheHit: true,
    });
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toContain('vexil_evaluations_total{project="shop",flag="new_checkout",group="override"} 1');
  });
});

describe('POST /ofrep/v1/evaluate/flags (bulk)', () => {
  it('evaluates every flag of the project as the single evaluation does, with an ETag', async () => {
    const { app } = await service();
    const context = { targetingKey: 'A123456', project_name: 'shop' };
    const response = await bulk(app, context);
    expect(response.statusCode).toBe(200);
    const { flags } = response.json<{ flags: { key: string }[] }>();
    expect(flags.map((f) => f.key)).toEqual(['llm_provider', 'new_checkout']);
    for (const flag of flags) expect(flag).toEqual((await evaluate(app, flag.key, context)).json());
    expect(response.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('answers 304 to If-None-Match with the ETag, until the context or a flag changes', async () => {
    const { app, admin } = await service();
    const context = { targetingKey: 'user-7', project_name: 'shop' };
    const etag = (await bulk(app, context)).headers.etag as string;

    const same = await bulk(app, context, { 'if-none-match': etag });
    expect(same.statusCode).toBe(304);
    expect(same.body).toBe('');
    expect(same.headers.etag).toBe(etag);
    expect((await bulk(app, context, { 'if-none-match': `W/${etag}` })).statusCode).toBe(304);

    const otherUser = await bulk(app, { ...context, targetingKey: 'user-8' }, { 'if-none-match': etag });
    expect(otherUser.statusCode).toBe(200);

    await admin.addRevision(checkout, { ControlValue: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const changed = await bulk(app, context, { 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.json().flags.find((f: { key: string }) => f.key === 'new_checkout')).toMatchObject({
      value: true,
      reason: 'STATIC',
    });
  });

  it('leaves archived flags out, and lists a name of two types or a broken revision as a failure entry', async () => {
    const { app, admin, store } = await service();
    await admin.archive(provider);
    const twin: FlagRef = { project: 'shop', flagType: 'data', name: 'new_checkout' };
    await admin.addFlag(twin);
    await admin.addRevision(twin, { ControlValue: 'v2' });
    const broken: FlagRef = { project: 'shop', flagType: 'data', name: 'broken' };
    await store.append([
      { kind: 'FLAG', ref: broken, fields: { Name: 'broken', Type: 'DATA' } },
      { kind: 'REVISION', ref: broken, fields: { Name: 'broken', Type: 'DATA', ControlValue: 7, Treatments: [] } },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { flags } = (await bulk(app, { targetingKey: 'qa-1', project_name: 'shop' })).json();
    expect(flags).toEqual([
      { key: 'broken', errorCode: 'PARSE_ERROR', errorDetails: expect.stringContaining('ControlValue') },
      { key: 'new_checkout', errorCode: 'INVALID_CONTEXT', errorDetails: expect.stringContaining('flag_type') },
    ]);
    const picked = (await bulk(app, { targetingKey: 'qa-1', project_name: 'shop', flag_type: 'feature' })).json();
    expect(picked.flags.map((f: { key: string; value?: unknown }) => [f.key, f.value])).toEqual([
      ['broken', undefined],
      ['new_checkout', true],
    ]);
  });

  it('answers 400 {errorCode, errorDetails} for a bad context', async () => {
    const { app } = await service();
    const response = await bulk(app, { project_name: 'shop' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ errorCode: 'TARGETING_KEY_MISSING', errorDetails: expect.any(String) });
  });

  it('writes one evaluation-log row per flag evaluated, none for a 304', async () => {
    const { app, store } = await service();
    const context = { targetingKey: 'qa-1', project_name: 'shop' };
    const first = await bulk(app, context, { 'x-request-id': 'bulk-1' });
    await bulk(app, context, { 'if-none-match': first.headers.etag as string });
    await flushLog(app);
    const rows = await store.readLogs({ project: 'shop' });
    expect(rows.map((r) => [r.flagName, r.instanceId, r.requestId, r.group])).toEqual([
      ['llm_provider', 'qa-1', 'bulk-1', 'control'],
      ['new_checkout', 'qa-1', 'bulk-1', 'override'],
    ]);
  });
});

describe('OFREP rate limit and CORS', () => {
  it('answers 429 with Retry-After in seconds past VEXIL_OFREP_RATE_LIMIT requests a minute', async () => {
    const { app } = await service({ VEXIL_OFREP_RATE_LIMIT: '3' });
    const context = { targetingKey: 'u', project_name: 'shop' };
    for (let i = 0; i < 3; i++) expect((await evaluate(app, 'new_checkout', context)).statusCode).toBe(200);
    const limited = await evaluate(app, 'new_checkout', context);
    expect(limited.statusCode).toBe(429);
    const retryAfter = String(limited.headers['retry-after']);
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(limited.json()).toMatchObject({ key: 'new_checkout', errorCode: 'GENERAL' });
    expect(limited.json().errorDetails).toContain('rate limit');
    expect((await bulk(app, context)).statusCode).toBe(429);
    // Other routes are not limited.
    expect((await app.inject(flagUrl(checkout, 'u'))).statusCode).toBe(200);
  });

  it('the official provider pauses after a 429 and answers the default', async () => {
    const { url } = await listening({ VEXIL_OFREP_RATE_LIMIT: '1' });
    await OpenFeature.setProviderAndWait('vexil-limited', new OFREPProvider({ baseUrl: url }));
    const client = OpenFeature.getClient('vexil-limited');
    const context = { targetingKey: 'qa-1', project_name: 'shop' };
    expect(await client.getBooleanValue('new_checkout', false, context)).toBe(true);
    const limited = await client.getBooleanDetails('new_checkout', false, context);
    expect(limited).toMatchObject({ value: false, errorCode: ErrorCode.GENERAL });
  });

  it('is off by default', async () => {
    const { app } = await service();
    for (let i = 0; i < 50; i++) {
      expect((await evaluate(app, 'new_checkout', { targetingKey: 'u', project_name: 'shop' })).statusCode).toBe(200);
    }
  });

  it('answers a browser preflight and exposes ETag and Retry-After', async () => {
    const { app } = await service();
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/ofrep/v1/evaluate/flags',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,if-none-match',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toBe('content-type,if-none-match');
    const answer = await bulk(app, { targetingKey: 'u', project_name: 'shop' }, { origin: 'https://app.example.com' });
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(String(answer.headers['access-control-expose-headers'])).toBe('ETag, Retry-After');
  });

  it('allows only VEXIL_CORS_ORIGINS when set', async () => {
    const { app } = await service({ VEXIL_CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' });
    const ask = (origin: string) =>
      bulk(app, { targetingKey: 'u', project_name: 'shop' }, { origin }).then(
        (r) => r.headers['access-control-allow-origin'],
      );
    expect(await ask('https://admin.example.com')).toBe('https://admin.example.com');
    expect(await ask('https://evil.example')).toBeUndefined();
  });
});

describe('OFREP on a store shared by two services', () => {
  it('answers the same bulk ETag on both', async () => {
    const store = new MemoryStore();
    const one = await serviceWithFlags({}, store);
    const two = await buildTestApp({ config: loadConfig({ VEXIL_STORE: 'memory:' }), store, defaultMetrics: false });
    cleanups.push(
      () => one.app.close(),
      () => two.close(),
    );
    const context = { targetingKey: 'u', project_name: 'shop' };
    expect((await bulk(one.app, context)).headers.etag).toBe((await bulk(two, context)).headers.etag);
  });
});

describe('OFREP configuration', () => {
  it('defaults to no default project, no rate limit, a 15 s heartbeat and any origin', () => {
    expect(loadConfig({})).toMatchObject({
      defaultProject: undefined,
      ofrepRateLimit: 0,
      sseHeartbeatMs: 15_000,
      corsOrigins: '*',
    });
  });

  it.each([
    ['VEXIL_DEFAULT_PROJECT', '../shop'],
    ['VEXIL_OFREP_RATE_LIMIT', 'fast'],
    ['VEXIL_OFREP_RATE_LIMIT', '-1'],
    ['VEXIL_SSE_HEARTBEAT_MS', '0'],
    ['VEXIL_CORS_ORIGINS', 'app.example.com'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(InvalidInputError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
