import type { FlagRef } from '@vexil/core';
import type { RevisionInput } from '../flag-admin.js';

/**
 * The records of change management, kept in the store's feature records (kinds
 * `schedule`, `ramp`, `proposal`; see @vexil/store RECORD_KINDS) on every engine.
 * The flag rows stay the record of what was in force: a revision written by a
 * schedule, a ramp or an approval names it in a field of its own (REVISION_LINKS).
 */

/** The revision fields naming what wrote it: history shows them. */
export const REVISION_LINKS = { schedule: 'ScheduleID', ramp: 'RampID', proposal: 'ProposalID' } as const;

/** Who asked for a change: the token owner (API) or OS user (CLI), and the token. */
export interface RecordedActor {
  owner: string;
  tokenId?: string | undefined;
}

/** A revision as the revision route takes it, without expectedLatest (a schedule bases itself on what is in force at its time). */
export type ScheduledRevisionInput = Omit<RevisionInput, 'expectedLatest'>;

export type ScheduleStatus = 'pending' | 'applied' | 'cancelled' | 'failed';

export interface ScheduleRecord {
  /** `sch_…`: the key, and the ScheduleID of the revision it writes. */
  id: string;
  ref: FlagRef;
  /** When it takes effect, as given (ISO 8601 with a zone). */
  at: string;
  /** The same instant in milliseconds since the epoch, for comparisons. */
  atMs: number;
  /** The revision it writes; absent for a ramp's step, which is computed from the revision in force then. */
  revision?: ScheduledRevisionInput | undefined;
  /** A ramp's step: the ramp, the step's index, the percentage it sets and the value rolled out. */
  rampStep?: { ramp: string; step: number; percent: number; value: boolean } | undefined;
  /** The proposal it came from, when the project requires approvals. */
  proposal?: string | undefined;
  status: ScheduleStatus;
  createdBy: RecordedActor;
  /** ISO 8601 UTC. */
  createdTime: string;
  /** The revision written (its WTIME), once applied. */
  appliedWtime?: string | undefined;
  /** Why it failed, or who cancelled it. */
  detail?: string | undefined;
  /** ISO 8601 UTC: when it was applied, cancelled or failed. */
  doneTime?: string | undefined;
}

export type RampStatus = 'running' | 'paused' | 'aborted' | 'completed';

export interface RampRecord {
  /** `rmp_…`: the key, and the RampID of the revisions its steps write. */
  id: string;
  ref: FlagRef;
  /** The percentages, in order, each at most 100 and more than the one before. */
  steps: number[];
  /** Hours between two steps. */
  everyHours: number;
  /** The value the ramp rolls out (the ramped treatment's Value). */
  value: boolean;
  /** The revision in force when the plan started: abort rolls back to it. */
  baseWtime: string;
  status: RampStatus;
  /** Index of the next step to apply (steps.length once all are applied). */
  nextStep: number;
  /** The schedule of the next step, while running. */
  nextSchedule?: string | undefined;
  /** The revisions its steps wrote, in order. */
  applied: { step: number; percent: number; wtime: string; time: string }[];
  createdBy: RecordedActor;
  createdTime: string;
  updatedTime: string;
  /** The proposal it came from, when the project requires approvals. */
  proposal?: string | undefined;
  /** Why it stopped (a step that could not be written, an abort's rollback). */
  detail?: string | undefined;
}

export type ProposalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

/** What a proposal asks for: a revision now, a revision at a time, or a ramp. */
export type ProposalChange =
  | { kind: 'revision'; revision: ScheduledRevisionInput }
  | { kind: 'schedule'; at: string; revision: ScheduledRevisionInput }
  | { kind: 'ramp'; plan: RampPlanInput };

/** A ramp as a caller asks for it. */
export interface RampPlanInput {
  steps?: unknown;
  everyHours?: unknown;
  /** The value rolled out; true by default. */
  value?: unknown;
}

export interface ProposalRecord {
  /** `prp_…`: the key, and the ProposalID of the revision it writes. */
  id: string;
  ref: FlagRef;
  change: ProposalChange;
  /** The revision in force when proposed: an approval writes only if it still is. */
  basedOn: string | null;
  status: ProposalStatus;
  proposedBy: RecordedActor;
  createdTime: string;
  /** ISO 8601 UTC: a proposal not approved by then is expired. */
  expiresTime: string;
  decidedBy?: RecordedActor | undefined;
  decidedTime?: string | undefined;
  /** What the approval made: a revision's WTIME, or a schedule or ramp id. */
  result?: string | undefined;
  /** A rejection's reason. */
  detail?: string | undefined;
}
