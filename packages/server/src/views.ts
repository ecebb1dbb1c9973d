import type { FlagMetadata, FlagRef, FlagType, ResultValue, Revision } from '@vexil/core';

/** A revision as the CLI and API show it: the stored fields plus the row's time. */
export interface RevisionView {
  project: string;
  flagType: FlagType;
  name: string;
  /** The row's WTIME, which names the revision (for rollback and diffs). */
  wtime: string;
  revision: Revision;
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
  value: ResultValue;
  group: string;
  /** WTIME of the revision that answered. */
  revision: string;
}

export function refLabel(ref: FlagRef): string {
  return `${ref.project}/${ref.flagType}/${ref.name}`;
}
