import {
  type FlagRef,
  ForbiddenError,
  InvalidInputError,
  RevisionConflictError,
  RevisionNotFoundError,
} from '@vexil/core';
import type { ApprovalSettings, ProjectSettings } from '@vexil/store';
import type { ProjectAccess } from '../access/project-access.js';
import { refLabel } from '../views.js';
import { announce, type ChangeDeps, isoTime } from './change-deps.js';
import {
  type ProposalChange,
  type ProposalRecord,
  type ProposalStatus,
  REVISION_LINKS,
  type RecordedActor,
  type ScheduledRevisionInput,
} from './change-records.js';
import type { Ramps } from './ramps.js';
import { recordId } from './record-ids.js';
import { parseScheduleTime } from './schedule-time.js';
import type { ScheduledRevisions } from './scheduled-revisions.js';

/** A week: how long a proposal waits for approval unless the project says otherwise. */
export const DEFAULT_EXPIRY_HOURS = 168;
const HOUR_MS = 3_600_000;

/** What a caller proposes: `kind` and its parts, checked as the direct route would check them. */
export interface ProposalInput {
  kind?: unknown;
  revision?: unknown;
  at?: unknown;
  steps?: unknown;
  everyHours?: unknown;
  value?: unknown;
}

/**
 * Approvals, opt-in per project: where they are required, a revision (now, at a time,
 * or as a ramp) is proposed by one token owner and takes effect only once another
 * owner approves it. A ramp or schedule is approved once, when proposed; its steps
 * then run by themselves. Pausing, resuming, aborting, cancelling, rolling back, the
 * kill switch, archiving and metadata edits stay direct: they stop or undo a change.
 */
export class Approvals {
  constructor(
    private readonly deps: ChangeDeps,
    private readonly schedules: ScheduledRevisions,
    private readonly ramps: Ramps,
  ) {}

  async settings(project: string): Promise<ApprovalSettings> {
    const stored = await this.deps.records.projectSettings(project);
    return stored?.approvals ?? { required: false, expiryHours: DEFAULT_EXPIRY_HOURS };
  }

  /** Checks approval settings as given (the expiry kept from the project's when absent), writing nothing. */
  async checkSettings(
    project: string,
    input: { required?: unknown; expiryHours?: unknown },
  ): Promise<ApprovalSettings> {
    if (typeof input.required !== 'boolean') {
      throw new InvalidInputError('required must be true or false: whether changes need another owner’s approval', {
        field: 'required',
      });
    }
    const expiryHours = input.expiryHours ?? (await this.settings(project)).expiryHours;
    if (typeof expiryHours !== 'number' || !Number.isFinite(expiryHours) || expiryHours <= 0 || expiryHours > 24 * 90) {
      throw new InvalidInputError(
        `expiryHours must be more than 0 and at most 2160 (90 days), got ${JSON.stringify(expiryHours)}`,
        { field: 'expiryHours' },
      );
    }
    return { required: input.required, expiryHours };
  }

  /** Turns approvals on or off for a project (admin), keeping its other settings. */
  async setSettings(
    project: string,
    input: { required?: unknown; expiryHours?: unknown },
    actor: RecordedActor,
    projects: ProjectAccess,
  ): Promise<ProjectSettings> {
    const { required, expiryHours } = await this.checkSettings(project, input);
    const current = await projects.settings(project);
    const settings: ProjectSettings = {
      project,
      publicEvaluation: current.publicEvaluation,
      updatedTime: isoTime(this.deps),
      updatedBy: actor.owner,
      approvals: { required, expiryHours },
    };
    await this.deps.records.putProjectSettings(settings);
    await this.deps.records.appendAccessEvent({
      time: settings.updatedTime,
      action: 'settings',
      actor: actor.owner,
      tokenId: actor.tokenId,
      projects: [project],
      subject: project,
      detail: `approvals ${required ? `required (proposals expire after ${expiryHours} h)` : 'off'}`,
    });
    return settings;
  }

  /** Refuses a direct revision, schedule or ramp where the project requires approvals. */
  async refuseDirectChange(project: string, what: 'revision' | 'schedule' | 'ramp'): Promise<void> {
    if (!(await this.settings(project)).required) return;
    throw new ForbiddenError(
      `project ${project} requires approvals: a ${what} takes effect only once another owner approves it`,
      {
        hint: `propose it instead: POST /admin/v1/projects/${project}/flags/{type}/{name}/proposals with kind "${what}"`,
      },
    );
  }

  /** Checks the change as its direct route would (same errors), then keeps it for approval. */
  async propose(ref: FlagRef, input: ProposalInput, actor: RecordedActor): Promise<ProposalRecord> {
    const settings = await this.settings(ref.project);
    const change = await this.checkChange(ref, input);
    const latest = await this.deps.admin.store.latest('REVISION', ref);
    const now = this.deps.now();
    const proposal: ProposalRecord = {
      id: recordId('prp'),
      ref,
      change,
      basedOn: latest?.wtime ?? null,
      status: 'pending',
      proposedBy: actor,
      createdTime: new Date(now).toISOString(),
      expiresTime: new Date(now + settings.expiryHours * HOUR_MS).toISOString(),
    };
    await this.deps.records.putRecord('proposal', proposal.id, proposal);
    announce(this.deps, { type: 'proposal.created', ...eventRef(proposal), subject: proposal.id }, actor);
    return proposal;
  }

  private async checkChange(ref: FlagRef, input: ProposalInput): Promise<ProposalChange> {
    const revisionOf = async (): Promise<ScheduledRevisionInput> => {
      const revision = input.revision;
      if (typeof revision !== 'object' || revision === null || Array.isArray(revision)) {
        throw new InvalidInputError('revision is required: the revision proposed, as POST …/revisions takes it', {
          field: 'revision',
        });
      }
      if ('expectedLatest' in revision) {
        throw new InvalidInputError(
          'revision.expectedLatest is set by the proposal: it is based on the revision in force when proposed; leave it out',
          { field: 'revision.expectedLatest' },
        );
      }
      await this.deps.admin.draftRevision(ref, revision as ScheduledRevisionInput);
      return revision as ScheduledRevisionInput;
    };
    const extra = (allowed: string[]) => {
      const given = (['revision', 'at', 'steps', 'everyHours', 'value'] as const).find(
        (key) => input[key] !== undefined && !allowed.includes(key),
      );
      if (given !== undefined) {
        throw new InvalidInputError(`${given} has no meaning for a proposal of kind ${String(input.kind)}`, {
          field: given,
        });
      }
    };
    switch (input.kind) {
      case 'revision':
        extra(['revision']);
        return { kind: 'revision', revision: await revisionOf() };
      case 'schedule': {
        extra(['revision', 'at']);
        parseScheduleTime(input.at, this.deps.now());
        return { kind: 'schedule', at: input.at as string, revision: await revisionOf() };
      }
      case 'ramp': {
        extra(['steps', 'everyHours', 'value']);
        const plan = { steps: input.steps, everyHours: input.everyHours, value: input.value };
        await this.ramps.check(ref, plan);
        return { kind: 'ramp', plan };
      }
      default:
        throw new InvalidInputError(
          `kind must be "revision" (now), "schedule" (at a time) or "ramp", got ${JSON.stringify(input.kind)}`,
          { field: 'kind' },
        );
    }
  }

  /** A project's proposals, newest first; pending ones past their time are marked expired on the way. */
  async list(project: string, status?: ProposalStatus): Promise<ProposalRecord[]> {
    const all = (await this.deps.records.listRecords<ProposalRecord>('proposal'))
      .map(({ value }) => value)
      .filter((proposal) => proposal.ref.project === project);
    const current = await Promise.all(all.map(async (proposal) => this.expireIfDue(proposal)));
    return current
      .filter((proposal) => status === undefined || proposal.status === status)
      .sort((a, b) => b.createdTime.localeCompare(a.createdTime));
  }

  async get(project: string, id: string): Promise<ProposalRecord> {
    const proposal = /^prp_[A-Za-z0-9_-]{1,64}$/.test(id)
      ? await this.deps.records.getRecord<ProposalRecord>('proposal', id)
      : undefined;
    if (proposal === undefined || proposal.ref.project !== project) {
      throw new RevisionNotFoundError(`project ${project} has no proposal ${JSON.stringify(id)}`, {
        field: 'proposal_id',
        hint: `list them with: vexil proposal list -p ${project}`,
      });
    }
    return this.expireIfDue(proposal);
  }

  /**
   * Another owner approves: the change takes effect (a revision is written on condition
   * that the revision in force is still the one proposed against; a schedule or ramp
   * starts). The proposer cannot approve their own.
   */
  async approve(project: string, id: string, actor: RecordedActor): Promise<ProposalRecord> {
    const proposal = await this.requirePending(project, id, actor, 'approve');
    const claimed = await this.decide(proposal, { status: 'approved', decidedBy: actor }, 'approve');
    let result: string;
    try {
      result = await this.takeEffect(proposal, actor);
    } catch (error) {
      // Nothing took effect: the proposal is pending again, to be rejected or approved once more.
      await this.deps.records.replaceRecord('proposal', id, claimed, proposal);
      throw error;
    }
    const approved: ProposalRecord = { ...claimed, result };
    await this.deps.records.putRecord('proposal', id, approved);
    // A revision's approval was announced with the revision written; a schedule's or ramp's here.
    if (proposal.change.kind !== 'revision') {
      announce(this.deps, { type: 'proposal.approved', ...eventRef(proposal), subject: id, detail: result }, actor);
    }
    return approved;
  }

  /**
   * Moves a pending proposal to its decision on condition that it is still as read
   * (the records' compare-and-set): of approvers (or an approver and a rejecter, or the
   * expiry) racing, exactly one decides, so a change takes effect once. The others get
   * 409 and do nothing.
   */
  private async decide(
    proposal: ProposalRecord,
    decision: Pick<ProposalRecord, 'status' | 'decidedBy'> & Partial<ProposalRecord>,
    what: 'approve' | 'reject',
  ): Promise<ProposalRecord> {
    const decided: ProposalRecord = { ...proposal, ...decision, decidedTime: isoTime(this.deps) };
    if (await this.deps.records.replaceRecord('proposal', proposal.id, proposal, decided)) return decided;
    const now = await this.deps.records.getRecord<ProposalRecord>('proposal', proposal.id);
    const by = now?.decidedBy === undefined ? '' : ` by ${now.decidedBy.owner}`;
    throw new RevisionConflictError(
      `proposal ${proposal.id} was ${now?.status ?? 'removed'}${by} while you were deciding; it was not ${what}d again`,
      { field: 'proposal_id', hint: `see it with: vexil proposal show ${proposal.id} -p ${proposal.ref.project}` },
    );
  }

  /** Makes the approved change: answers the revision's WTIME, or the schedule's or ramp's id. */
  private async takeEffect(proposal: ProposalRecord, actor: RecordedActor): Promise<string> {
    const { ref, change, id } = proposal;
    const proposer = this.deps.admin.actingAs(proposal.proposedBy);
    let result: string;
    if (change.kind === 'revision') {
      const fields = { [REVISION_LINKS.proposal]: id, ApprovedBy: actor.owner };
      try {
        const view = await proposer.addRevision(
          ref,
          {
            Comment: `Proposal ${id}, approved by ${actor.owner}`,
            ...change.revision,
            expectedLatest: proposal.basedOn,
          },
          { type: 'proposal.approved', subject: id, fields, actor: actor.owner },
        );
        result = view.wtime;
      } catch (error) {
        if (!(error instanceof RevisionConflictError)) throw error;
        const latest = await this.deps.admin.store.latest('REVISION', ref);
        if (latest?.fields[REVISION_LINKS.proposal] === id) {
          throw new RevisionConflictError(`proposal ${id} was approved already (revision ${latest.wtime})`, {
            field: 'proposal_id',
          });
        }
        throw new RevisionConflictError(
          `flag ${refLabel(ref)} changed since proposal ${id} was made (it was based on ${proposal.basedOn ?? 'no revision'}, the revision in force is ${latest?.wtime}); nothing was written`,
          { field: 'proposal_id', hint: 'reject it and propose the change again over the revision in force' },
        );
      }
    } else if (change.kind === 'schedule') {
      const schedule = await this.schedules.create(ref, change, proposal.proposedBy, { proposal: id });
      result = schedule.id;
    } else {
      const ramp = await this.ramps.start(ref, change.plan, proposal.proposedBy, { proposal: id });
      result = ramp.id;
    }
    return result;
  }

  /** Another owner (or the proposer, withdrawing it) rejects a pending proposal. */
  async reject(project: string, id: string, actor: RecordedActor, reason?: string): Promise<ProposalRecord> {
    const proposal = await this.requirePending(project, id, actor, 'reject');
    const rejected = await this.decide(
      proposal,
      { status: 'rejected', decidedBy: actor, ...(reason === undefined ? {} : { detail: reason }) },
      'reject',
    );
    announce(this.deps, { type: 'proposal.rejected', ...eventRef(proposal), subject: id, detail: reason }, actor);
    return rejected;
  }

  private async requirePending(
    project: string,
    id: string,
    actor: RecordedActor,
    what: 'approve' | 'reject',
  ): Promise<ProposalRecord> {
    const proposal = await this.get(project, id);
    if (proposal.status !== 'pending') {
      const when = proposal.status === 'expired' ? ` at ${proposal.expiresTime}` : '';
      throw new InvalidInputError(
        `proposal ${id} is ${proposal.status}${when}: only a pending proposal can be ${what}d${proposal.status === 'expired' ? '; propose the change again' : ''}`,
        { field: 'proposal_id' },
      );
    }
    if (what === 'approve' && proposal.proposedBy.owner === actor.owner) {
      throw new ForbiddenError(
        `${actor.owner} proposed ${id} and cannot approve it: another token owner with write access to project ${project} must`,
      );
    }
    return proposal;
  }

  private async expireIfDue(proposal: ProposalRecord): Promise<ProposalRecord> {
    if (proposal.status !== 'pending' || Date.parse(proposal.expiresTime) > this.deps.now()) return proposal;
    const expired: ProposalRecord = { ...proposal, status: 'expired' };
    if (!(await this.deps.records.replaceRecord('proposal', proposal.id, proposal, expired))) {
      // Decided (or expired by another reader) since it was read: as it is now.
      return (await this.deps.records.getRecord<ProposalRecord>('proposal', proposal.id)) ?? expired;
    }
    announce(this.deps, { type: 'proposal.expired', ...eventRef(proposal), subject: proposal.id }, { owner: 'vexil' });
    return expired;
  }
}

function eventRef(proposal: ProposalRecord) {
  return { project: proposal.ref.project, flagType: proposal.ref.flagType, flag: proposal.ref.name };
}
