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

export type { Condition, Revision, SegmentRevision, ValueFlagType };
