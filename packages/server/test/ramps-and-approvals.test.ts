import { MemoryStore } from '@vexil/store';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { issueToken } from '../src/access/tokens.js';
import { loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import type { RevisionView } from '../src/views.js';
import { changesOn, ManualClock, rollout } from './change-harness.js';
import { buildTestApp } from './support/test-token.js';

const HOUR = 3_600_000;

describe('progressive ramps', () => {
  async function setup() {
    const store = new MemoryStore();
    const clock = new ManualClock();
    const { changes, admin, seen } = changesOn(store, clock);
    await admin.addFlag(rollout, {});
    const base = await admin.addRevision(rollout, { ControlValue: false, Comment: 'off' });
    return { store, clock, changes, admin, seen, base };
  }

  it('sets Treatments[0].PercentRollout to each step in turn, one every N hours, then completes', async () => {
    const { clock, changes, admin, seen } = await setup();
    const ramp = await changes.ramps.start(rollout, { steps: [1, 5, 25, 100], everyHours: 6 }, { owner: 'ana' });
    const percents = async () => (await admin.latestRevision(rollout)).revision.Treatments[0]?.PercentRollout;
    await changes.schedules.applyDue();
    expect(await percents()).toBe(1);
    clock.advance(5 * HOUR);
    await changes.schedules.applyDue();
    expect(await percents()).toBe(1);
    for (const expected of [5, 25, 100]) {
      clock.advance(6 * HOUR);
      await changes.schedules.applyDue();
      expect(await percents()).toBe(expected);
    }
    const done = await changes.ramps.get('shop', ramp.id);
    expect(done.status).toBe('completed');
    expect(done.applied.map((step) => step.percent)).toEqual([1, 5, 25, 100]);
    const latest = await admin.latestRevision(rollout);
    expect(latest.revision).toMatchObject({ RampID: ramp.id, ControlValue: false, OwnerID: 'ana' });
    expect(latest.revision.Treatments).toEqual([{ OverrideList: [], PercentRollout: 100, Value: true }]);
    expect(seen.filter((event) => event.type.startsWith('ramp.')).map((event) => event.type)).toEqual([
      'ramp.started',
      'ramp.completed',
    ]);
    expect(seen.filter((event) => event.type === 'schedule.applied')).toHaveLength(4);
  });

  it('pause holds the percentage, resume continues one interval later, abort rolls back to the revision before the plan', async () => {
    const { clock, changes, admin, base } = await setup();
    const ramp = await changes.ramps.start(rollout, { steps: [10, 50], everyHours: 1 }, { owner: 'ana' });
    await changes.schedules.applyDue();
    const paused = await changes.ramps.pause('shop', ramp.id, { owner: 'bo' });
    expect(paused.status).toBe('paused');
    clock.advance(5 * HOUR);
    await changes.schedules.applyDue();
    expect((await admin.latestRevision(rollout)).revision.Treatments[0]?.PercentRollout).toBe(10);
    await changes.ramps.resume('shop', ramp.id, { owner: 'bo' });
    clock.advance(HOUR - 1);
    await changes.schedules.applyDue();
    expect((await admin.latestRevision(rollout)).revision.Treatments[0]?.PercentRollout).toBe(10);
    const aborted = await changes.ramps.abort('shop', ramp.id, { owner: 'bo' });
    expect(aborted.status).toBe('aborted');
    const latest = await admin.latestRevision(rollout);
    expect(latest.revision).toMatchObject({ RollbackOf: base.wtime, Treatments: [], RampID: ramp.id });
    clock.advance(10 * HOUR);
    await changes.schedules.applyDue();
    expect((await admin.latestRevision(rollout)).wtime).toBe(latest.wtime);
    await expect(changes.ramps.resume('shop', ramp.id, { owner: 'bo' })).rejects.toThrow(/is aborted/);
  });

  it('refuses a bad plan, a flag that is not a feature flag, and a second ramp of one flag, naming the field', async () => {
    const { changes } = await setup();
    const actor = { owner: 'ana' };
    await expect(changes.ramps.start(rollout, { steps: [5, 1], everyHours: 1 }, actor)).rejects.toMatchObject({
      field: 'steps[1]',
    });
    await expect(changes.ramps.start(rollout, { steps: [1, 150], everyHours: 1 }, actor)).rejects.toMatchObject({
      field: 'steps[1]',
    });
    await expect(changes.ramps.start(rollout, { everyHours: 0 }, actor)).rejects.toMatchObject({ field: 'everyHours' });
    await expect(changes.ramps.start({ ...rollout, flagType: 'data' }, { everyHours: 1 }, actor)).rejects.toMatchObject(
      { field: 'flag_type' },
    );
    await changes.ramps.start(rollout, { everyHours: 1 }, actor);
    await expect(changes.ramps.start(rollout, { everyHours: 1 }, actor)).rejects.toThrow(/already has ramp/);
  });
});

describe('approvals over the admin API', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  async function service() {
    const store = new MemoryStore();
    const clock = new ManualClock();
    const admin = new FlagAdmin(store);
    await admin.addFlag(rollout, {});
    await admin.addRevision(rollout, { ControlValue: false });
    const app = await buildTestApp({
      config: loadConfig({ VEXIL_STORE: 'memory:' }),
      store,
      defaultMetrics: false,
      now: clock.now,
      scheduler: false,
    });
    apps.push(app);
    const token = async (owner: string) =>
      (await issueToken(store.access, { owner, scope: 'write', projects: ['shop'] }, { owner: 'test' })).secret;
    const [ana, bo] = [await token('ana'), await token('bo')];
    const as = (secret: string | undefined) => async (options: InjectOptions) => {
      const response = await app.inject({
        ...options,
        headers: secret === undefined ? {} : { authorization: `Bearer ${secret}` },
      });
      return { status: response.statusCode, body: response.json() };
    };
    return { app, clock, ana: as(ana), bo: as(bo), adminCall: as(undefined) };
  }
  const flagPath = '/admin/v1/projects/shop/flags/feature/new_checkout';

  it('with approvals required, a revision takes effect only once another owner approves; the proposer cannot', async () => {
    const { ana, bo, adminCall } = await service();
    const settings = await adminCall({
      method: 'PUT',
      url: '/admin/v1/projects/shop/approval-settings',
      payload: { required: true, expiryHours: 24 },
    });
    expect(settings).toMatchObject({ status: 200, body: { approvals: { required: true, expiryHours: 24 } } });
    const forbidden = await ana({
      method: 'PUT',
      url: '/admin/v1/projects/shop/approval-settings',
      payload: { required: false },
    });
    expect(forbidden.status).toBe(403);

    const direct = await ana({ method: 'POST', url: `${flagPath}/revisions`, payload: { ControlValue: true } });
    expect(direct.status).toBe(403);
    expect(direct.body.message).toContain('requires approvals');
    const proposed = await ana({
      method: 'POST',
      url: `${flagPath}/proposals`,
      payload: { kind: 'revision', revision: { ControlValue: true, Comment: 'launch' } },
    });
    expect(proposed.status, JSON.stringify(proposed.body)).toBe(201);
    const id = proposed.body.id as string;
    expect((await ana({ url: `${flagPath}/revisions/latest` })).body.revision.ControlValue).toBe(false);

    const own = await ana({ method: 'POST', url: `/admin/v1/projects/shop/proposals/${id}/approve` });
    expect(own.status).toBe(403);
    expect(own.body.message).toContain('ana proposed');
    const approved = await bo({ method: 'POST', url: `/admin/v1/projects/shop/proposals/${id}/approve` });
    expect(approved).toMatchObject({ status: 200, body: { status: 'approved', decidedBy: { owner: 'bo' } } });
    const latest = (await ana({ url: `${flagPath}/revisions/latest` })).body as RevisionView;
    expect(latest.revision).toMatchObject({ ControlValue: true, ProposalID: id, ApprovedBy: 'bo', OwnerID: 'ana' });
    expect(approved.body.result).toBe(latest.wtime);
    const twice = await bo({ method: 'POST', url: `/admin/v1/projects/shop/proposals/${id}/approve` });
    expect(twice.status).toBe(400);
  });

  it('refuses bad proposals with the direct route’s errors, expires old ones, and approves one based on a stale revision with 409', async () => {
    const { clock, ana, bo, adminCall } = await service();
    await adminCall({ method: 'PUT', url: '/admin/v1/projects/shop/approval-settings', payload: { required: true } });
    const bad = await ana({
      method: 'POST',
      url: `${flagPath}/proposals`,
      payload: { kind: 'revision', revision: { ControlValue: 'yes' } },
    });
    expect(bad).toMatchObject({ status: 400, body: { field: 'ControlValue' } });
    const badKind = await ana({ method: 'POST', url: `${flagPath}/proposals`, payload: { kind: 'ramp' } });
    expect(badKind).toMatchObject({ status: 400, body: { field: 'everyHours' } });
    const noZone = await ana({
      method: 'POST',
      url: `${flagPath}/proposals`,
      payload: { kind: 'schedule', at: '2030-02-01T00:00:00', revision: { ControlValue: true } },
    });
    expect(noZone).toMatchObject({ status: 400, body: { field: 'at' } });

    const old = (
      await ana({
        method: 'POST',
        url: `${flagPath}/proposals`,
        payload: { kind: 'revision', revision: { ControlValue: true } },
      })
    ).body.id;
    clock.advance(169 * HOUR);
    const expired = await bo({ method: 'POST', url: `/admin/v1/projects/shop/proposals/${old}/approve` });
    expect(expired.status).toBe(400);
    expect(expired.body.message).toContain('expired');

    const first = (
      await ana({
        method: 'POST',
        url: `${flagPath}/proposals`,
        payload: { kind: 'revision', revision: { ControlValue: true } },
      })
    ).body.id;
    const second = (
      await ana({
        method: 'POST',
        url: `${flagPath}/proposals`,
        payload: { kind: 'revision', revision: { ControlValue: false, Comment: 'x' } },
      })
    ).body.id;
    expect((await bo({ method: 'POST', url: `/admin/v1/projects/shop/proposals/${first}/approve` })).status).toBe(200);
    const stale = await bo({ method: 'POST', url: `/admin/v1/projects/shop/proposals/${second}/approve` });
    expect(stale.status).toBe(409);
    expect(stale.body.message).toContain('changed since');
    const rejected = await bo({
      method: 'POST',
      url: `/admin/v1/projects/shop/proposals/${second}/reject`,
      payload: { reason: 'stale' },
    });
    expect(rejected.body).toMatchObject({ status: 'rejected', detail: 'stale' });
    const listed = (await ana({ url: '/admin/v1/projects/shop/proposals' })).body as { id: string; status: string }[];
    expect(Object.fromEntries(listed.map((p) => [p.id, p.status]))).toEqual({
      [old]: 'expired',
      [first]: 'approved',
      [second]: 'rejected',
    });
  });

  it('an approved schedule or ramp is approved once and then runs by itself', async () => {
    const { app, clock, ana, bo, adminCall } = await service();
    await adminCall({ method: 'PUT', url: '/admin/v1/projects/shop/approval-settings', payload: { required: true } });
    const direct = await ana({ method: 'POST', url: `${flagPath}/ramps`, payload: { everyHours: 1 } });
    expect(direct.status).toBe(403);
    const ramp = (
      await ana({
        method: 'POST',
        url: `${flagPath}/proposals`,
        payload: { kind: 'ramp', steps: [50, 100], everyHours: 1 },
      })
    ).body.id;
    const approved = await bo({ method: 'POST', url: `/admin/v1/projects/shop/proposals/${ramp}/approve` });
    expect(approved.body.result).toMatch(/^rmp_/);
    await app.services.changes.schedules.applyDue();
    clock.advance(HOUR);
    await app.services.changes.schedules.applyDue();
    const latest = (await ana({ url: `${flagPath}/revisions/latest` })).body as RevisionView;
    expect(latest.revision.Treatments[0]?.PercentRollout).toBe(100);
    expect((await ana({ url: `/admin/v1/projects/shop/ramps/${approved.body.result}` })).body.status).toBe('completed');
  });
});
