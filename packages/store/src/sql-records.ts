import { type FlagRef, type FlagType, parseLogRowKey, type ResultValue, type RowKind } from '@vexil/core';
import type { EvaluationLogEntry } from './evaluation-log-sink.js';
import type { StoredRow } from './flag-store.js';

/**
 * The columns SQLite and PostgreSQL share: a flag row as both store it, and the
 * evaluation-log columns both read back. Internal to the package.
 */

/** A flag row's columns; `fields` is the row's JSON text. */
export interface FlagRowRecord {
  row_key: string;
  project: string;
  kind: RowKind;
  flag_type: FlagType;
  flag_name: string;
  wtime: string;
  fields: string;
}

/** The evaluation-log columns readLogs selects (the runbook's names, then Vexil's own). */
export interface LogRecord {
  row_key: string;
  project: string;
  flag_type: string;
  flag_name: string;
  RequestID: string;
  InstanceID: string;
  CreatedTimestamp: string;
  /** The value as JSON. */
  AssignedValue: string;
  AssignedGroup: string;
  /** SQLite has no boolean: 0 or 1 there. */
  CacheFlag: boolean | number;
  /** Vexil's own: a reported evaluation (0 or 1 in SQLite). */
  Reported: boolean | number;
}

/** The record of a row about to be inserted. @internal */
export function flagRowRecord(kind: RowKind, ref: FlagRef, wtime: string, key: string, fields: string): FlagRowRecord {
  return { row_key: key, project: ref.project, kind, flag_type: ref.flagType, flag_name: ref.name, wtime, fields };
}

/** @internal */
export function recordRef(record: FlagRowRecord): FlagRef {
  return { project: record.project, flagType: record.flag_type, name: record.flag_name };
}

/** @internal */
export function storedRowOf(record: FlagRowRecord): StoredRow {
  return {
    kind: record.kind,
    ref: recordRef(record),
    wtime: record.wtime,
    key: record.row_key,
    fields: JSON.parse(record.fields) as Record<string, unknown>,
  };
}

/**
 * The ids come from the row key, which keeps every character of them (PostgreSQL
 * text columns cannot hold U+0000); a key written by another tool keeps the columns.
 * @internal
 */
export function logEntryOf(record: LogRecord): EvaluationLogEntry {
  let instanceId = record.InstanceID;
  let requestId = record.RequestID;
  try {
    ({ instanceId, requestId } = parseLogRowKey(record.row_key));
  } catch {
    // not the runbook's key layout: the columns as they are
  }
  const entry: EvaluationLogEntry = {
    project: record.project,
    flagType: record.flag_type,
    flagName: record.flag_name,
    instanceId,
    requestId,
    time: record.CreatedTimestamp,
    value: JSON.parse(record.AssignedValue) as ResultValue,
    group: record.AssignedGroup,
    cacheHit: record.CacheFlag === true || record.CacheFlag === 1,
  };
  if (record.Reported === true || record.Reported === 1) entry.reported = true;
  return entry;
}
