import { describe, expect, it } from 'vitest';
import { AsyncFeatureFlagClient, type AsyncFeatureFlagClientOptions, type VexilClientError } from '../src/index.js';
import {
  checkout,
  freePort,
  instanceIds,
  PROJECT,
  provider,
  serviceValue,
  stubServer,
  testResources,
} from './service-harness.js';

const { cleanups, service } = testResources();

/** A client whose /get-feature-flag requests are counted. */
function client(options: Partial<AsyncFeatureFlagClientOptions> & { baseUrl: string }) {
  const requests: string[] = [];
  const counting: typeof fetch = (input, init) => {
    requests.push(String(input));
    return fetch(input, init);
  };
  const flags = new AsyncFeatureFlagClient({ projectName: PROJECT, fetch: counting, ...options });
  const errors: VexilClientError[] = [];
  flags.on('error', (error) => errors.push(error));
  cleanups.push(() => flags.close());
  return { flags, requests, errors };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

describe('AsyncFeatureFlagClient', () => {
  it('answers what /get-feature-flag answers, for feature and data flags', async () => {
    const svc = await service();
    const { flags, errors } = client({ baseUrl: svc.url });
    for (const id of [...instanceIds(60), 'qa-1', 'A123456']) {
      expect(await flags.getFlagBoolean(checkout.name, id, false)).toBe(await serviceValue(svc, checkout, id));
      expect(await flags.getFlagString(provider.name, id, 'x')).toBe(await serviceValue(svc, provider, id));
    }
    expect(errors).toEqual([]);
    // The service logged each evaluation it made.
    await Promise.all([svc.app.services.evaluationLog?.flush(), svc.app.services.reportLog?.flush()]);
    expect((await svc.store.readLogs({ project: PROJECT, flagName: checkout.name })).length).toBeGreaterThan(0);
  });

  it('serves repeated gets from its cache until the TTL passes, and shares requests in flight', async () => {
    const svc = await service();
    const { flags, requests } = client({ baseUrl: svc.url, cacheTtlMs: 200 });
    expect(await flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(true);
    expect(await flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(true);
    expect(requests).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(true);
    expect(requests).toHaveLength(2);
    const together = await Promise.all(Array.from({ length: 10 }, () => flags.getFlagString(provider.name, 'A1', 'x')));
    expect(new Set(together).size).toBe(1);
    expect(requests).toHaveLength(3);
  });

  it('keeps at most cacheSize values, the least recently used going first', async () => {
    const svc = await service();
    const { flags, requests } = client({ baseUrl: svc.url, cacheSize: 3 });
    for (const id of ['a', 'b', 'c']) await flags.getFlagBoolean(checkout.name, id, false);
    await flags.getFlagBoolean(checkout.name, 'a', false); // a is now the most recent
    await flags.getFlagBoolean(checkout.name, 'd', false); // evicts b
    expect(flags.cacheSize).toBe(3);
    expect(requests).toHaveLength(4);
    await flags.getFlagBoolean(checkout.name, 'a', false);
    await flags.getFlagBoolean(checkout.name, 'c', false);
    expect(requests).toHaveLength(4);
    await flags.getFlagBoolean(checkout.name, 'b', false);
    expect(requests).toHaveLength(5);
  });

  it('answers within its timeout when the service answers after 10 s: the default, then the last known value', async () => {
    let slow = false;
    const svc = await service();
    const stub = await stubServer((request, response) => {
      if (slow) {
        const timer = setTimeout(() => response.end('{}'), 10_000);
        response.on('close', () => clearTimeout(timer));
        return;
      }
      void fetch(`${svc.url}${request.url}`)
        .then(async (answer) => {
          response.writeHead(answer.status, { 'content-type': 'application/json' });
          response.end(await answer.text());
        })
        .catch(() => response.destroy());
    });
    cleanups.push(() => stub.close());
    const { flags, errors } = client({ baseUrl: stub.url, timeoutMs: 300, cacheTtlMs: 1 });
    expect(await flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(true);
    slow = true;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const stale = await timed(() => flags.getFlagBoolean(checkout.name, 'qa-1', false));
    expect(stale.value).toBe(true); // the last known value
    expect(stale.ms).toBeLessThan(2000);
    const fresh = await timed(() => flags.getFlagString(provider.name, 'A1', 'openai'));
    expect(fresh.value).toBe('openai'); // nothing known: the default
    expect(fresh.ms).toBeLessThan(2000);
    expect(errors.map((e) => e.code)).toEqual(['TIMEOUT', 'TIMEOUT']);
    expect(flags.lastError?.message).toMatch(/no answer within 300 ms/);
  });

  it('answers the last known value or the default when the service answers 500s', async () => {
    let failing = false;
    const svc = await service();
    const stub = await stubServer((request, response) => {
      if (failing) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'UnexpectedError', message: 'the store is on fire' }));
        return;
      }
      void fetch(`${svc.url}${request.url}`).then(async (answer) => {
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(await answer.text());
      });
    });
    cleanups.push(() => stub.close());
    const { flags } = client({ baseUrl: stub.url, cacheTtlMs: 1 });
    expect(await flags.getFlagString(provider.name, 'A123456', 'x')).toBe('claude');
    failing = true;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await flags.getFlagString(provider.name, 'A123456', 'x')).toBe('claude');
    expect(await flags.getFlagString(provider.name, 'someone-else', 'x')).toBe('x');
    expect(flags.lastError).toMatchObject({ code: 'HTTP_ERROR', status: 500 });
    expect(flags.lastError?.message).toMatch(/the store is on fire/);
    failing = false;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await flags.getFlagString(provider.name, 'someone-else', 'x')).not.toBe('x');
  });

  it('answers the default when the service is down, and recovers when it is back', async () => {
    const port = await freePort();
    const { flags, errors } = client({ baseUrl: `http://127.0.0.1:${port}` });
    const down = await timed(() => flags.getFlagBoolean(checkout.name, 'qa-1', false));
    expect(down.value).toBe(false);
    expect(down.ms).toBeLessThan(5000);
    expect(errors[0]).toMatchObject({ code: 'UNAVAILABLE', operation: 'get-feature-flag', flagName: checkout.name });
    await service({ port });
    expect(await flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(true);
  });

  it('answers the default for a flag the service does not have (404) or the wrong type', async () => {
    const svc = await service();
    const { flags } = client({ baseUrl: svc.url });
    expect(await flags.getFlagBoolean('no_such_flag', 'A1', true)).toBe(true);
    expect(flags.lastError).toMatchObject({ code: 'FLAG_NOT_FOUND', status: 404 });
    expect(await flags.getFlagString(checkout.name, 'A1', 'd')).toBe('d');
    expect(flags.lastError?.status).toBe(404);
    expect(await flags.getFlagBoolean(checkout.name, '', true)).toBe(true);
    expect(flags.lastError?.code).toBe('INVALID_ARGUMENT');
  });

  it('answers the default once closed', async () => {
    const svc = await service();
    const { flags } = client({ baseUrl: svc.url });
    expect(await flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(true);
    await flags.close();
    expect(await flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(false);
    expect(flags.lastError?.code).toBe('CLOSED');
  });
});
