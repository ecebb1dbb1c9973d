import type { Condition, FlagMetadata, Revision, SegmentRevision, ValueFlagType } from '@vexil/core';

/** What the admin API answers, as the dashboard reads it (the OpenAPI document at /docs is the reference). */

export type Scope = 'read' | 'write' | 'admin';

export interface Whoami {
  tokenId: string;
  owner: string;
  scope: Scope;
  projects: string[] | '*';
}

export interface ProjectSummary {
  name: string;
  flagCount: number;
  publicEvaluation: boolean;
}

export interface RevisionView {
  project: string;
  flagType: ValueFlagType;
  name: string;
  wtime: string;
  revision: Revision;
}

export interface FlagView {
  project: string;
  flagType: ValueFlagType;
  name: string;
  wtime: string;
  metadata: FlagMetadata;
  archived: boolean;
  latestRevision?: RevisionView;
}

/** One flag of `GET …/flag-summaries`: everything the flags page shows, from one project scan. */
export interface FlagSummary {
  flagType: ValueFlagType;
  name: string;
  description?: string;
  createdTime: string;
  latestRevision?: { wtime: string; revision: Revision };
  revisionCount: number;
  lastChange: {
    time: string;
    kind: 'flag' | 'revision';
    owner?: string;
    onBehalfOf?: string;
    tokenId?: string;
    comment?: string;
  };
  archived: boolean;
  disabled: boolean;
  metadata: Record<string, string | number | boolean>;
  lastEvaluated: string | null;
  /** Only when the revision in force does not validate. */
  problem?: { message: string; field?: string };
}

export interface SegmentRevisionView {
  project: string;
  flagType: 'segment';
  name: string;
  wtime: string;
  revision: SegmentRevision;
}

export interface SegmentView {
  project: string;
  name: string;
  wtime: string;
  description?: string;
  archived: boolean;
  latestRevision?: SegmentRevisionView;
}

export interface ContextEvaluation {
  value: unknown;
  group: string;
  reason: string;
  variant?: string;
  revision: string;
}

export interface Transition {
  from: string;
  to: string;
  count: number;
}

export interface Impact {
  instances: number;
  changed: number;
  unchanged: number;
  transitions: Transition[];
  since: string;
  truncated: boolean;
}

export interface ActivityEntry {
  requestId?: string;
  instanceId?: string;
  value: unknown;
  group?: string;
  time: string;
  source?: string;
}

export interface Activity {
  perMinute: { minute: string; groups: Record<string, number> }[];
  shares: { group: string; observed: number; configured: number | null }[];
  cacheHitRate: number | null;
  recent: ActivityEntry[];
}

export interface StaleFlag {
  flagType: ValueFlagType;
  name: string;
  reasons: string[];
}

export interface AuditEntry {
  time: string;
  action: string;
  actor?: string;
  onBehalfOf?: string;
  address?: string;
  tokenId?: string;
  project?: string;
  flagType?: string;
  name?: string;
  subject?: string;
  detail?: string;
}

/** Who asked for a change (docs/change-management.md). */
export interface RecordedActor {
  owner: string;
  tokenId?: string;
}

export interface FlagRefView {
  project: string;
  flagType: ValueFlagType;
  name: string;
}

export type ScheduleStatus = 'pending' | 'applied' | 'cancelled' | 'failed';

/** A scheduled revision (`sch_…`), or a ramp's step. */
export interface Schedule {
  id: string;
  ref: FlagRefView;
  at: string;
  atMs: number;
  revision?: Partial<Revision>;
  rampStep?: { ramp: string; step: number; percent: number; value: boolean };
  proposal?: string;
  status: ScheduleStatus;
  createdBy: RecordedActor;
  createdTime: string;
  appliedWtime?: string;
  detail?: string;
  doneTime?: string;
}

export type RampStatus = 'running' | 'paused' | 'aborted' | 'completed';

export interface Ramp {
  id: string;
  ref: FlagRefView;
  steps: number[];
  everyHours: number;
  value: boolean;
  baseWtime?: string;
  status: RampStatus;
  nextStep?: number;
  /** The schedule (`sch_…`) of the next step. */
  nextSchedule?: string;
  applied: { step: number; percent: number; wtime: string; time: string }[];
  createdBy: RecordedActor;
  createdTime: string;
  updatedTime?: string;
  proposal?: string;
  detail?: string;
}

export interface RampPlan {
  steps?: number[];
  everyHours: number;
  value?: boolean;
}

export type ProposalChange =
  | { kind: 'revision'; revision: Partial<Revision> }
  | { kind: 'schedule'; at: string; revision: Partial<Revision> }
  | { kind: 'ramp'; plan: { steps?: number[]; everyHours?: number; value?: boolean } };

export type ProposalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface Proposal {
  id: string;
  ref: FlagRefView;
  change: ProposalChange;
  basedOn: string | null;
  status: ProposalStatus;
  proposedBy: RecordedActor;
  createdTime: string;
  expiresTime: string;
  decidedBy?: RecordedActor;
  decidedTime?: string;
  result?: string;
  detail?: string;
}

/** What a revision records about its cause, beside the flag model's fields (history shows them). */
export interface RevisionCause {
  ScheduleID?: string;
  RampID?: string;
  ProposalID?: string;
  ApprovedBy?: string;
}

export interface Webhook {
  id: string;
  url: string;
  project?: string;
  events?: string[];
  description?: string;
  createdTime?: string;
  createdBy?: string;
  /** `env`: from VEXIL_WEBHOOKS, which the API cannot remove. */
  source: 'store' | 'env';
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'abandoned';

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  url: string;
  event: string;
  project?: string;
  flagType?: string;
  flag?: string;
  revision?: string | null;
  createdTime: string;
  status: DeliveryStatus;
  attempts: { time: string; status?: number; error?: string; durationMs?: number }[];
  nextAttemptTime?: string;
}

export type { Condition, Revision, SegmentRevision, ValueFlagType };
