import { assertProjectName, isVexilError, parseFlagMetadata, parseRevision } from '@vexil/core';
import type { FlagStore, StoredRow } from '@vexil/store';

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

export interface DoctorReport {
  project: string;
  rowsChecked: number;
  problems: RowProblem[];
}

/**
 * `vexil doctor`: reads every row of a project, as the service would read it, and
 * lists those that do not validate (wrong types, bad percentages, unknown hash…)
 * with their keys, so they can be fixed with a new revision before anyone asks.
 */
export async function diagnoseProject(store: FlagStore, project: string): Promise<DoctorReport> {
  assertProjectName(project);
  const rows = await store.scanProject(project);
  const problems: RowProblem[] = [];
  for (const row of rows) {
    const context = { mode: 'stored' as const, flagType: row.ref.flagType, name: row.ref.name };
    try {
      if (row.kind === 'FLAG') parseFlagMetadata(row.fields, context);
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
  return { project, rowsChecked: rows.length, problems };
}
