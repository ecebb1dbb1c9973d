import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatWTime } from '@vexil/core';
import { MemoryStore, SqliteStore } from '@vexil/store';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { type Env, loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { type FlagUpdate, ProjectSnapshots, snapshotVersion } from '../src/project-snapshots.js';
import { checkout, flushLog, provider, serviceWithFlags } from './service-harness.js';
import { buildTestApp } from './support/test-token.js';
import { startVexil } from './support/vexil-process.js';

interface Snapshot {
  project: string;
  version: string;
  flags: { name: string; flagType: 'feature' | 'data'; wtime: string; revision: Record<string, unknown> }[];
}

interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/**
 * Reads a text/event-stream response: events as they come, and keep-alive comments counted.
 * Streams are left for the app's close to end (which the tests of closing rely on).
 */
class SseReader {
  private buffer = '';
  private readonly events: SseEvent[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  comments = 0;
  done = false;

  constructor(response: Response) {
    this.reader = response.body!.getReader();
  }

  /** The next event, waiting at most `ms`; undefined when the stream ended first. */
  async next(ms = 5000): Promise<SseEvent | undefined> {
    const deadline = Date.now() + ms;
    while (this.events.length === 0) {
      if (this.done) return undefined;
      await this.read(deadline);
    }
    return this.events.shift();
  }

  /** Waits until the server ends the stream; resolves to the milliseconds it took. */
  async ended(ms = 5000): Promise<number> {
    const started = Date.now();
    const deadline = started + ms;
    while (!this.done) await this.read(deadline);
    return Date.now() - started;
  }

  async waitForComment(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    const seen = this.comments;
    while (this.comments === seen && !this.done) await this.read(deadline);
  }

  private async read(deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no event in time')), Math.max(0, deadline - Date.now()));
    });
    try {
      const { value, done } = await Promise.race([this.reader.read(), timeout]);
      if (done) this.done = true;
      else this.parse(this.decoder.decode(value, { stream: true }));
    } finally {
      clearTimeout(timer);
    }
  }

  private parse(chunk: string): void {
    this.buffer += chunk;
    let end = this.buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = { event: 'message', data: '' };
      let isEvent = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments++;
        else {
          isEvent = true;
          const colon = line.indexOf(':');
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event.event = value;
          else if (field === 'id') event.id = value;
          else if (field === 'data') event.data = event.data === '' ? value : `${event.data}\n${value}`;
        }
      }
      if (isEvent) this.events.push(event);
      end = this.buffer.indexOf('\n\n');
    }
  }
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return new SseReader(response);
}

const dir = mkdtempSync(join(tmpdir(), 'vexil-sdk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A listening service on a SQLite file, and a FlagAdmin on a second connection to the same file. */
async function listeningOnSqlite(env: Env = {}) {
  const db = join(dir, `${Math.random().toString(36).slice(2)}.db`);
  const serviceStore = new SqliteStore(db);
  const writerStore = new SqliteStore(db);
  const writer = new FlagAdmin(writerStore);
  await writer.addFlag(checkout, {});
  await writer.addRevision(checkout, {
    ControlValue: false,
    Treatments: [{ OverrideList: [], PercentRollout: 10, Value: true }],
  });
  const app = await buildTestApp({
    config: loadConfig({ VEXIL_STORE: `sqlite:${db}`, VEXIL_CHANGE_POLL_MS: '50', ...env }),
    store: serviceStore,
    defaultMetrics: false,
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  let closed = false;
  const close = async () => {
    if (!closed) await app.close();
    closed = true;
  };
  cleanups.push(async () => {
    await close();
    await serviceStore.close();
    await writerStore.close();
  });
  return { app, url, writer, close };
}

describe('GET /sdk/v1/projects/{project}/snapshot', () => {
  it('lists every flag with a revision, its newest revision as stored, by type then name', async () => {
    const { app, admin } = await serviceWithFlags();
    cleanups.push(() => app.close());
    await admin.addFlag({ project: 'shop', flagType: 'feature', name: 'no_revision_yet' });
    await admin.addFlag({ project: 'shop', flagType: 'feature', name: 'retired' });
    await admin.addRevision({ project: 'shop', flagType: 'feature', name: 'retired' }, { ControlValue: true });
    const archived = await admin.archive({ project: 'shop', flagType: 'feature', name: 'retired' });
    const newest = await admin.latestRevision(checkout);

    const response = await app.inject('/sdk/v1/projects/shop/snapshot');
    expect(response.statusCode).toBe(200);
    const snapshot = response.json<Snapshot>();
    expect(snapshot.project).toBe('shop');
    expect(snapshot.flags.map((f) => `${f.flagType}/${f.name}`)).toEqual([
      'data/llm_provider',
      'feature/new_checkout',
      'feature/retired',
    ]);
    expect(snapshot.flags[1]).toEqual({
      name: 'new_checkout',
      flagType: 'feature',
      wtime: newest.wtime,
      revision: { ...newest.revision },
    });
    expect(snapshot.flags[1]!.revision.Salt).toBe('new_checkout');
    expect(snapshot.flags[2]!.revision.Archived).toBe(true);
    expect(snapshot.flags[2]!.wtime).toBe(archived.wtime);
    expect(snapshot.version).toBe(snapshotVersion(snapshot.flags));
    expect(response.headers.etag).toBe(`"${snapshot.version}"`);
  });

  it('answers 304 to If-None-Match with the current version, and 200 with a new version after a change', async () => {
    const { app, admin } = await serviceWithFlags();
    cleanups.push(() => app.close());
    const first = await app.inject('/sdk/v1/projects/shop/snapshot');
    const etag = first.headers.etag as string;

    const again = await app.inject({ url: '/sdk/v1/projects/shop/snapshot', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);

    await admin.addRevision(checkout, { ControlValue: true });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the memory store notifies on the next turn
    const changed = await app.inject({ url: '/sdk/v1/projects/shop/snapshot', headers: { 'if-none-match': etag } });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.json<Snapshot>().flags.find((f) => f.name === 'new_checkout')!.revision.ControlValue).toBe(true);
  });

  it('has the same version on two services sharing one store', async () => {
    const store = new MemoryStore();
    const one = await serviceWithFlags({}, store);
    const two = await buildTestApp({ config: loadConfig({ VEXIL_STORE: 'memory:' }), store, defaultMetrics: false });
    cleanups.push(
      () => one.app.close(),
      () => two.close(),
    );
    const a = (await one.app.inject('/sdk/v1/projects/shop/snapshot')).json<Snapshot>();
    const b = (await two.inject('/sdk/v1/projects/shop/snapshot')).json<Snapshot>();
    expect(a.version).toBe(b.version);
    expect(a).toEqual(b);

    await one.admin.addRevision(provider, { ControlValue: 'mistral' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const a2 = (await one.app.inject('/sdk/v1/projects/shop/snapshot')).json<Snapshot>();
    const b2 = (await two.inject('/sdk/v1/projects/shop/snapshot')).json<Snapshot>();
    expect(a2.version).not.toBe(a.version);
    expect(a2.version).toBe(b2.version);
  });

  it('answers an empty snapshot for a project whose flags have no revision yet, 404 for a project that does not exist, and 400 for a bad name', async () => {
    const { app, store } = await serviceWithFlags();
    cleanups.push(() => app.close());
    await new FlagAdmin(store).addFlag({ project: 'fresh', flagType: 'feature', name: 'later' });
    const empty = await app.inject('/sdk/v1/projects/fresh/snapshot');
    expect(empty.json()).toEqual({ project: 'fresh', version: snapshotVersion([]), flags: [] });
    for (const path of ['/sdk/v1/projects/nobody/snapshot', '/sdk/v1/projects/nobody/stream']) {
      const missing = await app.inject(path);
      expect(missing.statusCode, path).toBe(404);
      expect(missing.json()).toMatchObject({
        error: 'ProjectNotFound',
        message: 'project nobody does not exist; known projects: fresh, shop',
        known_projects: ['fresh', 'shop'],
      });
    }
    const bad = await app.inject('/sdk/v1/projects/-bad/snapshot');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'InvalidInput', field: 'project' });
  });
});

describe('GET /sdk/v1/projects/{project}/stream', () => {
  it('sends the snapshot first when the client holds no version', async () => {
    const { url } = await listeningOnSqlite();
    const snapshot = (await (await fetch(`${url}/sdk/v1/projects/shop/snapshot`)).json()) as Snapshot;
    const stream = await openStream(`${url}/sdk/v1/projects/shop/stream`);
    const first = await stream.next();
    expect(first).toMatchObject({ event: 'snapshot', id: snapshot.version });
    expect(JSON.parse(first!.data)).toEqual(snapshot);
  });

  it('sends ready when Last-Event-ID (or ?version=) is the current version, the snapshot when it is not', async () => {
    const { url } = await listeningOnSqlite();
    const { version } = (await (await fetch(`${url}/sdk/v1/projects/shop/snapshot`)).json()) as Snapshot;

    const resumed = await openStream(`${url}/sdk/v1/projects/shop/stream`, { 'last-event-id': version });
    const ready = await resumed.next();
    expect(ready).toEqual({ event: 'ready', data: JSON.stringify({ version }) });

    const byQuery = await openStream(`${url}/sdk/v1/projects/shop/stream?version=${version}`);
    expect((await byQuery.next())?.event).toBe('ready');

    const stale = await openStream(`${url}/sdk/v1/projects/shop/stream`, { 'last-event-id': 'an-old-version' });
    expect(await stale.next()).toMatchObject({ event: 'snapshot', id: version });
  });

  it('sends a change within the poll interval when another connection writes a revision', async () => {
    const { url, writer } = await listeningOnSqlite({ VEXIL_CHANGE_POLL_MS: '50' });
    // A project whose only flag has no revision yet: its snapshot is empty.
    await writer.addFlag({ project: 'elsewhere', flagType: 'data', name: 'unused' });
    const stream = await openStream(`${url}/sdk/v1/projects/shop/stream`);
    const other = await openStream(`${url}/sdk/v1/projects/elsewhere/stream`);
    const initial = await stream.next();
    expect(initial?.event).toBe('snapshot');
    expect((await other.next())?.event).toBe('snapshot');

    const started = Date.now();
    const written = await writer.addRevision(checkout, {
      ControlValue: false,
      Treatments: [{ OverrideList: ['vip'], PercentRollout: 50, Value: true }],
    });
    const change = await stream.next(2000);
    const took = Date.now() - started;
    expect(took).toBeLessThan(1000);
    expect(change?.event).toBe('change');
    const data = JSON.parse(change!.data);
    expect(data).toEqual({
      project: 'shop',
      flagType: 'feature',
      name: 'new_checkout',
      wtime: written.wtime,
      revision: { ...written.revision },
      version: change!.id,
    });
    // The new version is the snapshot's, and a client applying the change holds exactly that.
    const snapshot = (await (await fetch(`${url}/sdk/v1/projects/shop/snapshot`)).json()) as Snapshot;
    expect(snapshot.version).toBe(data.version);
    const applied = (JSON.parse(initial!.data) as Snapshot).flags.map((f) =>
      f.name === data.name && f.flagType === data.flagType ? { ...f, wtime: data.wtime, revision: data.revision } : f,
    );
    expect(snapshotVersion(applied)).toBe(data.version);
    // A stream of another project hears nothing.
    await expect(other.next(300)).rejects.toThrow('no event in time');
  });

  it('sends a keep-alive comment every VEXIL_SSE_HEARTBEAT_MS', async () => {
    const { url } = await listeningOnSqlite({ VEXIL_SSE_HEARTBEAT_MS: '50' });
    const stream = await openStream(`${url}/sdk/v1/projects/shop/stream`);
    await stream.next();
    await stream.waitForComment(2000);
    await stream.waitForComment(2000);
    expect(stream.comments).toBeGreaterThanOrEqual(2);
  });

  it('ends open streams when the app closes, without holding the close up', async () => {
    const { url, close } = await listeningOnSqlite();
    const streams = [
      await openStream(`${url}/sdk/v1/projects/shop/stream`),
      await openStream(`${url}/sdk/v1/projects/shop/stream`),
    ];
    for (const stream of streams) await stream.next();
    const started = Date.now();
    await close();
    expect(Date.now() - started).toBeLessThan(1000);
    for (const stream of streams) expect(await stream.ended(1000)).toBeLessThan(1000);
  });

  it('vexil serve exits promptly on SIGTERM with a stream open', async () => {
    const service = await startVexil({ VEXIL_STORE: `sqlite:${join(dir, 'serve.db')}` }, ['--demo']);
    try {
      const stream = await openStream(`${service.url}/sdk/v1/projects/demo/stream`);
      expect((await stream.next())?.event).toBe('snapshot');
      const started = Date.now();
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(3000);
      await stream.ended(1000);
      expect(stream.done).toBe(true);
    } finally {
      await service.stop();
    }
  });
});

describe('POST /sdk/v1/evaluations', () => {
  // A minute ago: reports are taken only within a window of now.
  const reportedAt = formatWTime((Date.now() - 60_000) * 1000);
  const evaluation = (overrides: Record<string, unknown> = {}) => ({
    flagType: 'feature',
    flagName: 'new_checkout',
    instanceId: 'A1',
    value: true,
    group: 'treatment',
    time: reportedAt,
    requestId: 'sdk-req-1',
    ...overrides,
  });

  it('writes reported evaluations to the evaluation log (CacheFlag true) and counts them in the metrics', async () => {
    const { app, store } = await serviceWithFlags();
    cleanups.push(() => app.close());
    const response = await app.inject({
      method: 'POST',
      url: '/sdk/v1/evaluations',
      headers: { 'x-request-id': 'report-1' },
      payload: {
        project: 'shop',
        evaluations: [
          evaluation(),
          evaluation({ instanceId: 'A2', value: false, group: 'control', time: undefined, requestId: undefined }),
          evaluation({
            flagType: 'data',
            flagName: 'llm_provider',
            instanceId: 'A3',
            value: 'claude',
            group: 'override-1',
          }),
        ],
      },
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ accepted: 3, refused: 0, reasons: {}, refusals: [] });
    await flushLog(app);
    const rows = await store.readLogs({ project: 'shop' });
    expect(rows).toHaveLength(3);
    expect(rows.find((r) => r.instanceId === 'A1')).toEqual({
      project: 'shop',
      flagType: 'feature',
      flagName: 'new_checkout',
      instanceId: 'A1',
      requestId: 'sdk-req-1',
      time: reportedAt,
      value: true,
      group: 'treatment',
      cacheHit: true,
      reported: true,
    });
    const defaulted = rows.find((r) => r.instanceId === 'A2')!;
    expect(defaulted.requestId).toBe('report-1');
    expect(defaulted.time.slice(0, 4)).toBe(String(new Date().getUTCFullYear()));
    expect(rows.find((r) => r.instanceId === 'A3')).toMatchObject({ value: 'claude', group: 'override-1' });

    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toContain('vexil_evaluations_total{project="shop",flag="new_checkout",group="treatment"} 1');
    expect(metrics).toContain('vexil_evaluations_total{project="shop",flag="llm_provider",group="override-1"} 1');
  });

  it.each([
    ['the project', { evaluations: [] }, 'project'],
    ['a missing list', { project: 'shop' }, 'evaluations'],
    [
      'a value of the wrong type',
      { project: 'shop', evaluations: [evaluation(), evaluation({ value: 'yes' })] },
      'evaluations[1].value',
    ],
    [
      'a bad flag type',
      { project: 'shop', evaluations: [evaluation({ flagType: 'bool' })] },
      'evaluations[0].flagType',
    ],
    [
      'a bad flag name',
      { project: 'shop', evaluations: [evaluation({ flagName: 'New-Checkout' })] },
      'evaluations[0].flagName',
    ],
    [
      'a missing instance id',
      { project: 'shop', evaluations: [evaluation({ instanceId: '' })] },
      'evaluations[0].instanceId',
    ],
    ['a missing group', { project: 'shop', evaluations: [evaluation({ group: undefined })] }, 'evaluations[0].group'],
    [
      'a bad time',
      { project: 'shop', evaluations: [evaluation({ time: '2026-11-21T09:00:00Z' })] },
      'evaluations[0].time',
    ],
    ['an entry that is no object', { project: 'shop', evaluations: [42] }, 'evaluations[0]'],
  ])('refuses %s with 400 naming the field, and logs nothing', async (_what, payload, field) => {
    const { app, store } = await serviceWithFlags();
    cleanups.push(() => app.close());
    const response = await app.inject({ method: 'POST', url: '/sdk/v1/evaluations', payload });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: expect.any(String), field });
    await flushLog(app);
    expect(await store.readLogs({ project: 'shop' })).toEqual([]);
  });

  it('takes at most 1000 evaluations per request', async () => {
    const { app, store } = await serviceWithFlags();
    cleanups.push(() => app.close());
    const many = (n: number) => Array.from({ length: n }, (_, i) => evaluation({ instanceId: `id-${i}` }));
    const ok = await app.inject({
      method: 'POST',
      url: '/sdk/v1/evaluations',
      payload: { project: 'shop', evaluations: many(1000) },
    });
    expect(ok.json()).toEqual({ accepted: 1000, refused: 0, reasons: {}, refusals: [] });
    const tooMany = await app.inject({
      method: 'POST',
      url: '/sdk/v1/evaluations',
      payload: { project: 'shop', evaluations: many(1001) },
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toMatchObject({ field: 'evaluations' });
    await flushLog(app);
    expect(await store.readLogs({ project: 'shop', limit: 5000 })).toHaveLength(1000);
  });
});

describe('CORS on /sdk routes', () => {
  it('answers a browser preflight for the stream and exposes ETag on the snapshot', async () => {
    const { app } = await serviceWithFlags();
    cleanups.push(() => app.close());
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/sdk/v1/projects/shop/stream',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'last-event-id',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-headers']).toBe('last-event-id');
    const snapshot = await app.inject({
      url: '/sdk/v1/projects/shop/snapshot',
      headers: { origin: 'https://app.example.com' },
    });
    expect(snapshot.headers['access-control-allow-origin']).toBe('*');
    expect(String(snapshot.headers['access-control-expose-headers'])).toContain('ETag');
  });

  it('sends CORS headers on the event stream too', async () => {
    const { url } = await listeningOnSqlite({ VEXIL_CORS_ORIGINS: 'https://app.example.com' });
    const response = await fetch(`${url}/sdk/v1/projects/shop/stream`, {
      headers: { origin: 'https://app.example.com' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    // Left open: closing the app ends it. (Cancelling it makes undici open a spare connection
    // that Node's server.close() then waits for until undici's 4 s keep-alive timeout.)
    const stream = new SseReader(response);
    expect((await stream.next())?.event).toBe('snapshot');
    const other = await fetch(`${url}/sdk/v1/projects/shop/snapshot`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('project snapshots in memory', () => {
  it('takes one store watch per service for the flag cache and the change streams together', async () => {
    const store = new MemoryStore();
    const watch = vi.spyOn(store, 'watch');
    const { app } = await serviceWithFlags({}, store);
    cleanups.push(() => app.close());
    expect(watch).toHaveBeenCalledTimes(1);
  });

  it('reads a changed flag once, however many subscribers the project has', async () => {
    const store = new MemoryStore();
    const { app, admin } = await serviceWithFlags({}, store);
    cleanups.push(() => app.close());
    const snapshots = new ProjectSnapshots(store, { storeTimeoutMs: 1000, refreshMs: 60_000 });
    cleanups.push(() => snapshots.close());
    const stop = store.watch((changes) => snapshots.onChanges(changes));
    cleanups.push(stop);
    const heard: FlagUpdate[][] = [];
    for (let i = 0; i < 50; i++) {
      const updates: FlagUpdate[] = [];
      heard.push(updates);
      await snapshots.subscribe('shop', (update) => updates.push(update));
    }
    const latest = vi.spyOn(store, 'latest');
    const written = await admin.addRevision(checkout, { ControlValue: true });
    await vi.waitFor(() => expect(heard.every((updates) => updates.length === 1)).toBe(true));
    expect(latest.mock.calls.filter(([kind]) => kind === 'REVISION')).toHaveLength(1);
    expect(heard[0]![0]).toMatchObject({ name: 'new_checkout', wtime: written.wtime });
    expect(new Set(heard.map((updates) => updates[0]))).toHaveProperty('size', 1); // one update object for all
  });

  it('re-reads a snapshot older than the flag-cache TTL and sends subscribers what changed unseen', async () => {
    const store = new MemoryStore();
    const admin = new FlagAdmin(store);
    await admin.addFlag(checkout);
    await admin.addRevision(checkout, { ControlValue: false });
    // No change feed at all: as for a writer that bypasses the change marker.
    const snapshots = new ProjectSnapshots(store, { storeTimeoutMs: 1000, refreshMs: 50 });
    cleanups.push(() => snapshots.close());
    const updates: FlagUpdate[] = [];
    const { snapshot: before } = await snapshots.subscribe('shop', (update) => updates.push(update));
    const written = await admin.addRevision(checkout, { ControlValue: true });
    expect((await snapshots.read('shop')).snapshot).toBe(before); // within the TTL: from memory
    await new Promise((resolve) => setTimeout(resolve, 60));
    const { snapshot: after, cached } = await snapshots.read('shop');
    expect(cached).toBe(false);
    expect(after.flags[0]!.wtime).toBe(written.wtime);
    expect(updates).toEqual([expect.objectContaining({ wtime: written.wtime, version: after.version })]);
  });

  it('keeps at most maxProjects, drops projects nobody asked for, and keeps projects with subscribers', async () => {
    const store = new MemoryStore();
    const snapshots = new ProjectSnapshots(store, {
      storeTimeoutMs: 1000,
      refreshMs: 60_000,
      maxProjects: 2,
      idleMs: 1000,
    });
    cleanups.push(() => snapshots.close());
    const { unsubscribe } = await snapshots.subscribe('streamed', () => undefined);
    await snapshots.read('a');
    await snapshots.read('b');
    expect(snapshots.size).toBe(2); // 'a' went first: 'streamed' has a subscriber
    expect((await snapshots.read('streamed')).cached).toBe(true);
    expect((await snapshots.read('a')).cached).toBe(false);
    await snapshots.sweep(Date.now() + 5000);
    expect(snapshots.size).toBe(1);
    expect((await snapshots.read('streamed')).cached).toBe(true);
    unsubscribe();
    await snapshots.sweep(Date.now() + 5000);
    expect(snapshots.size).toBe(0);
  });
});
