import { type FlagRef, InvalidInputError, RevisionNotFoundError } from '@vexil/core';
import { refLabel } from '../views.js';
import { announce, type ChangeDeps, isoTime } from './change-deps.js';
import {
  type RampPlanInput,
  type RampRecord,
  REVISION_LINKS,
  type RecordedActor,
  type ScheduleRecord,
} from './change-records.js';
import { checkRampable } from './ramp-steps.js';
import { recordId } from './record-ids.js';
import type { ScheduledRevisions } from './scheduled-revisions.js';

export const DEFAULT_RAMP_STEPS = [1, 5, 25, 100] as const;
const HOUR_MS = 3_600_000;

export interface RampPlan {
  steps: number[];
  everyHours: number;
  value: boolean;
}

/** Checks a ramp as a caller gives it; the steps default to 1 → 5 → 25 → 100 %. */
export function checkRampPlan(input: RampPlanInput): RampPlan {
  const steps = input.steps ?? [...DEFAULT_RAMP_STEPS];
  if (!Array.isArray(steps) || steps.length === 0 || steps.length > 20) {
    throw new InvalidInputError('steps must be a list of 1 to 20 percentages, e.g. [1, 5, 25, 100]', {
      field: 'steps',
    });
  }
  steps.forEach((step: unknown, index) => {
    const before = index === 0 ? 0 : (steps[index - 1] as number);
    if (
      typeof step !== 'number' ||
      !Number.isFinite(step) ||
      step <= 0 ||
      step > 100 ||
      Math.round(step * 100) !== step * 100
    ) {
      throw new InvalidInputError(
        `steps[${index}] must be a percentage above 0 and at most 100 with at most two decimals, got ${JSON.stringify(step)}`,
        { field: `steps[${index}]` },
      );
    }
    if (step <= before) {
      throw new InvalidInputError(`steps[${index}] (${step}) must be more than the step before it (${before})`, {
        field: `steps[${index}]`,
      });
    }
  });
  const everyHours = input.everyHours;
  if (typeof everyHours !== 'number' || !Number.isFinite(everyHours) || everyHours <= 0 || everyHours > 24 * 90) {
    throw new InvalidInputError(
      `everyHours is required: the hours between two steps, more than 0 and at most 2160 (90 days), got ${JSON.stringify(everyHours)}`,
      { field: 'everyHours' },
    );
  }
  const value = input.value ?? true;
  if (typeof value !== 'boolean') {
    throw new InvalidInputError(
      `value must be true or false (the feature flag's value rolled out), got ${JSON.stringify(value)}`,
      {
        field: 'value',
      },
    );
  }
  return { steps: steps as number[], everyHours, value };
}

/**
 * Progressive ramps: one plan of percentages for a feature flag, each step a scheduled
 * revision (see ramp-steps.ts for exactly what a step sets), the first at once and each
 * next one `everyHours` after the one before took effect. Pause cancels the next step;
 * resume schedules it one interval later; abort cancels it and rolls the flag back to
 * the revision in force before the plan.
 */
export class Ramps {
  constructor(
    private readonly deps: ChangeDeps,
    private readonly schedules: ScheduledRevisions,
  ) {
    schedules.onOutcome(async (schedule) => this.stepSettled(schedule));
  }

  /** Checks a plan against the flag as it is now, writing nothing. */
  async check(ref: FlagRef, input: RampPlanInput): Promise<{ plan: RampPlan; baseWtime: string }> {
    if (ref.flagType !== 'feature') {
      throw new InvalidInputError(
        `a ramp rolls out a feature flag's value; ${refLabel(ref)} is a ${ref.flagType} flag`,
        {
          field: 'flag_type',
        },
      );
    }
    const plan = checkRampPlan(input);
    const latest = await this.deps.admin.latestRevision(ref);
    checkRampable(latest.revision, plan.value, `the revision in force (${latest.wtime})`);
    const running = (await this.list(ref.project)).find(
      (ramp) => refLabel(ramp.ref) === refLabel(ref) && (ramp.status === 'running' || ramp.status === 'paused'),
    );
    if (running !== undefined) {
      throw new InvalidInputError(
        `flag ${refLabel(ref)} already has ramp ${running.id} (${running.status}): abort it first`,
        {
          field: 'flag_name',
        },
      );
    }
    return { plan, baseWtime: latest.wtime };
  }

  async start(
    ref: FlagRef,
    input: RampPlanInput,
    actor: RecordedActor,
    from: { proposal?: string | undefined } = {},
  ): Promise<RampRecord> {
    const { plan, baseWtime } = await this.check(ref, input);
    const now = this.deps.now();
    const ramp: RampRecord = {
      id: recordId('rmp'),
      ref,
      ...plan,
      baseWtime,
      status: 'running',
      nextStep: 0,
      applied: [],
      createdBy: actor,
      createdTime: isoTime(this.deps),
      updatedTime: isoTime(this.deps),
      ...(from.proposal === undefined ? {} : { proposal: from.proposal }),
    };
    await this.deps.records.putRecord('ramp', ramp.id, ramp);
    announce(this.deps, { type: 'ramp.started', ...eventRef(ramp), subject: ramp.id }, actor);
    return this.scheduleNext(ramp, now);
  }

  async list(project: string): Promise<RampRecord[]> {
    return (await this.deps.records.listRecords<RampRecord>('ramp'))
      .map(({ value }) => value)
      .filter((ramp) => ramp.ref.project === project)
      .sort((a, b) => a.createdTime.localeCompare(b.createdTime));
  }

  async get(project: string, id: string): Promise<RampRecord> {
    const ramp = /^rmp_[A-Za-z0-9_-]{1,64}$/.test(id)
      ? await this.deps.records.getRecord<RampRecord>('ramp', id)
      : undefined;
    if (ramp === undefined || ramp.ref.project !== project) {
      throw new RevisionNotFoundError(`project ${project} has no ramp ${JSON.stringify(id)}`, {
        field: 'ramp_id',
        hint: `list them with: vexil ramp status -p ${project}`,
      });
    }
    return ramp;
  }

  async pause(project: string, id: string, actor: RecordedActor): Promise<RampRecord> {
    const ramp = await this.requireStatus(project, id, ['running'], 'pause');
    await this.cancelNext(ramp, actor, 'ramp paused');
    return this.update(ramp, { status: 'paused', nextSchedule: undefined }, 'ramp.paused', actor);
  }

  /** Resumes a paused ramp: its next step one interval from now (the flag held its percentage meanwhile). */
  async resume(project: string, id: string, actor: RecordedActor): Promise<RampRecord> {
    const ramp = await this.requireStatus(project, id, ['paused'], 'resume');
    const resumed = await this.update(ramp, { status: 'running', detail: undefined }, 'ramp.resumed', actor);
    return this.scheduleNext(resumed, this.deps.now() + ramp.everyHours * HOUR_MS);
  }

  /** Stops the ramp and rolls the flag back to the revision in force before it. */
  async abort(project: string, id: string, actor: RecordedActor): Promise<RampRecord> {
    const ramp = await this.requireStatus(project, id, ['running', 'paused'], 'abort');
    await this.cancelNext(ramp, actor, 'ramp aborted');
    const rollback = await this.deps.admin
      .actingAs(actor)
      .rollback(
        ramp.ref,
        { to: ramp.baseWtime, Comment: `Ramp ${ramp.id} aborted: back to ${ramp.baseWtime}` },
        { type: 'ramp.aborted', subject: ramp.id, fields: { [REVISION_LINKS.ramp]: ramp.id } },
      );
    return this.update(ramp, {
      status: 'aborted',
      nextSchedule: undefined,
      detail: `rolled back: revision ${rollback.wtime}`,
    });
  }

  private async requireStatus(
    project: string,
    id: string,
    allowed: RampRecord['status'][],
    what: string,
  ): Promise<RampRecord> {
    const ramp = await this.get(project, id);
    if (!allowed.includes(ramp.status)) {
      throw new InvalidInputError(`ramp ${id} is ${ramp.status}: only a ${allowed.join(' or ')} ramp can ${what}`, {
        field: 'ramp_id',
      });
    }
    return ramp;
  }

  private async cancelNext(ramp: RampRecord, actor: RecordedActor, detail: string): Promise<void> {
    if (ramp.nextSchedule === undefined) return;
    const schedule = await this.schedules.get(ramp.ref.project, ramp.nextSchedule);
    if (schedule.status === 'pending') await this.schedules.cancel(ramp.ref.project, schedule.id, actor, detail);
  }

  private async scheduleNext(ramp: RampRecord, atMs: number): Promise<RampRecord> {
    const schedule = await this.schedules.createRampStep(
      ramp.ref,
      { ramp: ramp.id, step: ramp.nextStep, percent: ramp.steps[ramp.nextStep]!, value: ramp.value },
      atMs,
      ramp.createdBy,
    );
    return this.update(ramp, { nextSchedule: schedule.id });
  }

  /** A step took effect (the next is scheduled, or the ramp is complete) or failed (the ramp pauses). */
  private async stepSettled(schedule: ScheduleRecord): Promise<void> {
    if (schedule.rampStep === undefined) return;
    const ramp = await this.deps.records.getRecord<RampRecord>('ramp', schedule.rampStep.ramp);
    if (ramp === undefined || ramp.status !== 'running' || ramp.nextSchedule !== schedule.id) return;
    const scheduler: RecordedActor = { owner: 'scheduler' };
    if (schedule.status !== 'applied') {
      await this.update(
        ramp,
        { status: 'paused', nextSchedule: undefined, detail: `step ${ramp.nextStep + 1} failed: ${schedule.detail}` },
        'ramp.paused',
        scheduler,
      );
      return;
    }
    const applied = [
      ...ramp.applied,
      {
        step: ramp.nextStep,
        percent: schedule.rampStep.percent,
        wtime: schedule.appliedWtime!,
        time: isoTime(this.deps),
      },
    ];
    const nextStep = ramp.nextStep + 1;
    if (nextStep >= ramp.steps.length) {
      await this.update(
        ramp,
        { applied, nextStep, status: 'completed', nextSchedule: undefined },
        'ramp.completed',
        scheduler,
      );
      return;
    }
    await this.scheduleNext({ ...ramp, applied, nextStep }, schedule.atMs + ramp.everyHours * HOUR_MS);
  }

  private async update(
    ramp: RampRecord,
    change: Partial<RampRecord>,
    event?: 'ramp.paused' | 'ramp.resumed' | 'ramp.completed',
    actor?: RecordedActor,
  ): Promise<RampRecord> {
    const updated: RampRecord = { ...ramp, ...change, updatedTime: isoTime(this.deps) };
    for (const key of Object.keys(updated) as (keyof RampRecord)[]) if (updated[key] === undefined) delete updated[key];
    await this.deps.records.putRecord('ramp', ramp.id, updated);
    if (event !== undefined && actor !== undefined) {
      announce(this.deps, { type: event, ...eventRef(ramp), subject: ramp.id }, actor);
    }
    return updated;
  }
}

function eventRef(ramp: RampRecord) {
  return { project: ramp.ref.project, flagType: ramp.ref.flagType, flag: ramp.ref.name };
}
