import type { AccessStore } from '@vexil/store';
import type { ChangeEvent, ChangeEvents } from '../change-events.js';
import type { FlagAdmin } from '../flag-admin.js';
import type { RecordedActor } from './change-records.js';

/** What schedules, ramps and approvals work with: one set per service (or CLI command). */
export interface ChangeDeps {
  /** Procedures as nobody in particular: each change acts as the owner who asked for it. */
  admin: FlagAdmin;
  /** Where their records are kept (the store's feature records). */
  records: AccessStore;
  events?: ChangeEvents | undefined;
  /** The clock, milliseconds since the epoch: injected by tests. */
  now: () => number;
}

/** Announces a change of a schedule, ramp or proposal that wrote no row (the rows' own events come from FlagAdmin). */
export function announce(
  deps: ChangeDeps,
  event: Omit<ChangeEvent, 'time' | 'actor' | 'tokenId'>,
  actor: RecordedActor,
): void {
  deps.events?.emit({
    ...event,
    time: new Date(deps.now()).toISOString(),
    actor: actor.owner,
    ...(actor.tokenId === undefined ? {} : { tokenId: actor.tokenId }),
  });
}

export function isoTime(deps: ChangeDeps): string {
  return new Date(deps.now()).toISOString();
}
