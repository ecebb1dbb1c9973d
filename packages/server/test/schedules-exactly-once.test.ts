import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type StoreEngine } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { changesOn, itOnSharedEngines, ManualClock, ManualTimer, rollout } from './change-harness.js';
import { ADMIN_HEADERS, buildTestApp } from './support/test-token.js';

/**
 * A due schedule is written once however many replicas apply it at the same moment:
 * each writes on condition that the revision it read is still the newest (every
 * engine's compare-and-set), and a replica that loses finds the schedule's revision.
 */
async function appliesOnce(open: () => Promise<StoreEngine>): Promise<void> {
  const clock = new ManualClock();
  const stores = await Promise.all(Array.from({ length: 4 }, open));
  try {
    const admin = new FlagAdmin(stores[0]!);
    await admin.addFlag(rollout, {});
    await admin.addRevision(rollout, { ControlValue: false });
    const replicas = stores.map((store) => changesOn(store, clock));
    const record = await replicas[0]!.changes.schedules.create(
      rollout,
      { at: clock.iso(60_000), revision: { ControlValue: true, Comment: 'at noon' } },
      { owner: 'ana' },
    );
    clock.advance(60_000);
    const settled = await Promise.all(replicas.map(({ changes }) => changes.schedules.applyDue()));
    const history = await stores[0]!.history('REVISION', rollout);
    expect(history.filter((row) => row.fields.ScheduleID === record.id)).toHaveLength(1);
    expect(history).toHaveLength(2);
    // Exactly one replica wrote it and announced it.
    const announced = replicas.flatMap(({ seen }) => seen.filter((event) => event.type === 'schedule.applied'));
    expect(announced).toHaveLength(1);
    expect(announced[0]!.wtime).toBe(history[0]!.wtime);
    const final = await stores[0]!.access.getRecord<{ status: string; appliedWtime: string }>('schedule', record.id);
    expect(final).toMatchObject({ status: 'applied', appliedWtime: history[0]!.wtime });
    expect(settled.flat().length).toBeGreaterThanOrEqual(1);
  } finally {
    for (const store of stores) await store.close();
  }
}

describe('a due schedule applied by several replicas at once is written exactly once', () => {
  itOnSharedEngines(appliesOnce);
});

describe('two replicas on one store, each with its own scheduler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vexil-replicas-'));
  const spec = `sqlite:${join(dir, 'vexil.db')}`;
  const stores: StoreEngine[] = [];
  const apps: FastifyInstance[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const store of stores) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('apply a scheduled revision once, and both serve it within 1 s of its time', async () => {
    const seed = await openStore(spec);
    stores.push(seed);
    const admin = new FlagAdmin(seed);
    await admin.addFlag(rollout, {});
    await admin.addRevision(rollout, { ControlValue: false });
    // One clock for both replicas, driven by the test; each replica wakes on its own timer.
    const clock = new ManualClock(Date.now());
    const timers = [new ManualTimer(), new ManualTimer()];
    for (const timer of timers) {
      const store = await openStore(spec);
      stores.push(store);
      apps.push(
        await buildTestApp({
          config: loadConfig({ VEXIL_STORE: spec }),
          store,
          defaultMetrics: false,
          now: clock.now,
          scheduler: { setTimer: timer.setTimer },
        }),
      );
    }
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    const made = await a.inject({
      method: 'POST',
      url: '/admin/v1/projects/shop/flags/feature/new_checkout/schedules',
      headers: ADMIN_HEADERS,
      payload: { at: clock.iso(60_000), revision: { ControlValue: true } },
    });
    expect(made.statusCode, made.body).toBe(201);
    const url = '/get-feature-flag?project_name=shop&instance_id=u1&flag_type=feature&flag_name=new_checkout';
    const serves = async (app: FastifyInstance) =>
      (await app.inject({ url, headers: ADMIN_HEADERS })).json().flag_value === true;
    expect(await serves(a)).toBe(false);
    expect(await serves(b)).toBe(false);
    // Its time comes: both replicas wake at once, as two processes with synchronised clocks would.
    clock.advance(60_000);
    const dueAt = Date.now();
    for (const timer of timers) timer.fire();
    // Polled until both serve it; the bound is the acceptance's: 1 s after the schedule's time.
    const servedAfter: number[] = [];
    for (const app of [a, b]) {
      while (!(await serves(app))) {
        if (Date.now() > dueAt + 1000) throw new Error('a replica did not serve the scheduled revision within 1 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      servedAfter.push(Date.now() - dueAt);
    }
    console.log(`scheduled revision served ${servedAfter.join(' ms and ')} ms after its time`);
    const history = await seed.history('REVISION', rollout);
    expect(history.filter((row) => row.fields.ScheduleID === made.json().id)).toHaveLength(1);
    expect(history).toHaveLength(2);
  }, 20_000);
});
