import {
  type FlagRef,
  InvalidInputError,
  isVexilError,
  parseRevision,
  RevisionConflictError,
  RevisionNotFoundError,
} from '@vexil/core';
import { type RevisionView, refLabel } from '../views.js';
import { announce, type ChangeDeps, isoTime } from './change-deps.js';
import {
  REVISION_LINKS,
  type RecordedActor,
  type ScheduledRevisionInput,
  type ScheduleRecord,
  type ScheduleStatus,
} from './change-records.js';
import { rampedRevision } from './ramp-steps.js';
import { recordId } from './record-ids.js';
import { parseScheduleTime } from './schedule-time.js';

/** Rounds of "re-read, write on condition" before a due schedule is left for the next tick. */
const APPLY_ATTEMPTS = 10;
/** How far back in a flag's history a replica looks for a revision its schedule already wrote. */
const APPLIED_LOOKBACK = 50;

export interface ScheduleQuery {
  ref?: FlagRef | undefined;
  status?: ScheduleStatus | undefined;
}

/** Called once a schedule took effect or failed here (ramps advance on it). */
export type ScheduleOutcome = (record: ScheduleRecord) => Promise<void>;

/**
 * Scheduled revisions: a revision checked now and written at its time, exactly once
 * however many replicas run a Scheduler. Each replica writes a due schedule's revision
 * on condition (`expectedLatest`) that the revision it read is still the newest, with
 * `ScheduleID` naming the schedule; a replica that loses re-reads and finds the
 * schedule's revision already written (done), or another change (it tries again on it).
 */
export class ScheduledRevisions {
  #outcome: ScheduleOutcome | undefined;
  readonly #created = new Set<() => void>();

  constructor(private readonly deps: ChangeDeps) {}

  /** Ramps learn of their steps' outcomes here. */
  onOutcome(outcome: ScheduleOutcome): void {
    this.#outcome = outcome;
  }

  /** A scheduler wakes when a schedule is made in this process (others' are found by polling). */
  onCreated(listener: () => void): () => void {
    this.#created.add(listener);
    return () => this.#created.delete(listener);
  }

  /**
   * Checks the revision as the revision route does (same errors) and `at`, then keeps
   * the schedule. `expectedLatest` is refused: the schedule is based on whatever is in
   * force at its time.
   */
  async create(
    ref: FlagRef,
    input: { at?: unknown; revision?: unknown },
    actor: RecordedActor,
    from: { proposal?: string | undefined } = {},
  ): Promise<ScheduleRecord> {
    const atMs = parseScheduleTime(input.at, this.deps.now());
    const revision = checkRevisionObject(input.revision);
    await this.deps.admin.draftRevision(ref, revision);
    return this.keep({
      id: recordId('sch'),
      ref,
      at: input.at as string,
      atMs,
      revision,
      ...(from.proposal === undefined ? {} : { proposal: from.proposal }),
      status: 'pending',
      createdBy: actor,
      createdTime: isoTime(this.deps),
    });
  }

  /** A ramp's step, due at `atMs` (now or later). @internal */
  async createRampStep(
    ref: FlagRef,
    step: NonNullable<ScheduleRecord['rampStep']>,
    atMs: number,
    actor: RecordedActor,
  ): Promise<ScheduleRecord> {
    return this.keep({
      id: recordId('sch'),
      ref,
      at: new Date(atMs).toISOString(),
      atMs,
      rampStep: step,
      status: 'pending',
      createdBy: actor,
      createdTime: isoTime(this.deps),
    });
  }

  private async keep(record: ScheduleRecord): Promise<ScheduleRecord> {
    await this.deps.records.putRecord('schedule', record.id, record);
    // The record first: an index entry never points at nothing (and housekeeping indexes a pending record left without one).
    await this.deps.records.putRecord('schedule-due', dueKey(record), { id: record.id, atMs: record.atMs });
    announce(this.deps, { type: 'schedule.created', ...eventRef(record), subject: record.id }, record.createdBy);
    for (const listener of this.#created) listener();
    return record;
  }

  /** A project's schedules (optionally one flag's, or of one status), soonest first. */
  async list(project: string, query: ScheduleQuery = {}): Promise<ScheduleRecord[]> {
    const all = await this.deps.records.listRecords<ScheduleRecord>('schedule');
    return all
      .map(({ value }) => value)
      .filter(
        (record) =>
          record.ref.project === project &&
          (query.ref === undefined || refLabel(record.ref) === refLabel(query.ref)) &&
          (query.status === undefined || record.status === query.status),
      )
      .sort((a, b) => a.atMs - b.atMs || a.id.localeCompare(b.id));
  }

  /** One schedule of a project, by id. */
  async get(project: string, id: string): Promise<ScheduleRecord> {
    const record = /^sch_[A-Za-z0-9_-]{1,64}$/.test(id)
      ? await this.deps.records.getRecord<ScheduleRecord>('schedule', id)
      : undefined;
    if (record === undefined || record.ref.project !== project) {
      throw new RevisionNotFoundError(`project ${project} has no schedule ${JSON.stringify(id)}`, {
        field: 'schedule_id',
        hint: `list them with: vexil schedule list -p ${project}`,
      });
    }
    return record;
  }

  /** Cancels a pending schedule; one already applied, cancelled or failed is refused (409 would hide nothing: 400 says why). */
  async cancel(project: string, id: string, actor: RecordedActor, detail?: string): Promise<ScheduleRecord> {
    const record = await this.get(project, id);
    if (record.status !== 'pending') {
      throw new InvalidInputError(
        `schedule ${id} is ${record.status}${record.appliedWtime ? ` (revision ${record.appliedWtime})` : ''}: only a pending schedule can be cancelled${record.status === 'applied' ? '; roll the flag back to undo it' : ''}`,
        { field: 'schedule_id' },
      );
    }
    const cancelled: ScheduleRecord = {
      ...record,
      status: 'cancelled',
      detail: detail ?? `cancelled by ${actor.owner}`,
      doneTime: isoTime(this.deps),
    };
    await this.deps.records.putRecord('schedule', id, cancelled);
    await this.deps.records.deleteRecord('schedule-due', dueKey(record));
    announce(this.deps, { type: 'schedule.cancelled', ...eventRef(record), subject: id }, actor);
    return cancelled;
  }

  /**
   * The pending schedules' places in time, soonest first: read from their own index
   * (kind `schedule-due`, keyed by due time), so a check costs what is pending, not every
   * schedule ever made.
   */
  async dueIndex(): Promise<DueEntry[]> {
    return (await this.deps.records.listRecords<DueEntry>('schedule-due')).map(({ key, value }) => ({ ...value, key }));
  }

  /** When the soonest pending schedule is due (ms since the epoch), if any. */
  async nextDueMs(): Promise<number | undefined> {
    return (await this.dueIndex())[0]?.atMs;
  }

  /**
   * Applies every pending schedule due by now, soonest first, and answers those this
   * call settled (applied here or by another replica, or failed). A store that does not
   * answer leaves the schedule pending for the next call.
   */
  async applyDue(): Promise<ScheduleRecord[]> {
    const now = this.deps.now();
    const settled: ScheduleRecord[] = [];
    for (const entry of await this.dueIndex()) {
      if (entry.atMs > now) break;
      const record = await this.deps.records.getRecord<ScheduleRecord>('schedule', entry.id);
      if (record === undefined || record.status !== 'pending') {
        // Settled by a replica that stopped before dropping the entry: drop it here.
        await this.deps.records.deleteRecord('schedule-due', entry.key);
        continue;
      }
      const done = await this.applyOne(record);
      if (done !== undefined) settled.push(done);
    }
    return settled;
  }

  /**
   * Keeps the records small to read: indexes a pending schedule that has no index entry
   * (one made before the index, or whose maker stopped in between), and deletes schedules
   * applied, cancelled or failed more than `retentionMs` ago (the revisions they wrote
   * keep their ScheduleID in history). Answers how many it indexed and deleted.
   */
  async housekeeping(retentionMs: number): Promise<{ indexed: number; pruned: number }> {
    const cutoff = this.deps.now() - retentionMs;
    const indexed = new Set((await this.dueIndex()).map((entry) => entry.key));
    let added = 0;
    let pruned = 0;
    for (const { value: record } of await this.deps.records.listRecords<ScheduleRecord>('schedule')) {
      if (record.status === 'pending') {
        if (indexed.has(dueKey(record))) continue;
        await this.deps.records.putRecord('schedule-due', dueKey(record), { id: record.id, atMs: record.atMs });
        added += 1;
      } else if (record.doneTime !== undefined && Date.parse(record.doneTime) < cutoff) {
        await this.deps.records.deleteRecord('schedule', record.id);
        pruned += 1;
      }
    }
    return { indexed: added, pruned };
  }

  /** Applies one schedule now if it is pending and due (a ramp's first step, from the CLI); answers it as it is then. */
  async applyIfDue(id: string): Promise<ScheduleRecord | undefined> {
    const record = await this.deps.records.getRecord<ScheduleRecord>('schedule', id);
    if (record === undefined || record.status !== 'pending' || record.atMs > this.deps.now()) return record;
    return (await this.applyOne(record)) ?? (await this.deps.records.getRecord<ScheduleRecord>('schedule', id));
  }

  private async applyOne(record: ScheduleRecord): Promise<ScheduleRecord | undefined> {
    const { ref, id } = record;
    const admin = this.deps.admin.actingAs(record.createdBy);
    for (let attempt = 1; attempt <= APPLY_ATTEMPTS; attempt++) {
      // Cancelled, or settled by another replica, since it was listed.
      const fresh = await this.deps.records.getRecord<ScheduleRecord>('schedule', id);
      if (fresh === undefined || fresh.status !== 'pending') return undefined;
      const recent = await admin.store.history('REVISION', ref, { limit: APPLIED_LOOKBACK });
      const written = recent.find((row) => row.fields[REVISION_LINKS.schedule] === id);
      if (written !== undefined) return this.settle(fresh, { status: 'applied', appliedWtime: written.wtime }, false);
      let view: RevisionView;
      try {
        const revision = this.revisionOf(fresh, recent[0]?.fields);
        const fields: Record<string, string> = { [REVISION_LINKS.schedule]: id };
        if (fresh.rampStep !== undefined) fields[REVISION_LINKS.ramp] = fresh.rampStep.ramp;
        if (fresh.proposal !== undefined) fields[REVISION_LINKS.proposal] = fresh.proposal;
        view = await admin.addRevision(
          ref,
          { ...revision, expectedLatest: recent[0]?.wtime ?? null },
          { type: 'schedule.applied', subject: id, fields },
        );
      } catch (error) {
        if (error instanceof RevisionConflictError) continue;
        // The store is down or slow: the schedule stays pending, for the next tick.
        if (!isVexilError(error) || error.status >= 500) throw error;
        const failed = await this.settle(fresh, { status: 'failed', detail: error.message }, false);
        announce(
          this.deps,
          { type: 'schedule.failed', ...eventRef(fresh), subject: id, detail: error.message },
          {
            owner: 'scheduler',
          },
        );
        return failed;
      }
      return this.settle(fresh, { status: 'applied', appliedWtime: view.wtime }, true);
    }
    return undefined;
  }

  private revisionOf(record: ScheduleRecord, latest: Record<string, unknown> | undefined): ScheduledRevisionInput {
    if (record.revision !== undefined) {
      return { Comment: `Scheduled revision ${record.id} (due ${record.at})`, ...record.revision };
    }
    const step = record.rampStep!;
    if (latest === undefined) {
      throw new InvalidInputError(`flag ${refLabel(record.ref)} has no revision to ramp`, { field: 'flag_name' });
    }
    const inForce = parseRevision(latest, { mode: 'stored', flagType: record.ref.flagType, name: record.ref.name });
    return rampedRevision(
      inForce,
      step.percent,
      step.value,
      `Ramp ${step.ramp} step ${step.step + 1}: ${step.percent} %`,
    );
  }

  private async settle(
    record: ScheduleRecord,
    change: Pick<ScheduleRecord, 'status'> & Partial<ScheduleRecord>,
    here: boolean,
  ): Promise<ScheduleRecord> {
    const settled: ScheduleRecord = { ...record, ...change, doneTime: isoTime(this.deps) };
    await this.deps.records.putRecord('schedule', record.id, settled);
    await this.deps.records.deleteRecord('schedule-due', dueKey(record));
    if (here) await this.#outcome?.(settled);
    return settled;
  }
}

/** A pending schedule's entry in the due-time index. */
export interface DueEntry {
  key: string;
  id: string;
  atMs: number;
}

/** Due time first (zero-padded, so key order is time order), then the id. */
function dueKey(record: Pick<ScheduleRecord, 'atMs' | 'id'>): string {
  return `${String(record.atMs).padStart(16, '0')}#${record.id}`;
}

function eventRef(record: ScheduleRecord) {
  return { project: record.ref.project, flagType: record.ref.flagType, flag: record.ref.name };
}

/** The revision of a schedule: an object, without expectedLatest (the rest is checked as the revision route checks it). */
function checkRevisionObject(value: unknown): ScheduledRevisionInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(
      'revision is required: the revision to write at the time, as POST …/revisions takes it',
      {
        field: 'revision',
      },
    );
  }
  if ('expectedLatest' in value) {
    throw new InvalidInputError(
      'revision.expectedLatest has no meaning for a scheduled revision: it is written over whatever is in force at its time; leave it out',
      { field: 'revision.expectedLatest' },
    );
  }
  return value as ScheduledRevisionInput;
}
