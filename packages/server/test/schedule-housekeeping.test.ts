import { type AccessStore, MemoryStore, type RecordKind } from '@vexil/store';
import { describe, expect, it } from 'vitest';
import { ChangeManagement } from '../src/changes/change-management.js';
import type { ScheduleRecord } from '../src/changes/change-records.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { ManualClock, ManualTimer, rollout } from './change-harness.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The store's records with the kinds each call lists counted: what a scheduler's check reads. */
function countingLists(records: AccessStore) {
  const listed: RecordKind[] = [];
  const counted = new Proxy(records, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === 'listRecords') {
        return (kind: RecordKind, from?: string) => {
          listed.push(kind);
          return target.listRecords(kind, from);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { counted, listed };
}

async function setUp() {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const admin = new FlagAdmin(store);
  await admin.addFlag(rollout, {});
  await admin.addRevision(rollout, { ControlValue: false });
  const { counted, listed } = countingLists(store.access);
  const changes = new ChangeManagement({ admin, records: counted, now: clock.now });
  const schedule = (atMs: number, ControlValue = true) =>
    changes.schedules.create(
      rollout,
      { at: new Date(atMs).toISOString(), revision: { ControlValue } },
      { owner: 'ana' },
    );
  return { store, clock, changes, listed, schedule };
}

describe('the scheduler reads only pending schedules and prunes finished ones', () => {
  it('a check lists the due-time index alone, which holds the pending schedules only, soonest first', async () => {
    const { clock, changes, listed, schedule } = await setUp();
    const first = await schedule(clock.ms + HOUR);
    const cancelled = await schedule(clock.ms + 2 * HOUR);
    const later = await schedule(clock.ms + 3 * HOUR, false);
    await changes.schedules.cancel('shop', cancelled.id, { owner: 'ana' });
    expect((await changes.schedules.dueIndex()).map((entry) => entry.id)).toEqual([first.id, later.id]);

    clock.advance(HOUR);
    listed.length = 0;
    const settled = await changes.schedules.applyDue();
    expect(settled.map((record) => record.id)).toEqual([first.id]);
    expect(await changes.schedules.nextDueMs()).toBe(later.atMs);
    // Applied and cancelled schedules left the index; the check never listed the schedules themselves.
    expect(listed).not.toContain('schedule');
    expect(listed.every((kind) => kind === 'schedule-due')).toBe(true);
    expect((await changes.schedules.dueIndex()).map((entry) => entry.id)).toEqual([later.id]);
  });

  it('housekeeping deletes schedules finished longer ago than the retention, keeps the rest, and indexes a stray pending one', async () => {
    const { store, clock, changes, schedule } = await setUp();
    const old = await schedule(clock.ms + HOUR);
    const recent = await schedule(clock.ms + 20 * DAY);
    const pending = await schedule(clock.ms + 40 * DAY);
    clock.advance(HOUR);
    await changes.schedules.applyDue();
    clock.advance(20 * DAY);
    await changes.schedules.applyDue();
    // A pending schedule without its index entry (made before the index, or its maker stopped in between).
    const stray: ScheduleRecord = { ...pending, id: 'sch_stray', atMs: clock.ms + HOUR, at: clock.iso(HOUR) };
    await store.access.putRecord('schedule', stray.id, stray);

    clock.advance(15 * DAY);
    expect(await changes.schedules.housekeeping(30 * DAY)).toEqual({ indexed: 1, pruned: 1 });
    expect(await store.access.getRecord('schedule', old.id)).toBeUndefined();
    expect(await store.access.getRecord('schedule', recent.id)).toMatchObject({ status: 'applied' });
    expect((await changes.schedules.dueIndex()).map((entry) => entry.id)).toEqual(['sch_stray', pending.id]);
    // The revision it wrote keeps naming it.
    const history = await store.history('REVISION', rollout);
    expect(history.some((row) => row.fields.ScheduleID === old.id)).toBe(true);
    expect(await changes.schedules.housekeeping(30 * DAY)).toEqual({ indexed: 0, pruned: 0 });
  });

  it('an index entry whose schedule was settled elsewhere is dropped, not applied again', async () => {
    const { store, clock, changes, schedule } = await setUp();
    const record = await schedule(clock.ms + HOUR);
    await store.access.putRecord('schedule', record.id, { ...record, status: 'cancelled' });
    clock.advance(HOUR);
    expect(await changes.schedules.applyDue()).toEqual([]);
    expect(await changes.schedules.dueIndex()).toEqual([]);
    expect(await store.history('REVISION', rollout)).toHaveLength(1);
  });

  it('a scheduler prunes at start and then hourly, with the retention it is given', async () => {
    const { store, clock, changes, schedule } = await setUp();
    const done = await schedule(clock.ms + HOUR);
    clock.advance(HOUR);
    await changes.schedules.applyDue();
    const timer = new ManualTimer();
    const scheduler = changes.scheduler({ pollMs: 10 * 60_000, setTimer: timer.setTimer, retentionMs: 2 * DAY });
    await scheduler.start();
    expect(await store.access.getRecord('schedule', done.id)).toBeDefined();
    clock.advance(2 * DAY + 1);
    timer.fire();
    await scheduler.tick();
    expect(await store.access.getRecord('schedule', done.id)).toBeUndefined();
    await scheduler.stop();
  });
});
