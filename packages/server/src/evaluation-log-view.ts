import {
  assertFlagName,
  assertProjectName,
  InvalidInputError,
  parseFlagType,
  VALUE_FLAG_TYPES,
  type ValueFlagType,
} from '@vexil/core';
import type { EvaluationLogEntry, EvaluationLogSink } from '@vexil/store';

/** Rows a log view shows when no limit is given, and at most. */
export const LOG_VIEW_DEFAULT_LIMIT = 100;
export const LOG_VIEW_MAX_LIMIT = 10_000;

/** One evaluation-log row as the admin API and `vexil log` show it: served or reported, said in every row. */
export interface EvaluationLogRow extends Omit<EvaluationLogEntry, 'reported'> {
  /** `served`: answered by the service; `reported`: a client said it answered so (POST /sdk/v1/evaluations). */
  readonly source: 'served' | 'reported';
}

export interface EvaluationLogQuery {
  project: string;
  flagType?: string | undefined;
  flagName?: string | undefined;
  limit?: number | undefined;
}

/**
 * A project's evaluation-log rows in key order (flag, then instance id), narrowed to a
 * flag type or a flag; `flagName` needs `flagType`, as the row key does.
 */
export async function readLogView(logs: EvaluationLogSink, query: EvaluationLogQuery): Promise<EvaluationLogRow[]> {
  assertProjectName(query.project, 'project');
  const flagType =
    query.flagType === undefined
      ? undefined
      : (parseFlagType(query.flagType, 'flag_type', VALUE_FLAG_TYPES) as ValueFlagType);
  if (query.flagName !== undefined) {
    assertFlagName(query.flagName, 'flag_name');
    if (flagType === undefined) {
      throw new InvalidInputError('flag_name needs flag_type: the log is keyed by flag type, then name', {
        field: 'flag_type',
      });
    }
  }
  const limit = query.limit ?? LOG_VIEW_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > LOG_VIEW_MAX_LIMIT) {
    throw new InvalidInputError(`limit must be a whole number from 1 to ${LOG_VIEW_MAX_LIMIT}, got ${limit}`, {
      field: 'limit',
    });
  }
  const entries = await logs.readLogs({
    project: query.project,
    ...(flagType === undefined ? {} : { flagType }),
    ...(query.flagName === undefined ? {} : { flagName: query.flagName }),
    limit,
  });
  return entries.map(({ reported, ...entry }) => ({ ...entry, source: reported === true ? 'reported' : 'served' }));
}
