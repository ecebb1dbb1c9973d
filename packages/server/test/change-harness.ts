import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlagRef } from '@vexil/core';
import { type OpenStoreOptions, openStore, type StoreEngine } from '@vexil/store';
import { startBigtableEmulator, startPostgres } from '@vexil/store/testing';
import { it } from 'vitest';
import type { ChangeEvent } from '../src/change-events.js';
import { ChangeEvents } from '../src/change-events.js';
import { ChangeManagement } from '../src/changes/change-management.js';
import type { SetTimer } from '../src/changes/scheduler.js';
import { FlagAdmin } from '../src/flag-admin.js';

/**
 * One test per engine that several processes share — a SQLite file, PostgreSQL, the
 * Bigtable emulator (tables created first) —, each running `check` with a way to open
 * another connection to the same data, as another replica would.
 */
export function itOnSharedEngines(check: (open: () => Promise<StoreEngine>) => Promise<void>): void {
  it('on a SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vexil-shared-'));
    try {
      await check(() => openStore(`sqlite:${join(dir, 'vexil.db')}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on PostgreSQL', async () => {
    const server = await startPostgres();
    try {
      await check(() => openStore(server.url));
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('on the Bigtable emulator', async () => {
    const emulator = await startBigtableEmulator();
    const options: OpenStoreOptions = {
      bigtable: {
        projectId: 'shared',
        instanceId: 'shared',
        flagTableId: 'flags',
        logTableId: 'log',
        emulatorHost: emulator.host,
      },
    };
    try {
      await (await openStore('bigtable', { ...options, initialize: true })).close();
      await check(() => openStore('bigtable', options));
    } finally {
      await emulator.stop();
    }
  }, 120_000);
}

export const rollout: FlagRef = { project: 'shop', flagType: 'feature', name: 'new_checkout' };

/** A clock tests move by hand: schedules fall due when the test says, never by waiting. */
export class ManualClock {
  constructor(public ms = Date.parse('2030-01-01T00:00:00Z')) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
  iso(offsetMs = 0): string {
    return new Date(this.ms + offsetMs).toISOString();
  }
}

/** A timer tests fire by hand: what the scheduler asked to be woken for, and when. */
export class ManualTimer {
  readonly armed: { run: () => void; ms: number; cancelled: boolean }[] = [];
  readonly setTimer: SetTimer = (run, ms) => {
    const entry = { run, ms, cancelled: false };
    this.armed.push(entry);
    return () => {
      entry.cancelled = true;
    };
  };
  /** The delay of the one timer armed now. */
  get nextMs(): number | undefined {
    return this.armed.filter((entry) => !entry.cancelled).at(-1)?.ms;
  }
  fire(): void {
    const live = this.armed.filter((entry) => !entry.cancelled);
    for (const entry of live) entry.cancelled = true;
    for (const entry of live) entry.run();
  }
}

/** ChangeManagement over a store, with its events recorded. */
export function changesOn(store: StoreEngine, clock: ManualClock) {
  const events = new ChangeEvents();
  const seen: ChangeEvent[] = [];
  events.subscribe((event) => seen.push(event));
  const admin = new FlagAdmin(store, { events, now: clock.now });
  return { changes: new ChangeManagement({ admin, records: store.access, events, now: clock.now }), admin, seen };
}
