import type { ProposalRecord, RampRecord, ScheduleRecord } from '../changes/change-records.js';
import { formatTable, rolloutSummary } from './output.js';

/** Human-readable schedules, ramps and proposals; `--json` prints the records themselves. */

function flagLabel(record: { ref: { flagType: string; name: string } }): string {
  return `${record.ref.flagType}/${record.ref.name}`;
}

/** What a schedule writes, in a few words. */
function scheduleWhat(schedule: ScheduleRecord): string {
  if (schedule.rampStep !== undefined) {
    return `ramp ${schedule.rampStep.ramp} step ${schedule.rampStep.step + 1}: ${schedule.rampStep.percent} % → ${schedule.rampStep.value}`;
  }
  const revision = schedule.revision;
  if (revision === undefined) return '';
  try {
    // The stored input is the caller's, checked when scheduled: summarised as a revision would be.
    return rolloutSummary(revision as Parameters<typeof rolloutSummary>[0]);
  } catch {
    return 'a revision';
  }
}

function scheduleOutcome(schedule: ScheduleRecord): string {
  if (schedule.status === 'applied') return `revision ${schedule.appliedWtime ?? '?'}`;
  return schedule.detail ?? '';
}

export function formatSchedules(schedules: readonly ScheduleRecord[]): string {
  if (schedules.length === 0) return 'No schedules.';
  return formatTable(
    ['ID', 'AT', 'STATUS', 'FLAG', 'CHANGE', 'OUTCOME'],
    schedules.map((s) => [s.id, s.at, s.status, flagLabel(s), scheduleWhat(s), scheduleOutcome(s)]),
  );
}

export function formatSchedule(schedule: ScheduleRecord): string {
  const lines = [
    `schedule ${schedule.id}: ${schedule.status}`,
    `  flag:     ${schedule.ref.project}/${flagLabel(schedule)}`,
    `  at:       ${schedule.at}`,
    `  change:   ${scheduleWhat(schedule)}`,
    `  by:       ${schedule.createdBy.owner} at ${schedule.createdTime}`,
  ];
  if (schedule.proposal !== undefined) lines.push(`  proposal: ${schedule.proposal}`);
  if (schedule.appliedWtime !== undefined) lines.push(`  revision: ${schedule.appliedWtime}`);
  if (schedule.detail !== undefined) lines.push(`  detail:   ${schedule.detail}`);
  if (schedule.doneTime !== undefined) lines.push(`  done:     ${schedule.doneTime}`);
  return lines.join('\n');
}

function rampProgress(ramp: RampRecord): string {
  return ramp.steps.map((percent, index) => (index < ramp.applied.length ? `[${percent}]` : `${percent}`)).join(' → ');
}

export function formatRamps(ramps: readonly RampRecord[]): string {
  if (ramps.length === 0) return 'No ramps.';
  return formatTable(
    ['ID', 'FLAG', 'STATUS', 'STEPS (applied in brackets)', 'EVERY'],
    ramps.map((r) => [r.id, flagLabel(r), r.status, rampProgress(r), `${r.everyHours} h`]),
  );
}

export function formatRamp(ramp: RampRecord): string {
  const lines = [
    `ramp ${ramp.id}: ${ramp.status}`,
    `  flag:     ${ramp.ref.project}/${flagLabel(ramp)} (rolls out ${ramp.value})`,
    `  steps:    ${rampProgress(ramp)} %, one every ${ramp.everyHours} h`,
    `  before:   revision ${ramp.baseWtime} (abort rolls back to it)`,
    `  by:       ${ramp.createdBy.owner} at ${ramp.createdTime}`,
  ];
  for (const step of ramp.applied) {
    lines.push(`  step ${step.step + 1}:   ${step.percent} % at ${step.time}, revision ${step.wtime}`);
  }
  if (ramp.nextSchedule !== undefined) lines.push(`  next:     schedule ${ramp.nextSchedule}`);
  if (ramp.proposal !== undefined) lines.push(`  proposal: ${ramp.proposal}`);
  if (ramp.detail !== undefined) lines.push(`  detail:   ${ramp.detail}`);
  return lines.join('\n');
}

function proposalWhat(proposal: ProposalRecord): string {
  const change = proposal.change;
  if (change.kind === 'revision') return 'revision now';
  if (change.kind === 'schedule') return `revision at ${change.at}`;
  const steps = Array.isArray(change.plan.steps) ? change.plan.steps.join(' → ') : '1 → 5 → 25 → 100';
  return `ramp ${steps} % every ${String(change.plan.everyHours)} h`;
}

export function formatProposals(proposals: readonly ProposalRecord[]): string {
  if (proposals.length === 0) return 'No proposals.';
  return formatTable(
    ['ID', 'STATUS', 'FLAG', 'CHANGE', 'PROPOSED BY', 'EXPIRES'],
    proposals.map((p) => [p.id, p.status, flagLabel(p), proposalWhat(p), p.proposedBy.owner, p.expiresTime]),
  );
}

export function formatProposal(proposal: ProposalRecord): string {
  const lines = [
    `proposal ${proposal.id}: ${proposal.status}`,
    `  flag:     ${proposal.ref.project}/${flagLabel(proposal)}`,
    `  change:   ${proposalWhat(proposal)}`,
    `  based on: ${proposal.basedOn ?? 'no revision'}`,
    `  by:       ${proposal.proposedBy.owner} at ${proposal.createdTime}`,
    `  expires:  ${proposal.expiresTime}`,
  ];
  if (proposal.change.kind !== 'ramp') {
    try {
      lines.push(`  rollout:  ${rolloutSummary(proposal.change.revision as Parameters<typeof rolloutSummary>[0])}`);
    } catch {
      // A revision given in a shape the summary does not read: its JSON shows it (--json).
    }
  }
  if (proposal.decidedBy !== undefined) {
    lines.push(`  decided:  by ${proposal.decidedBy.owner} at ${proposal.decidedTime ?? '?'}`);
  }
  if (proposal.result !== undefined) lines.push(`  result:   ${proposal.result}`);
  if (proposal.detail !== undefined) lines.push(`  reason:   ${proposal.detail}`);
  return lines.join('\n');
}
