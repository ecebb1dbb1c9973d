import type {
  EvaluationContext,
  EvaluationReason,
  FlagMetadata,
  FlagRef,
  FlagType,
  ResultValue,
  Revision,
  SegmentRevision,
} from '@vexil/core';

/** A revision as the CLI and API show it: the stored fields plus the row's time. */
export interface RevisionView {
  project: string;
  flagType: FlagType;
  name: string;
  /** The row's WTIME, which names the revision (for rollback and diffs). */
  wtime: string;
  revision: Revision;
}

/** A segment's revision as the CLI and API show it. */
export interface SegmentRevisionView {
  project: string;
  flagType: 'segment';
  name: string;
  wtime: string;
  revision: SegmentRevision;
}

/** A segment as the CLI and API show it. */
export interface SegmentView {
  project: string;
  name: string;
  /** WTIME of the newest FLAG row. */
  wtime: string;
  description?: string;
  archived: boolean;
  latestRevision?: SegmentRevisionView | undefined;
}

export interface FlagView {
  project: string;
  flagType: FlagType;
  name: string;
  /** WTIME of the newest FLAG row. */
  wtime: string;
  metadata: FlagMetadata;
  archived: boolean;
  latestRevision?: RevisionView | undefined;
}

export interface EvaluationView {
  project: string;
  flagType: FlagType;
  name: string;
  instanceId: string;
  /** The value, or null: "no value, use the caller's default". */
  value: ResultValue;
  group: string;
  /** WTIME of the revision that answered. */
  revision: string;
}

/** An evaluation for a whole context: the value, the step that gave it, why, and its variant. */
export interface ContextEvaluationView {
  project: string;
  flagType: FlagType;
  name: string;
  context: EvaluationContext;
  value: ResultValue;
  group: string;
  reason: EvaluationReason;
  /** The value's name in the revision's Variants (else the group); absent for a null value. */
  variant: string | undefined;
  /** WTIME of the revision that answered. */
  revision: string;
}

export function refLabel(ref: FlagRef): string {
  return `${ref.project}/${ref.flagType}/${ref.name}`;
}
