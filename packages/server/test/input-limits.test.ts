import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { MAX_JSON_DEPTH } from '@vexil/core';
import { MemoryStore } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type Env, loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { nestsDeeperThan } from '../src/http/json-body.js';
import { checkout, flagUrl, seedFlags, serviceWithFlags } from './service-harness.js';
import { buildTestApp, TEST_ADMIN_TOKEN } from './support/test-token.js';

/**
 * The limits on every input of `vexil serve` (issue 15, "bounded everything"): each
 * attack of the issue, and each limit's variable.
 */

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function service(env: Env = {}): Promise<FastifyInstance> {
  const { app } = await serviceWithFlags(env);
  apps.push(app);
  return app;
}

/** A service whose caller is the `x-caller` header, as a token's owner will be. */
async function serviceWithCallers(env: Env = {}): Promise<FastifyInstance> {
  const store = new MemoryStore();
  await seedFlags(new FlagAdmin(store));
  const app = await buildTestApp({
    config: loadConfig({ VEXIL_STORE: 'memory:', ...env }),
    store,
    defaultMetrics: false,
    caller: (request) => String(request.headers['x-caller'] ?? request.ip),
  });
  apps.push(app);
  return app;
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** The documented error body, with its request id. */
function errorBody(response: { statusCode: number; body: string }, status: number): Record<string, unknown> {
  expect(response.statusCode).toBe(status);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body).toMatchObject({ status, message: expect.any(String), request_id: expect.any(String) });
  expect(body.detail).toBe(body.message);
  return body;
}

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function post(app: FastifyInstance, url: string, body: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, body });
}

describe('request bodies', () => {
  it('a body nested 10,000 deep answers 400 naming the limit on every route that takes JSON (it answered 500)', async () => {
    const app = await service();
    const deep = nested(10_000);
    for (const [url, body] of [
      ['/admin/v1/projects/shop/flags/feature/new_checkout/revisions', `{"ControlValue":${deep},"Treatments":[]}`],
      ['/admin/v1/apply', `{"configs":${deep}}`],
      ['/admin/v1/projects/shop/flags', `{"name":"x","type":"feature","description":${deep}}`],
      ['/sdk/v1/evaluations', `{"project":"shop","evaluations":${deep}}`],
    ] as const) {
      const answer = errorBody(await post(app, url, body), 400);
      expect(answer).toMatchObject({ error: 'InvalidInput', field: 'body' });
      expect(answer.message).toContain('more than 100 deep');
      expect(answer.message).toContain('VEXIL_JSON_MAX_DEPTH');
    }
    const ofrep = await post(app, '/ofrep/v1/evaluate/flags', `{"context":{"targetingKey":"u","deep":${deep}}}`);
    expect(ofrep.statusCode).toBe(400);
    expect(ofrep.json().errorDetails).toContain('VEXIL_JSON_MAX_DEPTH');
    // Nothing was written.
    const history = await app.inject('/admin/v1/projects/shop/flags/feature/new_checkout/revisions');
    expect(history.json()).toHaveLength(1);
  });

  it('VEXIL_JSON_MAX_DEPTH sets the depth; brackets inside strings do not count', async () => {
    const app = await service({ VEXIL_JSON_MAX_DEPTH: '90' });
    const at = (depth: number) => post(app, '/admin/v1/apply', `{"configs":[${nested(depth - 2)}]}`);
    expect(errorBody(await at(91), 400).message).toContain('more than 90 deep');
    // 90 deep passes the parser: what is wrong with it is said by the route.
    expect(errorBody(await at(90), 400).message).not.toContain('VEXIL_JSON_MAX_DEPTH');
    expect(nestsDeeperThan(`{"a":"${'['.repeat(500)}\\"${'{'.repeat(500)}"}`, 2)).toBe(false);
    expect(nestsDeeperThan(`[${nested(3)}]`, 3)).toBe(true);
    expect(nestsDeeperThan(nested(3), 3)).toBe(false);
  });

  it('a JSON flag value nested as deep as a flag may be is accepted at the default depth', async () => {
    const app = await service();
    await post(app, '/admin/v1/projects/shop/flags', '{"name":"deep_json","type":"json"}');
    let value: unknown = { leaf: true };
    for (let depth = 1; depth < MAX_JSON_DEPTH; depth++) value = { v: value };
    const response = await post(
      app,
      '/admin/v1/projects/shop/flags/json/deep_json/revisions',
      JSON.stringify({ ControlValue: value, Treatments: [{ OverrideList: [], PercentRollout: 50, Value: value }] }),
    );
    expect(response.statusCode).toBe(201);
  });

  it('a body over VEXIL_BODY_LIMIT_BYTES answers 413 with the error body and its request id', async () => {
    const app = await service({ VEXIL_BODY_LIMIT_BYTES: '2048' });
    const big = JSON.stringify({ configs: [{ description: 'x'.repeat(4096) }] });
    const response = await post(app, '/admin/v1/apply', big, { 'x-request-id': 'too-big-1' });
    expect(errorBody(response, 413)).toMatchObject({
      error: 'PayloadTooLarge',
      field: 'body',
      request_id: 'too-big-1',
    });
    // Reports have their own limit, VEXIL_REPORT_BODY_LIMIT_BYTES.
    const report = JSON.stringify({ project: 'shop', evaluations: [], padding: 'x'.repeat(4096) });
    expect((await post(app, '/sdk/v1/evaluations', report)).statusCode).toBe(202);
  });

  it('a report over VEXIL_REPORT_BODY_LIMIT_BYTES answers 413', async () => {
    const app = await service({ VEXIL_REPORT_BODY_LIMIT_BYTES: '2048' });
    const report = JSON.stringify({ project: 'shop', evaluations: [], padding: 'x'.repeat(4096) });
    expect(errorBody(await post(app, '/sdk/v1/evaluations', report), 413).error).toBe('PayloadTooLarge');
  });
});

describe('connections', () => {
  it('a body sent one byte at a time is cut with 408 after VEXIL_REQUEST_TIMEOUT_MS (it was never timed out)', async () => {
    const app = await service({ VEXIL_REQUEST_TIMEOUT_MS: '400' });
    const port = await listen(app);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      // A byte every 100 ms: the body would take 10 s in all.
      const body = `{"configs":[${' '.repeat(86)}]}`;
      let sent = 0;
      const trickle = setInterval(() => {
        if (sent < body.length) socket.write(body[sent++] ?? '');
      }, 100);
      const giveUp = setTimeout(() => {
        socket.destroy();
        reject(new Error('the slow request was never cut'));
      }, 8000);
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(trickle);
        clearTimeout(giveUp);
        resolve(received);
      });
      socket.on('connect', () =>
        socket.write(
          `POST /admin/v1/apply HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        ),
      );
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    const body = JSON.parse(answer.split('\r\n\r\n')[1] ?? '') as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'RequestTimeout', status: 408, request_id: expect.any(String) });
  }, 10_000);

  it('headers over VEXIL_MAX_HEADER_BYTES answer 431', async () => {
    const app = await service({ VEXIL_MAX_HEADER_BYTES: '2048' });
    const port = await listen(app);
    const status = (headerBytes: number) =>
      new Promise<number>((resolve, reject) => {
        const request = httpRequest(
          { port, host: '127.0.0.1', path: '/healthz', headers: { 'x-big': 'a'.repeat(headerBytes) } },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        request.on('error', reject);
        request.end();
      });
    expect(await status(4096)).toBe(431);
    expect(await status(512)).toBe(200);
  });
});

describe('rate limits per caller', () => {
  it('past VEXIL_RATE_LIMIT requests a minute a caller gets 429 with Retry-After; others and the probes are not limited', async () => {
    const app = await serviceWithCallers({ VEXIL_RATE_LIMIT: '3' });
    const ask = (caller: string) => app.inject({ url: flagUrl(checkout, 'u'), headers: { 'x-caller': caller } });
    for (let i = 0; i < 3; i++) expect((await ask('a')).statusCode).toBe(200);
    const limited = await ask('a');
    const body = errorBody(limited, 429);
    expect(body.error).toBe('TooManyRequests');
    expect(body.message).toMatch(/^rate limit exceeded: at most 3 requests per minute from one caller; retry in /);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await ask('b')).statusCode).toBe(200);
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      expect((await app.inject({ url, headers: { 'x-caller': 'a' } })).statusCode).toBe(200);
    }
  });

  it('a flood of evaluation reports from one stranger is refused past VEXIL_REPORT_RATE_LIMIT (600 a minute by default)', async () => {
    const app = await service();
    const report = JSON.stringify({
      project: 'shop',
      evaluations: [
        { flagType: 'feature', flagName: 'new_checkout', instanceId: 'u', value: true, group: 'treatment' },
      ],
    });
    let accepted = 0;
    let limited: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 700 && limited === undefined; i++) {
      const response = await post(app, '/sdk/v1/evaluations', report);
      if (response.statusCode === 202) accepted++;
      else limited = response;
    }
    expect(accepted).toBe(600);
    expect(limited).toBeDefined();
    const body = errorBody(limited as NonNullable<typeof limited>, 429);
    expect(body.message).toMatch(/at most 600 evaluation reports per minute from one caller/);
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
    // Served evaluations are not held back by the reports' limit.
    expect((await app.inject(flagUrl(checkout, 'u'))).statusCode).toBe(200);
  });

  it('reports are counted apart from other requests', async () => {
    const app = await serviceWithCallers({ VEXIL_RATE_LIMIT: '2', VEXIL_REPORT_RATE_LIMIT: '1' });
    const report = JSON.stringify({ project: 'shop', evaluations: [] });
    const headers = { 'x-caller': 'sdk' };
    expect((await post(app, '/sdk/v1/evaluations', report, headers)).statusCode).toBe(202);
    expect((await post(app, '/sdk/v1/evaluations', report, headers)).statusCode).toBe(429);
    for (let i = 0; i < 2; i++) {
      expect((await app.inject({ url: flagUrl(checkout, 'u'), headers })).statusCode).toBe(200);
    }
    expect((await app.inject({ url: flagUrl(checkout, 'u'), headers })).statusCode).toBe(429);
  });
});

/** Opens a change stream over HTTP; resolves with the response once its status is known. */
function openStream(port: number, caller: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { port, host: '127.0.0.1', path: '/sdk/v1/projects/shop/stream', headers: { 'x-caller': caller } },
      resolve,
    );
    request.on('error', reject);
    request.end();
  });
}

async function readAll(response: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of response) text += String(chunk);
  return text;
}

describe('change streams', () => {
  it('past VEXIL_SSE_MAX_PER_CLIENT open streams a caller gets 429 with Retry-After; a stream closed frees its place', async () => {
    const app = await serviceWithCallers({ VEXIL_SSE_MAX_PER_CLIENT: '2' });
    const port = await listen(app);
    const first = await openStream(port, 'a');
    const second = await openStream(port, 'a');
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    const refused = await openStream(port, 'a');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('10');
    const body = JSON.parse(await readAll(refused)) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'TooManyRequests', status: 429, request_id: expect.any(String) });
    expect(body.message).toContain('VEXIL_SSE_MAX_PER_CLIENT');
    expect((await openStream(port, 'b')).statusCode).toBe(200);

    first.destroy();
    let again = await openStream(port, 'a');
    for (let tries = 0; again.statusCode !== 200 && tries < 50; tries++) {
      again.resume();
      await new Promise((resolve) => setTimeout(resolve, 20));
      again = await openStream(port, 'a');
    }
    expect(again.statusCode).toBe(200);
  });

  it('past VEXIL_SSE_MAX_TOTAL open streams anyone gets 503 with Retry-After', async () => {
    const app = await serviceWithCallers({ VEXIL_SSE_MAX_TOTAL: '2' });
    const port = await listen(app);
    expect((await openStream(port, 'a')).statusCode).toBe(200);
    expect((await openStream(port, 'b')).statusCode).toBe(200);
    const refused = await openStream(port, 'c');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('10');
    const body = JSON.parse(await readAll(refused)) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'Unavailable', status: 503 });
    expect(body.message).toContain('VEXIL_SSE_MAX_TOTAL');
  });
});

describe('configuration of the limits', () => {
  it.each([
    ['VEXIL_RATE_LIMIT', '-1'],
    ['VEXIL_REPORT_RATE_LIMIT', 'many'],
    ['VEXIL_BODY_LIMIT_BYTES', '10'],
    ['VEXIL_REPORT_BODY_LIMIT_BYTES', '1.5'],
    ['VEXIL_JSON_MAX_DEPTH', String(MAX_JSON_DEPTH)],
    ['VEXIL_MAX_HEADER_BYTES', '0'],
    ['VEXIL_REQUEST_TIMEOUT_MS', '0'],
    ['VEXIL_SSE_MAX_PER_CLIENT', '0'],
    ['VEXIL_SSE_MAX_TOTAL', 'all'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
