import type { FlagType } from '@vexil/core';

/**
 * Every change Vexil makes to flags, announced in process as one typed event, from one
 * place: FlagAdmin emits an event per row it writes (and the schedules, ramps and
 * approvals modules emit their own state changes through the same emitter). Webhooks
 * and anything else that reacts to changes subscribe here rather than watching the
 * store. Delivery is in process and best effort: a listener that throws is reported
 * to `onListenerError` and never fails the write that caused the event.
 */
export const CHANGE_EVENT_TYPES = [
  /** A flag's (or segment's) FLAG row, written for the first time: add-flag, a new segment, apply, import. */
  'flag.created',
  /** A newer FLAG row: its description changed (update-flag, segment update, apply of an existing flag). */
  'flag.updated',
  /** A revision written as given: add-revision, a segment update, apply, import. */
  'revision.created',
  /** An earlier revision republished (RollbackOf names it). */
  'revision.rolled_back',
  /** The revision in force copied with Archived. */
  'flag.archived',
  /** The kill switch on: the revision in force copied with Disabled. */
  'flag.disabled',
  /** The kill switch off. */
  'flag.enabled',
  /** The revision in force copied with its Metadata edited. */
  'flag.metadata_updated',
  /** A scheduled revision was accepted; it takes effect at its time. */
  'schedule.created',
  'schedule.cancelled',
  /** A scheduled revision (or a ramp's step) took effect: `wtime` is the revision written. */
  'schedule.applied',
  /** A due scheduled revision could not be written (e.g. the flag was archived since): the reason is in `detail`. */
  'schedule.failed',
  'ramp.started',
  'ramp.paused',
  'ramp.resumed',
  /** The ramp stopped and the flag was rolled back to the revision before it (`wtime`: the rollback). */
  'ramp.aborted',
  /** The ramp's last step took effect. */
  'ramp.completed',
  'proposal.created',
  /** Another owner approved a proposal: `wtime` is the revision written (or the schedule it became, in `subject`). */
  'proposal.approved',
  'proposal.rejected',
  'proposal.expired',
] as const;

export type ChangeEventType = (typeof CHANGE_EVENT_TYPES)[number];

export interface ChangeEvent {
  type: ChangeEventType;
  /** When it happened, ISO 8601 UTC. */
  time: string;
  project: string;
  /** The flag's type; `segment` for a segment. */
  flagType: FlagType;
  /** The flag's (or segment's) name. */
  flag: string;
  /** The row written (its WTIME), when the change wrote one. */
  wtime?: string | undefined;
  /** Who made the change: a token's owner, the OS user of a CLI command, or `scheduler`. */
  actor: string;
  /** The token that made it, over the API. */
  tokenId?: string | undefined;
  /** The schedule, ramp or proposal concerned (its id). */
  subject?: string | undefined;
  /** The revision's Comment, or a short reason (a failed schedule's error). */
  detail?: string | undefined;
}

export type ChangeListener = (event: ChangeEvent) => void;

/**
 * The emitter. Hand-written rather than node:events: an EventEmitter rethrows a
 * listener's error into the emitting write, which must never fail because of a
 * listener. Listeners are called synchronously, in subscription order; one that has
 * slow work to do (a webhook POST) queues it and returns.
 */
export class ChangeEvents {
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly onListenerError: (error: unknown, event: ChangeEvent) => void = () => {}) {}

  /** Calls `listener` with every event from now on; the function returned unsubscribes. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(event: ChangeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }
}
