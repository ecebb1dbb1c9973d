import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FeatureFlagClient,
  type FeatureFlagClientOptions,
  type ProjectSnapshot,
  type VexilClientError,
} from '../src/index.js';
import {
  checkout,
  eventually,
  freePort,
  instanceIds,
  killSwitch,
  nextEvent,
  PROJECT,
  provider,
  type Service,
  serviceValue,
  stubServer,
  testResources,
} from './service-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'vexil-sdk-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { cleanups, service } = testResources();

function client(options: Partial<FeatureFlagClientOptions> & { baseUrl: string }): FeatureFlagClient {
  const created = new FeatureFlagClient({
    projectName: PROJECT,
    reportEvaluations: false,
    reconnectDelayMs: 50,
    maxReconnectDelayMs: 200,
    ...options,
  });
  cleanups.push(() => created.close());
  return created;
}

/** Collects a client's error events. */
function errorsOf(target: FeatureFlagClient): VexilClientError[] {
  const errors: VexilClientError[] = [];
  target.on('error', (error) => errors.push(error));
  return errors;
}

/** Times a call (the in-process gets are synchronous; the async parts are ready() and the like). */
async function timed<T>(work: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

describe('FeatureFlagClient with the service up', () => {
  it('answers what /get-feature-flag answers, for feature and data flags, over many ids', async () => {
    const svc = await service();
    const flags = client({ baseUrl: svc.url });
    expect(await flags.ready()).toBe(true);
    expect(flags.source).toBe('service');
    expect(flags.state).toBe('connected');
    const ids = [...instanceIds(250), 'qa-1', 'A123456'];
    let on = 0;
    const providers = new Set<string>();
    for (const id of ids) {
      const feature = flags.getFlagBoolean(checkout.name, id, false);
      const data = flags.getFlagString(provider.name, id, 'default');
      expect(feature).toBe(await serviceValue(svc, checkout, id));
      expect(data).toBe(await serviceValue(svc, provider, id));
      if (feature) on++;
      providers.add(data);
    }
    // A 40 % rollout and three data values: the comparison covered every branch.
    expect(on).toBeGreaterThan(70);
    expect(on).toBeLessThan(140);
    expect(providers).toEqual(new Set(['openai', 'claude', 'llama']));
    expect(flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(true);
    expect(flags.getFlagString(provider.name, 'A123456', 'x')).toBe('claude');
    expect(flags.lastError).toBeUndefined();
  });

  it('gives the reason, rollout group and revision with the details gets', async () => {
    const svc = await service();
    const flags = client({ baseUrl: svc.url });
    await flags.ready();
    const revision = (await svc.admin.latestRevision(checkout)).wtime;
    expect(flags.getFlagBooleanDetails(checkout.name, 'qa-1', false)).toEqual({
      value: true,
      reason: 'TARGETING_MATCH',
      flagType: 'feature',
      group: 'override',
      revision,
    });
    const ids = instanceIds(50);
    const reasons = new Set(ids.map((id) => flags.getFlagBooleanDetails(checkout.name, id, false).reason));
    expect(reasons).toEqual(new Set(['SPLIT', 'DEFAULT']));
    expect(flags.getFlagBooleanDetails(killSwitch.name, 'anyone', false)).toMatchObject({
      value: true,
      reason: 'STATIC',
      group: 'control',
    });
    const groups = new Set(ids.map((id) => flags.getFlagStringDetails(provider.name, id, 'x').group));
    expect(groups).toEqual(new Set(['treatment-1', 'treatment-2', 'control']));
  });

  it('receives a revision written with FlagAdmin through the change stream', async () => {
    const svc = await service();
    const flags = client({ baseUrl: svc.url });
    await flags.ready();
    expect(flags.getFlagBoolean(checkout.name, 'probe-7', false)).toBe(false);
    const changed = nextEvent<{ flagsChanged: string[]; version: string }>(flags, 'change');
    await svc.admin.addRevision(checkout, {
      ControlValue: false,
      Treatments: [{ OverrideList: ['qa-1', 'probe-7'], PercentRollout: 40, Value: true }],
    });
    const change = await changed;
    expect(change.flagsChanged).toEqual([checkout.name]);
    expect(flags.version).toBe(change.version);
    expect(flags.getFlagBoolean(checkout.name, 'probe-7', false)).toBe(true);
    // The version the client computes is the service's.
    const snapshot = (await (await fetch(`${svc.url}/sdk/v1/projects/${PROJECT}/snapshot`)).json()) as ProjectSnapshot;
    expect(flags.version).toBe(snapshot.version);
  });

  it('takes in a new flag with its first revision, and answers the default for an archived one', async () => {
    const svc = await service();
    const flags = client({ baseUrl: svc.url });
    await flags.ready();
    const fresh = { project: PROJECT, flagType: 'data' as const, name: 'greeting' };
    await svc.admin.addFlag(fresh, {});
    const added = nextEvent(flags, 'change');
    await svc.admin.addRevision(fresh, { ControlValue: 'hello', Treatments: [] });
    await added;
    expect(flags.getFlagString('greeting', 'anyone', 'x')).toBe('hello');

    const archived = nextEvent(flags, 'change');
    await svc.admin.archive(checkout);
    await archived;
    const errors = errorsOf(flags);
    expect(flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(false);
    expect(flags.getFlagBoolean(checkout.name, 'qa-1', true)).toBe(true);
    expect(flags.lastError?.code).toBe('FLAG_NOT_FOUND');
    expect(flags.lastError?.message).toMatch(/archived/);
    expect(errors).toHaveLength(1); // announced once per flag and snapshot
  });

  it('answers the default for a missing flag, the wrong type or a bad instance id, saying why once', async () => {
    const svc = await service();
    const flags = client({ baseUrl: svc.url });
    await flags.ready();
    const errors = errorsOf(flags);
    expect(flags.getFlagBoolean('no_such_flag', 'A1', true)).toBe(true);
    expect(flags.getFlagBoolean('no_such_flag', 'A2', true)).toBe(true);
    expect(flags.lastError?.code).toBe('FLAG_NOT_FOUND');
    expect(flags.getFlagString(checkout.name, 'A1', 'fallback')).toBe('fallback');
    expect(flags.lastError?.code).toBe('TYPE_MISMATCH');
    expect(flags.lastError?.message).toMatch(/getFlagBoolean/);
    expect(flags.getFlagBoolean(checkout.name, '', true)).toBe(true);
    expect(flags.lastError?.code).toBe('INVALID_ARGUMENT');
    expect(flags.getFlagBoolean(checkout.name, 'x'.repeat(1001), true)).toBe(true);
    expect(flags.getFlagBoolean(checkout.name, 42 as unknown as string, true)).toBe(true);
    expect(flags.getFlagBoolean(undefined as unknown as string, 'A1', true)).toBe(true);
    expect(errors.map((e) => e.code)).toEqual([
      'FLAG_NOT_FOUND',
      'TYPE_MISMATCH',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'FLAG_NOT_FOUND',
    ]);
    expect(flags.getFlagStringDetails('no_such_flag', 'A1', 'd')).toMatchObject({
      value: 'd',
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
  });

  it('keeps current by polling the snapshot (ETag) when streaming is off', async () => {
    const svc = await service();
    const flags = client({ baseUrl: svc.url, streaming: false, pollIntervalMs: 50 });
    expect(await flags.ready()).toBe(true);
    const changed = nextEvent(flags, 'change');
    await svc.admin.addRevision(checkout, {
      ControlValue: false,
      Treatments: [{ OverrideList: ['probe-9'], PercentRollout: 40, Value: true }],
    });
    await changed;
    expect(flags.getFlagBoolean(checkout.name, 'probe-9', false)).toBe(true);
  });
});

describe('FeatureFlagClient when the service fails', () => {
  it('resolves ready() false within its timeout when the service is down, and gets answer the defaults', async () => {
    const port = await freePort();
    const flags = client({ baseUrl: `http://127.0.0.1:${port}`, readyTimeoutMs: 300 });
    const errors = errorsOf(flags);
    const { value, ms } = await timed(() => flags.ready());
    expect(value).toBe(false);
    expect(ms).toBeLessThan(2000);
    expect(flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(false);
    expect(flags.getFlagString(provider.name, 'A123456', 'openai')).toBe('openai');
    expect(flags.getFlagBooleanDetails(checkout.name, 'qa-1', false).errorCode).toBe('NOT_READY');
    expect(errors.some((e) => e.code === 'UNAVAILABLE' && e.operation === 'stream')).toBe(true);
    expect(flags.state).toBe('disconnected');
  });

  it('keeps the last known values when the service stops, and recovers when it is back on the same port', async () => {
    const first = await service();
    const flags = client({ baseUrl: first.url });
    await flags.ready();
    const ids = instanceIds(100);
    const before = ids.map((id) => flags.getFlagBoolean(checkout.name, id, false));
    const disconnected = nextEvent(flags, 'disconnected');
    const errors = errorsOf(flags);
    await first.stop();
    await disconnected;
    await eventually(() => errors.some((e) => e.code === 'UNAVAILABLE'), 5000, 'an UNAVAILABLE error');
    expect(flags.lastError?.code).toBe('UNAVAILABLE');
    expect(flags.state).toBe('disconnected');
    expect(ids.map((id) => flags.getFlagBoolean(checkout.name, id, false))).toEqual(before);

    // A change made while the client is away, then the service back where it was.
    await first.admin.addRevision(checkout, {
      ControlValue: false,
      Treatments: [{ OverrideList: ['probe-1'], PercentRollout: 40, Value: true }],
    });
    const connected = nextEvent(flags, 'connected');
    const second = await service({ store: first.store, port: first.port });
    await connected;
    await eventually(() => flags.getFlagBoolean(checkout.name, 'probe-1', false), 5000, 'the change made meanwhile');
    expect(flags.state).toBe('connected');
    // And the stream works again.
    const changed = nextEvent(flags, 'change');
    await second.admin.addRevision(checkout, { ControlValue: true, Treatments: [] });
    await changed;
    expect(flags.getFlagBoolean(checkout.name, 'anyone', false)).toBe(true);
  });

  it('reconnects when the stream is killed mid-way, keeping its values meanwhile', async () => {
    const svc = await service();
    const flags = client({ baseUrl: svc.url });
    await flags.ready();
    const before = flags.getFlagString(provider.name, 'A123456', 'x');
    const errors = errorsOf(flags);
    svc.app.server.closeAllConnections(); // destroys the sockets, the stream's included
    await eventually(() => errors.some((e) => e.operation === 'stream'), 5000, 'the loss noticed');
    expect(flags.lastError?.message).toMatch(/change stream of project shop/);
    expect(flags.getFlagString(provider.name, 'A123456', 'x')).toBe(before);
    // Back on a new stream (snapshot polling is 30 s away): the next change arrives.
    const changed = nextEvent(flags, 'change');
    await svc.admin.addRevision(provider, { ControlValue: 'mistral', Treatments: [] });
    await changed;
    expect(flags.getFlagString(provider.name, 'A123456', 'x')).toBe('mistral');
    expect(flags.state).toBe('connected');
  });

  it('falls back to polling the snapshot (ETag) when the stream cannot be had, e.g. behind a proxy', async () => {
    const svc = await service();
    // A proxy that passes requests but answers the stream with an HTML error page.
    const proxy = await stubServer((request, response) => {
      if (request.url?.endsWith('/stream')) {
        response.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
        return;
      }
      const headers: Record<string, string> = {};
      if (typeof request.headers['if-none-match'] === 'string')
        headers['if-none-match'] = request.headers['if-none-match'];
      void fetch(`${svc.url}${request.url}`, { headers }).then(async (answer) => {
        response.writeHead(answer.status, Object.fromEntries(answer.headers));
        response.end(Buffer.from(await answer.arrayBuffer()));
      });
    });
    cleanups.push(() => proxy.close());
    const flags = client({
      baseUrl: proxy.url,
      pollIntervalMs: 100,
      reconnectDelayMs: 5000,
      maxReconnectDelayMs: 5000,
    });
    expect(await flags.ready()).toBe(true);
    expect(flags.state).toBe('connected');
    expect(flags.lastError).toMatchObject({ code: 'HTTP_ERROR', status: 502, operation: 'stream' });
    const changed = nextEvent(flags, 'change');
    await svc.admin.addRevision(checkout, { ControlValue: true, Treatments: [] });
    await changed;
    expect(flags.getFlagBoolean(checkout.name, 'anyone', false)).toBe(true);
    // Polls carry the version held; unchanged ones are answered 304.
    const polls = proxy.requests.filter((r) => r.url.endsWith('/snapshot'));
    expect(polls.length).toBeGreaterThan(1);
    expect(polls[0]?.headers['if-none-match']).toBeUndefined();
    for (const poll of polls.slice(1)) expect(poll.headers['if-none-match']).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('answers defaults when the service answers 500s, saying so, and within the timeout', async () => {
    const stub = await stubServer((_request, response) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'UnexpectedError', message: 'the store is on fire' }));
    });
    cleanups.push(() => stub.close());
    const flags = client({ baseUrl: stub.url, readyTimeoutMs: 300 });
    const errors = errorsOf(flags);
    const { value, ms } = await timed(() => flags.ready());
    expect(value).toBe(false);
    expect(ms).toBeLessThan(2000);
    expect(flags.getFlagBoolean(checkout.name, 'qa-1', true)).toBe(true);
    await eventually(() => errors.some((e) => e.status === 500), 2000, 'a 500 recorded');
    const error = errors.find((e) => e.status === 500)!;
    expect(error.code).toBe('HTTP_ERROR');
    expect(error.message).toMatch(/the store is on fire/);
    // It tried both the stream and, while that failed, the snapshot.
    expect(stub.requests.some((r) => r.url.endsWith('/stream'))).toBe(true);
    expect(stub.requests.some((r) => r.url.endsWith('/snapshot'))).toBe(true);
  });

  it('answers within its timeout when the service answers after 10 s', async () => {
    const stub = await stubServer((_request, response) => {
      const timer = setTimeout(() => response.end('{}'), 10_000);
      response.on('close', () => clearTimeout(timer));
    });
    cleanups.push(() => stub.close());
    const flags = client({ baseUrl: stub.url, timeoutMs: 300, readyTimeoutMs: 300 });
    const errors = errorsOf(flags);
    const { value, ms } = await timed(() => flags.ready());
    expect(value).toBe(false);
    expect(ms).toBeLessThan(3000);
    const get = await timed(() => flags.getFlagBoolean(checkout.name, 'qa-1', true));
    expect(get.value).toBe(true);
    expect(get.ms).toBeLessThan(300);
    await eventually(() => errors.some((e) => e.code === 'TIMEOUT'), 3000, 'a TIMEOUT recorded');
  });
});

describe('FeatureFlagClient bootstrap and cache file', () => {
  async function snapshotOf(svc: Service): Promise<string> {
    const response = await fetch(`${svc.url}/sdk/v1/projects/${PROJECT}/snapshot`);
    return response.text();
  }

  it('starts offline from a bootstrap file (curl …/snapshot > flags.json) with the service values', async () => {
    const svc = await service();
    const file = join(dir, 'flags.json');
    writeFileSync(file, await snapshotOf(svc));
    const ids = instanceIds(50);
    const expected = await Promise.all(ids.map((id) => serviceValue(svc, checkout, id)));
    await svc.stop();

    const flags = client({ baseUrl: svc.url, bootstrap: file, readyTimeoutMs: 200 });
    // Answers at once, before any network answer.
    expect(flags.source).toBe('bootstrap');
    expect(ids.map((id) => flags.getFlagBoolean(checkout.name, id, false))).toEqual(expected);
    expect(flags.getFlagString(provider.name, 'A123456', 'x')).toBe('claude');
    expect(await flags.ready()).toBe(false); // not in sync with the service, which is down
    expect(flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(true);
  });

  it('runs offline: no connection at all, ready() true once the bootstrap is loaded', async () => {
    const svc = await service();
    const snapshot = JSON.parse(await snapshotOf(svc)) as ProjectSnapshot;
    await svc.stop();
    const flags = new FeatureFlagClient({ projectName: PROJECT, offline: true, bootstrap: snapshot });
    cleanups.push(() => flags.close());
    expect(await flags.ready()).toBe(true);
    expect(flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(true);
  });

  it('says why a bootstrap file cannot be used, and answers the defaults', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"project": "shop", "flags": ');
    const flags = new FeatureFlagClient({ projectName: PROJECT, offline: true, bootstrap: file });
    cleanups.push(() => flags.close());
    const announced = nextEvent<VexilClientError>(flags, 'error');
    expect((await announced).operation).toBe('bootstrap');
    expect(flags.lastError?.message).toMatch(/broken\.json is not JSON/);
    expect(await flags.ready()).toBe(false);
    expect(flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(false);
    const other = new FeatureFlagClient({
      projectName: 'other',
      offline: true,
      bootstrap: { project: PROJECT, version: 'v', flags: [] },
    });
    cleanups.push(() => other.close());
    expect(other.lastError?.message).toMatch(/for project shop, not other/);
  });

  it('writes the latest snapshot to its cache file and restarts from it while the service is down', async () => {
    const svc = await service();
    const cacheFile = join(dir, 'cache.json');
    const flags = client({ baseUrl: svc.url, cacheFile });
    await flags.ready();
    await svc.admin.addRevision(provider, { ControlValue: 'gemini', Treatments: [] });
    await eventually(() => flags.getFlagString(provider.name, 'A1', 'x') === 'gemini', 5000, 'the change');
    await eventually(
      () => {
        try {
          return (JSON.parse(readFileSync(cacheFile, 'utf8')) as ProjectSnapshot).version === flags.version;
        } catch {
          return false;
        }
      },
      5000,
      'the cache file written',
    );
    await flags.close();
    await svc.stop();

    const restarted = client({ baseUrl: svc.url, cacheFile, readyTimeoutMs: 100 });
    expect(restarted.source).toBe('cache-file');
    expect(restarted.getFlagString(provider.name, 'A1', 'x')).toBe('gemini');
    expect(restarted.version).toBe(flags.version);
  });
});

describe('FeatureFlagClient and the stream protocol', () => {
  it('resumes with Last-Event-ID, and asks for a full snapshot after a missed change', async () => {
    const svc = await service();
    const snapshot = JSON.parse(
      await (await fetch(`${svc.url}/sdk/v1/projects/${PROJECT}/snapshot`)).text(),
    ) as ProjectSnapshot;
    await svc.stop();
    let connections = 0;
    const stub = await stubServer((request, response) => {
      if (!request.url?.endsWith('/stream')) {
        response.writeHead(503).end();
        return;
      }
      connections++;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      if (connections === 1) {
        response.write(`event: snapshot\nid: ${snapshot.version}\ndata: ${JSON.stringify(snapshot)}\n\n`);
        // A change whose version is not what applying it gives: a change in between was missed.
        const flag = snapshot.flags.find((f) => f.name === checkout.name)!;
        const update = {
          ...flag,
          project: PROJECT,
          wtime: '2099-01-01 00:00:00.000000',
          revision: { ...flag.revision, ControlValue: true, Treatments: [] },
          version: 'not-the-version',
        };
        response.write(`event: change\nid: not-the-version\ndata: ${JSON.stringify(update)}\n\n`);
      } else {
        response.write(`event: ready\ndata: {}\n\n`);
      }
    });
    cleanups.push(() => stub.close());
    const flags = client({ baseUrl: stub.url });
    await eventually(() => connections >= 2, 5000, 'a reconnection');
    const streams = stub.requests.filter((r) => r.url.endsWith('/stream'));
    expect(streams[0]?.headers['last-event-id']).toBeUndefined();
    // It resumes from the version it really holds (with the change applied), not the change's.
    expect(streams[1]?.headers['last-event-id']).toBe(flags.version);
    expect(flags.version).not.toBe(snapshot.version);
    expect(flags.getFlagBoolean(checkout.name, 'anyone', false)).toBe(true);
  });
});
