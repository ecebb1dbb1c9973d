import { evaluateRevision, type Revision } from '@vexil/core';
import { afterEach, describe, expect, it } from 'vitest';
import { checkout, flagUrl, flushLog, provider, serviceWithFlags } from './service-harness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function service(env = {}) {
  const s = await serviceWithFlags(env);
  close = () => s.app.close();
  return s;
}

describe('GET /get-feature-flag', () => {
  it('answers the runbook response with a fresh UUID request id', async () => {
    const { app } = await service();
    const response = await app.inject(flagUrl(checkout, 'qa-1'));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/json');
    const body = response.json();
    expect(body).toEqual({
      request_id: expect.stringMatching(UUID),
      instance_id: 'qa-1',
      flag_type: 'feature',
      flag_name: 'new_checkout',
      flag_value: true,
      rollout_group: 'override',
    });
  });

  it('answers with and without the trailing slash', async () => {
    const { app } = await service();
    const plain = await app.inject(flagUrl(provider, 'A123456'));
    const slash = await app.inject(flagUrl(provider, 'A123456', '/get-feature-flag/'));
    expect(plain.statusCode).toBe(200);
    expect(slash.statusCode).toBe(200);
    expect([plain.json().flag_value, plain.json().rollout_group]).toEqual(['claude', 'override-1']);
    expect([slash.json().flag_value, slash.json().rollout_group]).toEqual(['claude', 'override-1']);
  });

  it('answers a flag asked for by the type it does not have with a hint naming the type it has', async () => {
    const { app } = await service();
    for (const [ref, asked, actual] of [
      [checkout, 'data', 'feature'],
      [provider, 'feature', 'data'],
    ] as const) {
      const response = await app.inject(flagUrl({ ...ref, flagType: asked }, 'u1'));
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({
        error: 'EmptyFlagDataException',
        field: 'flag_type',
        message: `No Flag Data found: flag ${ref.name} is a ${actual} flag, not a ${asked} flag`,
        hint: `ask for it as a ${actual} flag: flag_type=${actual}`,
      });
    }
    // A name that exists with neither type keeps the plain answer.
    const none = await app.inject(flagUrl({ ...checkout, name: 'nothing_here' }, 'u1'));
    expect(none.json()).toMatchObject({ error: 'EmptyFlagDataException', field: 'flag_name' });
  });

  it('uses the caller X-Request-Id as request_id', async () => {
    const { app } = await service();
    const response = await app.inject({ url: flagUrl(checkout, 'u1'), headers: { 'x-request-id': 'trace-42' } });
    expect(response.json().request_id).toBe('trace-42');
  });

  it('gives the same value and group as evaluateRevision on the stored revision', async () => {
    const { app, admin } = await service();
    const latest = (await admin.latestRevision(provider)).revision as Revision;
    for (let i = 0; i < 200; i++) {
      const id = `user-${i * 7919}`;
      const body = (await app.inject(flagUrl(provider, id))).json();
      const expected = evaluateRevision(latest, id);
      expect([body.flag_value, body.rollout_group]).toEqual([expected.value, expected.group]);
    }
  });

  it('writes one log row per answer, with the runbook row key and columns, after the response', async () => {
    const { app, store } = await service();
    const first = await app.inject({ url: flagUrl(checkout, 'a#b %c'), headers: { 'x-request-id': 'r1' } });
    const second = await app.inject({ url: flagUrl(checkout, 'a#b %c'), headers: { 'x-request-id': 'r2' } });
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    await flushLog(app);
    const rows = await store.readLogs({ project: 'shop', flagType: 'feature', flagName: 'new_checkout' });
    expect(rows).toHaveLength(2);
    const byId = Object.fromEntries(rows.map((r) => [r.requestId, r]));
    expect(byId.r1).toMatchObject({
      instanceId: 'a#b %c',
      value: first.json().flag_value,
      group: first.json().rollout_group,
      cacheHit: false,
    });
    expect(byId.r2?.cacheHit).toBe(true);
    expect(byId.r1?.time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  });

  it('writes no log row for an error answer', async () => {
    const { app, store } = await service();
    expect((await app.inject(flagUrl({ ...checkout, name: 'missing' }, 'u'))).statusCode).toBe(404);
    await flushLog(app);
    expect(await store.readLogs({ project: 'shop' })).toEqual([]);
  });

  it('serves a new revision once its cached data is dropped, and the old one until then', async () => {
    const { app, admin } = await service();
    const before = (await app.inject(flagUrl(checkout, 'vip'))).json();
    await admin.addRevision(checkout, {
      ControlValue: false,
      Treatments: [{ OverrideList: ['vip'], PercentRollout: 0, Value: true }],
    });
    const cached = (await app.inject(flagUrl(checkout, 'vip'))).json();
    expect(cached.rollout_group).toBe(before.rollout_group);
    app.services.evaluator.invalidate(checkout);
    const fresh = (await app.inject(flagUrl(checkout, 'vip'))).json();
    expect([fresh.flag_value, fresh.rollout_group]).toEqual([true, 'override']);
  });

  it('counts evaluations, requests and cache lookups in /metrics', async () => {
    const { app } = await service();
    await app.inject(flagUrl(checkout, 'qa-1'));
    await app.inject(flagUrl(checkout, 'qa-1'));
    const metrics = await app.inject('/metrics');
    expect(metrics.headers['content-type']).toContain('text/plain');
    const text = metrics.body;
    expect(text).toContain('vexil_evaluations_total{project="shop",flag="new_checkout",group="override"} 2');
    expect(text).toContain('vexil_http_requests_total{route="/get-feature-flag",method="GET",status="200"} 2');
    expect(text).toContain('vexil_cache_lookups_total{cache="flag",result="hit"} 1');
    expect(text).toContain('vexil_cache_lookups_total{cache="flag",result="miss"} 1');
    expect(text).toMatch(
      /vexil_http_request_duration_seconds_count\{route="\/get-feature-flag",method="GET",status="200"\} 2/,
    );
    expect(text).toContain('vexil_evaluation_log_queue_depth');
    expect(text).toContain('vexil_evaluation_log_dropped_total 0');
  });
});

describe('health and docs', () => {
  it('/healthz answers ok with the environment', async () => {
    const { app } = await service({ environment: 'hcb-dev' });
    const response = await app.inject('/healthz');
    expect(response.json()).toEqual({ status: 'ok', environment: 'hcb-dev' });
  });

  it('/readyz answers ready while the store answers and 503 when it does not', async () => {
    const { app, store } = await service();
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready', store: 'memory' });
    await store.close();
    const down = await app.inject('/readyz');
    expect(down.statusCode).toBe(503);
    expect(down.json().status).toBe('unavailable');
  });

  it('/docs/json is the OpenAPI document with the evaluation endpoint', async () => {
    const { app } = await service();
    const doc = (await app.inject('/docs/json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/get-feature-flag'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'flag_name',
      'flag_type',
      'instance_id',
      'project_name',
    ]);
    const ui = await app.inject('/docs');
    expect([200, 302]).toContain(ui.statusCode);
  });
});
