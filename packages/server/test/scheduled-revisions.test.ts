import { MemoryStore } from '@vexil/store';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ChangeEvent, ChangeEvents } from '../src/change-events.js';
import type { ScheduleRecord } from '../src/changes/change-records.js';
import { loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import type { RevisionView } from '../src/views.js';
import { ManualClock, ManualTimer, rollout } from './change-harness.js';
import { buildTestApp } from './support/test-token.js';

const flagPath = `/admin/v1/projects/shop/flags/feature/new_checkout`;
const HOUR = 3_600_000;

describe('scheduled revisions over the admin API', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  async function service(store = new MemoryStore(), clock = new ManualClock(), scheduler = true) {
    const admin = new FlagAdmin(store);
    if ((await store.latest('FLAG', rollout)) === undefined) {
      await admin.addFlag(rollout, { description: 'checkout' });
      await admin.addRevision(rollout, { ControlValue: false, Comment: 'off' });
    }
    const events = new ChangeEvents();
    const seen: ChangeEvent[] = [];
    events.subscribe((event) => seen.push(event));
    const timer = new ManualTimer();
    const app = await buildTestApp({
      config: loadConfig({ VEXIL_STORE: 'memory:' }),
      store,
      defaultMetrics: false,
      events,
      now: clock.now,
      scheduler: scheduler ? { setTimer: timer.setTimer, pollMs: 10 * HOUR } : false,
    });
    apps.push(app);
    const call = async (options: InjectOptions) => {
      const response = await app.inject(options);
      return { status: response.statusCode, body: response.json() };
    };
    return { app, store, clock, timer, seen, call };
  }

  const schedule = (at: string, revision: object = { ControlValue: true, Comment: 'launch' }) => ({
    method: 'POST' as const,
    url: `${flagPath}/schedules`,
    payload: { at, revision },
  });

  it('writes the revision at its time, once, naming the schedule in history, and not before', async () => {
    const { app, clock, timer, seen, call } = await service();
    const made = await call(schedule(clock.iso(2 * HOUR)));
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const id = made.body.id as string;
    expect(made.body).toMatchObject({ status: 'pending', ref: rollout, createdBy: { owner: 'bootstrap' } });
    expect(id).toMatch(/^sch_/);
    // The scheduler sleeps until the schedule is due (the poll is longer).
    await vi.waitFor(() => expect(timer.nextMs).toBe(2 * HOUR));

    clock.advance(HOUR);
    timer.fire();
    await app.services.changes.schedules.applyDue();
    expect((await call({ url: `${flagPath}/revisions/latest` })).body.revision.ControlValue).toBe(false);

    clock.advance(HOUR);
    timer.fire();
    await vi.waitFor(async () => {
      expect((await call({ url: `/admin/v1/projects/shop/schedules/${id}` })).body.status).toBe('applied');
    });
    const history = (await call({ url: `${flagPath}/revisions` })).body as RevisionView[];
    expect(history).toHaveLength(2);
    expect(history[0]!.revision).toMatchObject({
      ControlValue: true,
      Comment: 'launch',
      ScheduleID: id,
      OwnerID: 'bootstrap',
    });
    const record = (await call({ url: `/admin/v1/projects/shop/schedules/${id}` })).body as ScheduleRecord;
    expect(record.appliedWtime).toBe(history[0]!.wtime);

    // Another tick later writes nothing more.
    clock.advance(HOUR);
    await app.services.changes.schedules.applyDue();
    expect((await call({ url: `${flagPath}/revisions` })).body).toHaveLength(2);
    expect(seen.map((event) => [event.type, event.subject])).toEqual([
      ['schedule.created', id],
      ['schedule.applied', id],
    ]);
    expect(seen[1]!.wtime).toBe(history[0]!.wtime);
  });

  it('gives a scheduled revision without a Comment one that names the schedule and its time', async () => {
    const { app, clock, call } = await service();
    const at = clock.iso(HOUR);
    const made = await call(schedule(at, { ControlValue: true }));
    clock.advance(HOUR);
    await app.services.changes.schedules.applyDue();
    const latest = (await call({ url: `${flagPath}/revisions/latest` })).body as RevisionView;
    expect(latest.revision.Comment).toBe(`Scheduled revision ${made.body.id} (due ${at})`);
  });

  it('refuses a time without a zone, in the past or not a time, with a 400 naming at', async () => {
    const { clock, call } = await service();
    const local = clock.iso(HOUR).replace('Z', '');
    for (const at of [local, clock.iso(-1000), clock.iso(0), '2030-02-30T10:00:00Z', 'tomorrow', '2031-01-01']) {
      const answer = await call(schedule(at));
      expect(answer.status, at).toBe(400);
      expect(answer.body).toMatchObject({ error: 'InvalidInput', field: 'at' });
    }
    expect((await call(schedule(local))).body.hint).toContain('zone');
    expect((await call(schedule(clock.iso(-1000)))).body.message).toContain('is not in the future');
    expect((await call({ url: '/admin/v1/projects/shop/schedules' })).body).toEqual([]);
  });

  it('checks the revision now exactly as the revision route does, with the same errors', async () => {
    const { clock, call } = await service();
    const bad = [
      { ControlValue: 'yes' },
      { ControlValue: true, Treatments: [{ OverrideList: [], PercentRollout: 120, Value: true }] },
      {
        ControlValue: true,
        Rules: [
          { Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['nobody'] }], Value: true },
        ],
      },
    ];
    for (const revision of bad) {
      const direct = await call({ method: 'POST', url: `${flagPath}/revisions`, payload: revision });
      const scheduled = await call(schedule(clock.iso(HOUR), revision));
      expect(direct.status).toBe(400);
      expect(scheduled.status).toBe(400);
      expect({ ...scheduled.body, request_id: 'x' }).toEqual({ ...direct.body, request_id: 'x' });
    }
    const unknown = await call(schedule(clock.iso(HOUR), { ControlValue: true, Treatment: [] }));
    expect(unknown).toMatchObject({ status: 400, body: { field: 'revision.Treatment' } });
    const conditional = await call(schedule(clock.iso(HOUR), { ControlValue: true, expectedLatest: null }));
    expect(conditional).toMatchObject({ status: 400, body: { field: 'revision.expectedLatest' } });
    const missing = await call({ method: 'POST', url: `${flagPath}/schedules`, payload: { at: clock.iso(HOUR) } });
    expect(missing.status).toBe(400);
    const noFlag = await call({
      method: 'POST',
      url: '/admin/v1/projects/shop/flags/feature/nope/schedules',
      payload: { at: clock.iso(HOUR), revision: { ControlValue: true } },
    });
    expect(noFlag).toMatchObject({ status: 404, body: { field: 'flag_name' } });
    expect((await call({ url: '/admin/v1/projects/shop/schedules' })).body).toEqual([]);
  });

  it('cancels a pending schedule (DELETE or POST …/cancel) so that it never applies; a settled one cannot be cancelled', async () => {
    const { app, clock, seen, call } = await service();
    const first = (await call(schedule(clock.iso(HOUR)))).body.id as string;
    const second = (await call(schedule(clock.iso(2 * HOUR)))).body.id as string;
    const cancelled = await call({ method: 'DELETE', url: `/admin/v1/projects/shop/schedules/${first}` });
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled', detail: 'cancelled by bootstrap' } });
    const again = await call({ method: 'POST', url: `/admin/v1/projects/shop/schedules/${first}/cancel` });
    expect(again).toMatchObject({ status: 400, body: { field: 'schedule_id' } });
    expect(again.body.message).toContain('is cancelled');
    const viaPost = await call({ method: 'POST', url: `/admin/v1/projects/shop/schedules/${second}/cancel` });
    expect(viaPost.body.status).toBe('cancelled');
    clock.advance(3 * HOUR);
    await app.services.changes.schedules.applyDue();
    expect((await call({ url: `${flagPath}/revisions` })).body).toHaveLength(1);
    expect(seen.filter((event) => event.type === 'schedule.cancelled')).toHaveLength(2);
    const unknown = await call({ method: 'DELETE', url: '/admin/v1/projects/shop/schedules/sch_nosuchthing' });
    expect(unknown).toMatchObject({ status: 404, body: { field: 'schedule_id' } });
  });

  it('lists a flag’s and a project’s schedules soonest first, by status', async () => {
    const { clock, call } = await service();
    const later = (await call(schedule(clock.iso(2 * HOUR)))).body.id;
    const sooner = (await call(schedule(clock.iso(HOUR)))).body.id;
    await call({ method: 'DELETE', url: `/admin/v1/projects/shop/schedules/${later}` });
    const all = (await call({ url: `${flagPath}/schedules` })).body as ScheduleRecord[];
    expect(all.map((record) => record.id)).toEqual([sooner, later]);
    const pending = (await call({ url: '/admin/v1/projects/shop/schedules?status=pending' })).body as ScheduleRecord[];
    expect(pending.map((record) => record.id)).toEqual([sooner]);
  });

  it('a schedule that can no longer be written at its time (its segment archived since) fails with the reason, announced', async () => {
    const { app, clock, seen, call } = await service();
    const segments = '/admin/v1/projects/shop/segments';
    expect((await call({ method: 'POST', url: segments, payload: { name: 'staff', Included: ['u1'] } })).status).toBe(
      201,
    );
    const rules = [
      { Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['staff'] }], Value: true },
    ];
    const id = (await call(schedule(clock.iso(HOUR), { ControlValue: false, Rules: rules }))).body.id;
    expect((await call({ method: 'POST', url: `${segments}/staff/archive`, payload: {} })).status).toBe(201);
    clock.advance(HOUR);
    await app.services.changes.schedules.applyDue();
    const record = (await call({ url: `/admin/v1/projects/shop/schedules/${id}` })).body as ScheduleRecord;
    expect(record.status).toBe('failed');
    expect(record.detail).toContain('staff');
    expect((await call({ url: `${flagPath}/revisions` })).body).toHaveLength(1);
    const failed = seen.find((event) => event.type === 'schedule.failed');
    expect(failed).toMatchObject({ subject: id, detail: record.detail });
  });

  it('a replica that was down when a schedule fell due applies it as it starts', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock();
    const first = await service(store, clock, false);
    const id = (await first.call(schedule(clock.iso(HOUR)))).body.id;
    await first.app.close();
    apps.splice(apps.indexOf(first.app), 1);
    clock.advance(5 * HOUR);
    const second = await service(store, clock);
    // buildApp awaited the scheduler's first tick: nothing was fired by hand.
    expect(second.timer.armed.filter((entry) => !entry.cancelled)).toHaveLength(1);
    const latest = (await second.call({ url: `${flagPath}/revisions/latest` })).body as RevisionView;
    expect(latest.revision).toMatchObject({ ControlValue: true, ScheduleID: id });
  });
});
