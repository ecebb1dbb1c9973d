import type { ScheduleRecord } from './change-records.js';
import type { ScheduledRevisions } from './scheduled-revisions.js';

/** A one-shot timer: what setTimeout does, injectable so tests drive the scheduler. */
export type SetTimer = (run: () => void, ms: number) => () => void;

const realTimer: SetTimer = (run, ms) => {
  const handle = setTimeout(run, ms);
  // A pending schedule must not keep a CLI or a test process alive.
  handle.unref();
  return () => clearTimeout(handle);
};

export interface SchedulerOptions {
  now: () => number;
  /** How often the store is read for schedules made by other replicas (and for overdue ones). */
  pollMs: number;
  setTimer?: SetTimer | undefined;
  /** A tick that failed (the store is down): logged, and tried again at the next poll. */
  onError?: ((error: unknown) => void) | undefined;
  /**
   * A schedule this scheduler saw settle (applied here or by another replica, or failed):
   * the service drops the flag's cached data at once rather than at its next change poll.
   */
  onSettled?: ((record: ScheduleRecord) => void) | undefined;
  /** Schedules applied, cancelled or failed longer ago than this are deleted (ms); 30 days by default. */
  retentionMs?: number | undefined;
}

const DAY_MS = 86_400_000;
/** How often a scheduler prunes finished schedules (and indexes stray pending ones): at start, then hourly. */
const HOUSEKEEPING_EVERY_MS = 3_600_000;

/**
 * Applies scheduled revisions when they are due, in `vexil serve`: at start it applies
 * everything overdue (a replica that was down catches up), then sleeps until the next
 * due time or the next poll, whichever is sooner. Several replicas may run one each:
 * ScheduledRevisions writes each schedule once.
 */
export class Scheduler {
  #cancelTimer: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #lastHousekeeping: number | undefined;
  readonly #stopListening: () => void;
  private readonly setTimer: SetTimer;

  constructor(
    private readonly schedules: ScheduledRevisions,
    private readonly options: SchedulerOptions,
  ) {
    this.setTimer = options.setTimer ?? realTimer;
    this.#stopListening = schedules.onCreated(() => void this.tick());
  }

  /** Applies what is overdue, then keeps waking. */
  async start(): Promise<void> {
    await this.tick();
  }

  /**
   * Applies what is due now and sets the next wake-up. Ticks never overlap: one asked for
   * while another runs runs right after it.
   */
  async tick(): Promise<void> {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.runOnce();
      } while (this.#again && !this.#stopped);
    })();
    try {
      await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  private async runOnce(): Promise<void> {
    let next: number | undefined;
    try {
      const now = this.options.now();
      if (this.#lastHousekeeping === undefined || now - this.#lastHousekeeping >= HOUSEKEEPING_EVERY_MS) {
        await this.schedules.housekeeping(this.options.retentionMs ?? 30 * DAY_MS);
        this.#lastHousekeeping = now;
      }
      for (const record of await this.schedules.applyDue()) this.options.onSettled?.(record);
      next = await this.schedules.nextDueMs();
    } catch (error) {
      this.options.onError?.(error);
    }
    this.arm(next);
  }

  private arm(nextDue: number | undefined): void {
    this.#cancelTimer?.();
    if (this.#stopped) return;
    const untilDue = nextDue === undefined ? Number.POSITIVE_INFINITY : Math.max(0, nextDue - this.options.now());
    this.#cancelTimer = this.setTimer(() => void this.tick(), Math.min(untilDue, this.options.pollMs));
  }

  /** Stops waking; waits for a tick in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopListening();
    this.#cancelTimer?.();
    await this.#running;
  }
}
