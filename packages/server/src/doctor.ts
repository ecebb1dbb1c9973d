import {
  assertProjectName,
  flagRowPrefix,
  isVexilError,
  parseFlagMetadata,
  parseRevision,
  parseSegmentRevision,
  type Revision,
} from '@vexil/core';
import type { FlagStore, StoredRow } from '@vexil/store';
import { type ExpiredFlag, expiredFlagOf } from './expired-flags.js';
import { type SegmentState, segmentReferences, segmentStateOf } from './segment-references.js';

/** One row that does not validate, and why. */
export interface RowProblem {
  key: string;
  kind: StoredRow['kind'];
  flagType: string;
  name: string;
  wtime: string;
  /** The error the service would answer with for this row, e.g. InvalidRolloutPercentageException. */
  error: string;
  status: number;
  field: string | undefined;
  message: string;
}

/** A rule of a flag's revision in force naming a segment that cannot match anybody. */
export interface SegmentReferenceProblem {
  flagType: string;
  name: string;
  /** The revision in force (its WTIME) and its row key. */
  revision: string;
  key: string;
  segment: string;
  /** `unknown`: the project has no such segment; `invalid`: its newest revision does not validate; `archived`: it is archived (no members). */
  state: Exclude<SegmentState, 'active'>;
  /** The condition value that names it: `Rules[0].Conditions[1].Values[0]`. */
  field: string;
  message: string;
}

export interface DoctorReport {
  project: string;
  rowsChecked: number;
  problems: RowProblem[];
  /** Flags past their `Metadata.expires` day: they should be gone. Present when there are any. */
  expired?: ExpiredFlag[];
  /** Rules naming unknown or archived segments (such a condition never matches). Present when there are any. */
  segmentReferences?: SegmentReferenceProblem[];
}

/** Whether a report has findings (rows that do not validate, expired flags, unusable segment references). */
export function hasFindings(report: DoctorReport): boolean {
  return report.problems.length > 0 || (report.expired?.length ?? 0) > 0 || (report.segmentReferences?.length ?? 0) > 0;
}

/**
 * `vexil doctor`: reads every row of a project, as the service would read it, and
 * lists those that do not validate (wrong types, bad percentages, unknown hash…)
 * with their keys, so they can be fixed with a new revision before anyone asks. Of
 * each flag's revision in force it also reports an expiry day that is over (`now`
 * decides which day it is) and rules naming segments the project does not have or
 * has archived.
 */
export async function diagnoseProject(store: FlagStore, project: string, now = Date.now()): Promise<DoctorReport> {
  assertProjectName(project);
  const rows = await store.scanProject(project);
  const problems: RowProblem[] = [];
  /** Each flag's (and segment's) newest REVISION row: key order is time order within a flag. */
  const newest = new Map<string, StoredRow>();
  const withFlagRow = new Set<string>();
  for (const row of rows) {
    const id = flagRowPrefix('REVISION', row.ref);
    if (row.kind === 'REVISION') newest.set(id, row);
    else withFlagRow.add(id);
    const context = { mode: 'stored' as const, flagType: row.ref.flagType, name: row.ref.name };
    try {
      if (row.kind === 'FLAG') parseFlagMetadata(row.fields, context);
      else if (row.ref.flagType === 'segment') parseSegmentRevision(row.fields, context);
      else parseRevision(row.fields, context);
    } catch (error) {
      if (!isVexilError(error)) throw error;
      problems.push({
        key: row.key,
        kind: row.kind,
        flagType: row.ref.flagType,
        name: row.ref.name,
        wtime: row.wtime,
        error: error.code,
        status: error.status,
        field: error.field,
        message: error.message,
      });
    }
  }

  const segmentState = (name: string): SegmentState => {
    const id = flagRowPrefix('REVISION', { project, flagType: 'segment', name });
    return segmentStateOf(name, withFlagRow.has(id), newest.get(id)?.fields);
  };
  const expired: ExpiredFlag[] = [];
  const references: SegmentReferenceProblem[] = [];
  for (const [id, row] of newest) {
    if (row.ref.flagType === 'segment' || !withFlagRow.has(id)) continue;
    const found = expiredFlagOf(row, new Date(now));
    if (found) expired.push(found);
    const revision = validRevision(row);
    if (revision === undefined || revision.Archived === true) continue;
    for (const { segment, field } of segmentReferences(revision)) {
      const state = segmentState(segment);
      if (state === 'active') continue;
      references.push({
        flagType: row.ref.flagType,
        name: row.ref.name,
        revision: row.wtime,
        key: row.key,
        segment,
        state,
        field,
        message: referenceMessage(field, segment, state, project),
      });
    }
  }
  const report: DoctorReport = { project, rowsChecked: rows.length, problems };
  if (expired.length > 0) report.expired = expired;
  if (references.length > 0) report.segmentReferences = references;
  return report;
}

function referenceMessage(field: string, segment: string, state: SegmentReferenceProblem['state'], project: string) {
  switch (state) {
    case 'unknown':
      return `${field} names segment ${segment}, which project ${project} does not have: the condition never holds`;
    case 'invalid':
      return `${field} names segment ${segment}, whose newest revision does not validate: rules treat it as unknown, so the condition never holds`;
    case 'archived':
      return `${field} names segment ${segment}, which is archived: it has no members`;
  }
}

/** The row's revision when it validates (a row that does not is a problem already). */
function validRevision(row: StoredRow): Revision | undefined {
  try {
    return parseRevision(row.fields, { mode: 'stored', flagType: row.ref.flagType, name: row.ref.name });
  } catch (error) {
    if (isVexilError(error)) return undefined;
    throw error;
  }
}
