import { createServer } from 'node:net';
import { MemoryStore } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppOptions } from '../src/app.js';
import { type Env, loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { type WebhookDelivery, WebhookRecords } from '../src/webhooks/webhook-records.js';
import { ManualClock, ManualTimer } from './change-harness.js';
import { checkout, seedFlags } from './service-harness.js';
import { buildTestApp } from './support/test-token.js';
import { ManualTimers, type Receiver, startReceiver } from './support/webhook-receiver.js';

const API = '/admin/v1';
const SECRET = 'a-receiver-secret-of-the-test';
const revisionsUrl = `${API}/projects/shop/flags/feature/new_checkout/revisions`;

describe('webhooks', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function service(webhooks: AppOptions['webhooks'] = {}, env: Env = {}) {
    const store = new MemoryStore();
    await seedFlags(new FlagAdmin(store));
    await new FlagAdmin(store).addFlag({ project: 'other', flagType: 'feature', name: 'elsewhere' }, {});
    const timers = new ManualTimers();
    const app = await buildTestApp({
      config: loadConfig({ VEXIL_STORE: 'memory:', ...env }),
      store,
      defaultMetrics: false,
      webhooks: { timers, ...webhooks },
    });
    cleanups.push(() => app.close());
    return { app, store, timers };
  }

  async function receiver(secret = SECRET): Promise<Receiver> {
    const started = await startReceiver(secret);
    cleanups.push(() => started.close());
    return started;
  }

  async function addHook(app: FastifyInstance, payload: Record<string, unknown>, url = `${API}/webhooks`) {
    const response = await app.inject({ method: 'POST', url, payload });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { webhook: { id: string }; secret: string };
  }

  async function changeCheckout(app: FastifyInstance, percent = 50) {
    const response = await app.inject({
      method: 'POST',
      url: revisionsUrl,
      payload: { ControlValue: false, Treatments: [{ PercentRollout: percent, Value: true }], Comment: 'more' },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { wtime: string };
  }

  async function deliveries(app: FastifyInstance, query = ''): Promise<WebhookDelivery[]> {
    const response = await app.inject({ url: `${API}/webhooks/deliveries${query}` });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as WebhookDelivery[];
  }

  it('POSTs each change to a receiver written from docs/webhooks.md, which verifies its signature and reads the documented body', async () => {
    const { app } = await service();
    const hooks = await receiver();
    const added = await addHook(app, { url: hooks.url, secret: SECRET, description: 'ops channel' });
    expect(added.secret).toBe(SECRET);
    const written = await changeCheckout(app);
    await app.services.webhookDispatcher.drain();

    expect(hooks.received).toHaveLength(1);
    const [delivery] = hooks.received;
    expect(delivery!.refused).toBeUndefined();
    expect(delivery!.headers['content-type']).toBe('application/json');
    expect(delivery!.headers['vexil-event']).toBe('revision.created');
    expect(delivery!.payload).toEqual({
      id: delivery!.headers['vexil-delivery'],
      event: 'revision.created',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      project: 'shop',
      flagType: 'feature',
      flag: 'new_checkout',
      revision: written.wtime,
      actor: 'bootstrap',
      detail: 'more',
    });
    const [logged] = await deliveries(app);
    expect(logged).toMatchObject({
      id: delivery!.headers['vexil-delivery'],
      webhookId: added.webhook.id,
      status: 'delivered',
      event: 'revision.created',
      revision: written.wtime,
      attempts: [{ status: 200 }],
    });
    // The list never shows a secret.
    const listed = await app.inject({ url: `${API}/webhooks` });
    expect(listed.body).not.toContain(SECRET);
    expect(listed.json()).toEqual([expect.objectContaining({ id: added.webhook.id, url: hooks.url, source: 'store' })]);
  });

  it('sends rollback, archive and kill-switch changes as their own event types', async () => {
    const { app } = await service();
    const hooks = await receiver();
    await addHook(app, { url: hooks.url, secret: SECRET });
    const flag = `${API}/projects/shop/flags/feature/new_checkout`;
    await changeCheckout(app);
    for (const action of ['rollback', 'disable', 'enable', 'archive']) {
      const response = await app.inject({ method: 'POST', url: `${flag}/${action}`, payload: {} });
      expect(response.statusCode, response.body).toBe(201);
    }
    await app.services.webhookDispatcher.drain();
    expect(hooks.received.map((r) => r.payload?.event)).toEqual([
      'revision.created',
      'revision.rolled_back',
      'flag.disabled',
      'flag.enabled',
      'flag.archived',
    ]);
    expect(hooks.received.every((r) => r.refused === undefined)).toBe(true);
  });

  it('retries after 500s with exponential backoff, resending the same delivery id freshly signed, until a 2xx', async () => {
    const { app, timers } = await service();
    const hooks = await receiver();
    hooks.answers.push(500, 503);
    await addHook(app, { url: hooks.url, secret: SECRET });
    await changeCheckout(app);
    await app.services.webhookDispatcher.drain();
    expect(hooks.received).toHaveLength(1);
    expect((await deliveries(app))[0]).toMatchObject({
      status: 'pending',
      attempts: [{ status: 500, error: 'HTTP 500' }],
    });
    expect((await deliveries(app))[0]!.nextAttemptTime).toBeDefined();

    expect(timers.runAll()).toBe(1);
    await app.services.webhookDispatcher.drain();
    expect(timers.runAll()).toBe(1);
    await app.services.webhookDispatcher.drain();
    expect(timers.waiting).toHaveLength(0);

    expect(timers.delays).toEqual([10_000, 30_000]);
    expect(hooks.received).toHaveLength(3);
    expect(new Set(hooks.received.map((r) => r.headers['vexil-delivery'])).size).toBe(1);
    expect(hooks.received.every((r) => r.refused === undefined)).toBe(true);
    const [logged] = await deliveries(app);
    expect(logged!.status).toBe('delivered');
    expect(logged!.attempts.map((a) => a.status)).toEqual([500, 503, 200]);
    expect(logged!.nextAttemptTime).toBeUndefined();
  });

  it('gives up on a receiver that is down after six attempts, the waits growing 3 times each; the write answered at once', async () => {
    // A port nothing listens on: taken, then freed.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const { app, store, timers } = await service();
    await addHook(app, { url: `http://127.0.0.1:${port}/down`, secret: SECRET });
    await changeCheckout(app);
    for (let i = 0; i < 10; i++) {
      await app.services.webhookDispatcher.drain();
      if (timers.runAll() === 0) break;
    }
    expect(timers.delays).toEqual([10_000, 30_000, 90_000, 270_000, 810_000]);
    const [logged] = await deliveries(app, '?status=failed');
    expect(logged!.attempts).toHaveLength(6);
    expect(logged!.attempts.every((a) => a.status === undefined && /ECONNREFUSED/.test(a.error ?? ''))).toBe(true);
    // The change itself is in force regardless.
    expect((await store.latest('REVISION', checkout))?.fields).toMatchObject({ Treatments: [{ PercentRollout: 50 }] });
  });

  it('answers the write while the receiver has not answered yet', async () => {
    const { app } = await service();
    const hooks = await receiver();
    let release = () => {};
    hooks.hold = new Promise((resolve) => {
      release = resolve;
    });
    await addHook(app, { url: hooks.url, secret: SECRET });
    await changeCheckout(app);
    // The write has answered: its delivery is still pending, the receiver holding it.
    expect(app.services.webhookDispatcher.pending).toBe(1);
    release();
    await app.services.webhookDispatcher.drain();
    expect(app.services.webhookDispatcher.pending).toBe(0);
    expect((await deliveries(app))[0]!.status).toBe('delivered');
  });

  it('is refused by a receiver holding another secret, or when its timestamp is outside the tolerance', async () => {
    const { app } = await service({ maxAttempts: 1 });
    const wrongSecret = await receiver('not-the-secret-vexil-has');
    await addHook(app, { url: wrongSecret.url, secret: SECRET });
    await changeCheckout(app);
    await app.services.webhookDispatcher.drain();
    expect(wrongSecret.received[0]!.refused).toBe('signature mismatch');
    expect((await deliveries(app))[0]).toMatchObject({ status: 'failed', attempts: [{ status: 401 }] });

    // A sender whose clock says ten minutes ago: what a replayed delivery looks like.
    const late = await service({ maxAttempts: 1, now: () => Date.now() - 600_000 });
    const hooks = await receiver();
    await addHook(late.app, { url: hooks.url, secret: SECRET });
    await changeCheckout(late.app);
    await late.app.services.webhookDispatcher.drain();
    expect(hooks.received[0]!.refused).toBe('timestamp outside the tolerance');
  });

  it('sends a project webhook only that project’s changes, and a webhook with events only those types', async () => {
    const { app } = await service();
    const shop = await receiver();
    const other = await receiver();
    const archives = await receiver();
    await addHook(app, { url: shop.url, secret: SECRET }, `${API}/projects/shop/webhooks`);
    await addHook(app, { url: other.url, secret: SECRET }, `${API}/projects/other/webhooks`);
    await addHook(app, { url: archives.url, secret: SECRET, events: ['flag.archived'] });
    await changeCheckout(app);
    await app.inject({ method: 'POST', url: `${API}/projects/shop/flags/feature/new_checkout/archive`, payload: {} });
    await app.services.webhookDispatcher.drain();
    expect(shop.received.map((r) => r.payload?.event)).toEqual(['revision.created', 'flag.archived']);
    expect(other.received).toEqual([]);
    expect(archives.received.map((r) => r.payload?.event)).toEqual(['flag.archived']);
    const listed = await app.inject({ url: `${API}/projects/shop/webhooks` });
    expect((listed.json() as { url: string }[]).map((h) => h.url)).toEqual([shop.url]);
  });

  it('refuses a URL that is not http or https or that holds credentials, a short secret, an unknown event, naming the field; keeps nothing', async () => {
    const { app } = await service();
    const bad: [Record<string, unknown>, string, RegExp][] = [
      [{ url: 'file:///etc/passwd' }, 'url', /http or https, not file/],
      [{ url: 'gopher://127.0.0.1:70/' }, 'url', /http or https/],
      [{ url: 'not a url' }, 'url', /not a URL/],
      [{ url: 'https://user:pw@hooks.example/' }, 'url', /user name or password/],
      [{ url: 'https://hooks.example/', secret: 'short' }, 'secret', /16 to 200/],
      [{ url: 'https://hooks.example/', events: ['flag.exploded'] }, 'events', /event types/],
      [{ url: 'https://hooks.example/', project: 'nope' }, 'project_name', /nope/],
      [{ url: 'https://hooks.example/', target: 'x' }, 'target', /target/],
    ];
    for (const [payload, field, message] of bad) {
      const response = await app.inject({ method: 'POST', url: `${API}/webhooks`, payload });
      expect(response.statusCode === 400 || response.statusCode === 404, response.body).toBe(true);
      const body = response.json() as { field?: string; message: string };
      expect(body.message).toMatch(message);
      if (field !== 'target') expect(body.field).toBe(field);
    }
    expect((await app.inject({ url: `${API}/webhooks` })).json()).toEqual([]);
  });

  it('lets only admin tokens see or change webhooks', async () => {
    const { app } = await service();
    const made = await app.inject({
      method: 'POST',
      url: `${API}/tokens`,
      payload: { scope: 'write', projects: ['shop'], owner: 'ci' },
    });
    const writer = { authorization: `Bearer ${(made.json() as { secret: string }).secret}` };
    for (const [method, url] of [
      ['GET', `${API}/webhooks`],
      ['POST', `${API}/webhooks`],
      ['GET', `${API}/projects/shop/webhooks`],
      ['POST', `${API}/projects/shop/webhooks`],
      ['GET', `${API}/webhooks/deliveries`],
    ] as const) {
      const response = await app.inject({
        method,
        url,
        headers: writer,
        ...(method === 'POST' ? { payload: { url: 'https://x.example/' } } : {}),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(403);
    }
  });

  it('removes a webhook (nothing more is sent), pings one, and keeps VEXIL_WEBHOOKS entries listed but not removable', async () => {
    const envHooks = await receiver('secret-from-the-environment');
    const { app } = await service(
      {},
      {
        VEXIL_WEBHOOKS: JSON.stringify([{ url: envHooks.url, secret: 'secret-from-the-environment', project: 'shop' }]),
      },
    );
    const hooks = await receiver();
    const added = await addHook(app, { url: hooks.url, secret: SECRET });
    const listed = (await app.inject({ url: `${API}/webhooks` })).json() as { id: string; source: string }[];
    expect(listed.map((h) => [h.id, h.source])).toEqual([
      ['env-1', 'env'],
      [added.webhook.id, 'store'],
    ]);

    const ping = await app.inject({ method: 'POST', url: `${API}/webhooks/${added.webhook.id}/ping` });
    expect(ping.json()).toMatchObject({ event: 'ping', status: 'delivered', attempts: [{ status: 200 }] });
    expect(hooks.received.map((r) => r.payload?.event)).toEqual(['ping']);

    const removed = await app.inject({ method: 'DELETE', url: `${API}/webhooks/${added.webhook.id}` });
    expect(removed.statusCode).toBe(200);
    // Who added and removed it, from where, is in the audit view.
    const audit = (await app.inject({ url: `${API}/audit` })).json() as {
      action: string;
      subject: string;
      actor: string;
      tokenId?: string;
    }[];
    expect(audit.filter((e) => e.action.startsWith('webhook-')).map((e) => [e.action, e.subject, e.actor])).toEqual([
      ['webhook-remove', added.webhook.id, 'bootstrap'],
      ['webhook-add', added.webhook.id, 'bootstrap'],
    ]);
    const envRemoval = await app.inject({ method: 'DELETE', url: `${API}/webhooks/env-1` });
    expect(envRemoval.statusCode).toBe(400);
    expect(envRemoval.json().message).toMatch(/VEXIL_WEBHOOKS/);
    expect((await app.inject({ method: 'DELETE', url: `${API}/webhooks/wh_nope` })).statusCode).toBe(404);

    await changeCheckout(app);
    await app.services.webhookDispatcher.drain();
    expect(hooks.received).toHaveLength(1);
    expect(envHooks.received.map((r) => [r.refused, r.payload?.event])).toEqual([[undefined, 'revision.created']]);
  });

  it('refuses a bad VEXIL_WEBHOOKS entry at start-up, naming it', () => {
    expect(() => loadConfig({ VEXIL_WEBHOOKS: '[{"url":"https://h.example/"}]' })).toThrow(
      /VEXIL_WEBHOOKS\[0\]\.secret is required/,
    );
    expect(() => loadConfig({ VEXIL_WEBHOOKS: '[{"url":"ftp://h.example/","secret":"0123456789abcdef"}]' })).toThrow(
      /VEXIL_WEBHOOKS\[0\]\.url must use http or https/,
    );
    expect(() => loadConfig({ VEXIL_WEBHOOKS: '{"url":"x"}' })).toThrow(/JSON list/);
  });

  it('sends a scheduled revision when it is made and again when the scheduler applies it', async () => {
    const clock = new ManualClock(Date.now());
    const store = new MemoryStore();
    await seedFlags(new FlagAdmin(store));
    const app = await buildTestApp({
      config: loadConfig({ VEXIL_STORE: 'memory:' }),
      store,
      defaultMetrics: false,
      now: clock.now,
      scheduler: { setTimer: new ManualTimer().setTimer, pollMs: 10 * 3_600_000 },
    });
    cleanups.push(() => app.close());
    const hooks = await receiver();
    await addHook(app, { url: hooks.url, secret: SECRET });
    const made = await app.inject({
      method: 'POST',
      url: `${API}/projects/shop/flags/feature/new_checkout/schedules`,
      payload: { at: clock.iso(60_000), revision: { ControlValue: true, Comment: 'launch' } },
    });
    expect(made.statusCode, made.body).toBe(201);
    clock.advance(60_000);
    await app.services.changes.schedules.applyDue();
    await app.services.webhookDispatcher.drain();
    const applied = hooks.received.find((r) => r.payload?.event === 'schedule.applied');
    expect(hooks.received.map((r) => r.payload?.event)).toContain('schedule.created');
    expect(applied?.refused).toBeUndefined();
    expect(applied?.payload).toMatchObject({
      project: 'shop',
      flag: 'new_checkout',
      subject: (made.json() as { id: string }).id,
      revision: (await store.latest('REVISION', checkout))?.wtime,
    });
  });

  it('keeps the newest deliveries of the log, removing the oldest', async () => {
    const store = new MemoryStore();
    const records = new WebhookRecords(store.access);
    const delivery = (i: number): WebhookDelivery => ({
      id: `dlv_${i}`,
      webhookId: 'wh_1',
      url: 'https://h.example/',
      event: 'revision.created',
      project: 'shop',
      flagType: 'feature',
      flag: 'new_checkout',
      revision: null,
      createdTime: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      status: 'delivered',
      attempts: [],
    });
    for (let i = 0; i < 7; i++) await records.saveDelivery(delivery(i));
    expect(await records.pruneDeliveries(5)).toBe(2);
    expect((await records.deliveries()).map((d) => d.id)).toEqual(['dlv_6', 'dlv_5', 'dlv_4', 'dlv_3', 'dlv_2']);
    expect((await records.deliveries({ limit: 2 })).map((d) => d.id)).toEqual(['dlv_6', 'dlv_5']);
    await expect(records.deliveries({ limit: 0 })).rejects.toThrow(/limit must be a whole number from 1 to 1000/);
  });

  it('marks deliveries still waiting for a retry abandoned when the service stops', async () => {
    const { app, store } = await service();
    const hooks = await receiver();
    hooks.answers.push(500);
    await addHook(app, { url: hooks.url, secret: SECRET });
    await changeCheckout(app);
    await app.services.webhookDispatcher.drain();
    await app.close();
    const records = await store.access.listRecords<WebhookDelivery>('webhook-delivery');
    expect(records.map((r) => r.value.status)).toEqual(['abandoned']);
  });
});
