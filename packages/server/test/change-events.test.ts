import { MemoryStore } from '@vexil/store';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChangeEvent, ChangeEvents } from '../src/change-events.js';
import { loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { checkout, seedFlags } from './service-harness.js';
import { buildTestApp } from './support/test-token.js';

const base = `/admin/v1/projects/${checkout.project}/flags/${checkout.flagType}/${checkout.name}`;

describe('change events', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  async function service() {
    const store = new MemoryStore();
    await seedFlags(new FlagAdmin(store));
    const events = new ChangeEvents();
    const seen: ChangeEvent[] = [];
    events.subscribe((event) => seen.push(event));
    const app = await buildTestApp({
      config: loadConfig({ VEXIL_STORE: 'memory:' }),
      store,
      defaultMetrics: false,
      events,
    });
    close = () => app.close();
    return { app, store, seen };
  }

  it('announces each admin API change once, with its type, revision time and the token owner', async () => {
    const { app, seen } = await service();
    const calls: [string, Record<string, unknown>, string][] = [
      ['/revisions', { ControlValue: true }, 'revision.created'],
      ['/disable', {}, 'flag.disabled'],
      ['/enable', {}, 'flag.enabled'],
      ['/metadata', { Metadata: { owner: 'team-a' } }, 'flag.metadata_updated'],
      ['/rollback', {}, 'revision.rolled_back'],
      ['/archive', {}, 'flag.archived'],
    ];
    for (const [path, payload, type] of calls) {
      const response = await app.inject({ method: 'POST', url: `${base}${path}`, payload });
      expect(response.statusCode, response.body).toBe(201);
      const event = seen.at(-1)!;
      expect(event).toMatchObject({
        type,
        project: 'shop',
        flagType: 'feature',
        flag: 'new_checkout',
        wtime: response.json().wtime,
        actor: 'bootstrap',
        tokenId: expect.stringMatching(/^tok_/),
      });
      expect(Number.isNaN(Date.parse(event.time))).toBe(false);
    }
    expect(seen.map((event) => event.type)).toEqual(calls.map(([, , type]) => type));
  });

  it('announces nothing for a write that is refused', async () => {
    const { app, seen } = await service();
    const response = await app.inject({ method: 'POST', url: `${base}/revisions`, payload: { ControlValue: 'yes' } });
    expect(response.statusCode).toBe(400);
    const conflict = await app.inject({
      method: 'POST',
      url: `${base}/revisions`,
      payload: { ControlValue: true, expectedLatest: '2000-01-01 00:00:00.000000' },
    });
    expect(conflict.statusCode).toBe(409);
    expect(seen).toEqual([]);
  });

  it('a listener that throws neither fails the write nor stops the other listeners', async () => {
    const failures: string[] = [];
    const events = new ChangeEvents((error) => failures.push(String(error)));
    const seen: string[] = [];
    events.subscribe(() => {
      throw new Error('listener broke');
    });
    events.subscribe((event) => seen.push(event.type));
    const admin = new FlagAdmin(new MemoryStore(), { events }).actingAs({ owner: 'ana' });
    await admin.addFlag({ project: 'p', flagType: 'feature', name: 'f' });
    const view = await admin.addRevision({ project: 'p', flagType: 'feature', name: 'f' }, { ControlValue: true });
    expect(view.revision.ControlValue).toBe(true);
    expect(seen).toEqual(['flag.created', 'revision.created']);
    expect(failures).toEqual(['Error: listener broke', 'Error: listener broke']);
  });

  it('a batch write announces one event per row and apply tells a new flag from an existing one', async () => {
    const events = new ChangeEvents();
    const seen: ChangeEvent[] = [];
    events.subscribe((event) => seen.push(event));
    const admin = new FlagAdmin(new MemoryStore(), { events }).actingAs({ owner: 'ana' });
    await admin.writeBatch({
      project: 'p',
      flags: [{ name: 'a', flagType: 'feature', revision: { ControlValue: true } }],
      segments: [{ name: 'staff', segment: { Included: ['u1'] } }],
    });
    expect(seen.map((event) => `${event.type} ${event.flagType} ${event.flag} ${event.actor}`)).toEqual([
      'flag.created segment staff ana',
      'revision.created segment staff ana',
      'flag.created feature a ana',
      'revision.created feature a ana',
    ]);
  });

  it('unsubscribing stops the events', () => {
    const events = new ChangeEvents();
    const seen: string[] = [];
    const stop = events.subscribe((event) => seen.push(event.type));
    const event: ChangeEvent = {
      type: 'flag.created',
      time: '',
      project: 'p',
      flagType: 'feature',
      flag: 'f',
      actor: 'a',
    };
    events.emit(event);
    stop();
    events.emit(event);
    expect(seen).toEqual(['flag.created']);
  });
});
