import type { Revision } from '@vexil/core';
import type { ProposalChange, Ramp, Schedule } from '../api/types.js';
import { describeRevision } from './describe-revision.js';
import { formatPercent } from './format-value.js';

/** A revision as the API keeps it in a schedule or proposal (without Name, Type…), made whole for the words. */
export function wholeRevision(name: string, revision: Partial<Revision> | undefined): Revision {
  return { Name: name, Type: 'FEATURE', FormatVersion: 2, ...(revision ?? {}) } as Revision;
}

/** A ramp's steps in words: "1 % → 5 % → 25 % → 100 % of ids get true, one step every 6 h". */
export function describePlan(plan: { steps?: number[]; everyHours?: number; value?: boolean }): string {
  const steps = plan.steps ?? [1, 5, 25, 100];
  const value = plan.value ?? true;
  const every = plan.everyHours === undefined ? '' : `, one step every ${hours(plan.everyHours)}`;
  return `${steps.map((s) => formatPercent(s)).join(' → ')} of ids get ${String(value)}${every}`;
}

function hours(h: number): string {
  return h < 1 ? `${Math.round(h * 60)} min` : `${h} h`;
}

/** What a scheduled revision (or a ramp's step) will set, in words. */
export function describeSchedule(schedule: Schedule): string {
  if (schedule.rampStep !== undefined) {
    const { step, percent, value } = schedule.rampStep;
    return `ramp step ${step + 1}: ${formatPercent(percent)} of ids get ${String(value)}`;
  }
  return describeRevision(wholeRevision(schedule.ref.name, schedule.revision));
}

/** What a proposal asks for, in words. */
export function describeProposal(name: string, change: ProposalChange): string {
  switch (change.kind) {
    case 'revision':
      return `a new revision: ${describeRevision(wholeRevision(name, change.revision))}`;
    case 'schedule':
      return `at ${change.at}, a revision: ${describeRevision(wholeRevision(name, change.revision))}`;
    case 'ramp':
      return `a ramp: ${describePlan(change.plan)}`;
  }
}

/** A ramp's state in words: where it is and what comes next. */
export function describeRampState(ramp: Ramp): string {
  const last = ramp.applied.at(-1);
  const at = last === undefined ? 'no step applied yet' : `at ${formatPercent(last.percent)}`;
  switch (ramp.status) {
    case 'running':
      return `running, ${at}`;
    case 'paused':
      return `paused, ${at}${ramp.detail === undefined ? '' : ` (${ramp.detail})`}`;
    case 'aborted':
      return 'aborted: rolled back to the revision before the ramp';
    case 'completed':
      return `completed, ${at}`;
  }
}
