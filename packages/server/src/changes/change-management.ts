import { Approvals } from './approvals.js';
import type { ChangeDeps } from './change-deps.js';
import type { ScheduleRecord } from './change-records.js';
import { Ramps } from './ramps.js';
import { ScheduledRevisions } from './scheduled-revisions.js';
import { Scheduler, type SetTimer } from './scheduler.js';

/** Scheduled revisions, ramps and approvals over one store: what the admin API and the CLI use. */
export class ChangeManagement {
  readonly schedules: ScheduledRevisions;
  readonly ramps: Ramps;
  readonly approvals: Approvals;

  constructor(readonly deps: ChangeDeps) {
    this.schedules = new ScheduledRevisions(deps);
    this.ramps = new Ramps(deps, this.schedules);
    this.approvals = new Approvals(deps, this.schedules, this.ramps);
  }

  /** A scheduler for this process (vexil serve): applies due schedules, at start what is overdue. */
  scheduler(options: {
    pollMs: number;
    setTimer?: SetTimer | undefined;
    onError?: (error: unknown) => void;
    retentionMs?: number | undefined;
    onSettled?: ((record: ScheduleRecord) => void) | undefined;
  }): Scheduler {
    return new Scheduler(this.schedules, { now: this.deps.now, ...options });
  }
}
