import { type FlagRef, flagRowPrefix, parseFlagRowKey, parseLogRowKey, type RowKind } from '@vexil/core';
import type { EvaluationLogEntry } from '../../evaluation-log-sink.js';
import type { StoredRow } from '../../flag-store.js';
import { copyRef } from '../../rows.js';
import { decodeCacheFlag, decodeColumns, decodeLogValue, encodeLogValue } from './bigtable-cells.js';
import type { RawRow } from './bigtable-tables.js';

/**
 * Flag and log rows as read from Bigtable, and log rows as written: keys parsed,
 * cells decoded (bigtable-cells.ts has the cell text). Rows whose keys are not in
 * the runbook layout (another tool's) are passed over. Internal to the package.
 */

/** Vexil's column beside the runbook's: present (`true`) on reported evaluations only. */
const REPORTED_COLUMN = 'Reported';

export function parseKey(key: string): { kind: RowKind; ref: FlagRef; wtime: string } | undefined {
  try {
    return parseFlagRowKey(key);
  } catch {
    return undefined;
  }
}

function textCells(raw: RawRow): [string, string][] {
  return [...raw.cells].map(([name, bytes]) => [name, bytes.toString('utf8')]);
}

/** A flag row as stored, or undefined when its key is not in the runbook layout (a row of some other tool). */
export function toStoredRow(raw: RawRow): StoredRow | undefined {
  const parsed = parseKey(raw.key);
  if (parsed === undefined) return undefined;
  return {
    kind: parsed.kind,
    ref: parsed.ref,
    wtime: parsed.wtime,
    key: raw.key,
    fields: decodeColumns(textCells(raw), parsed.ref.flagType),
  };
}

/** The newest row under a flag's prefix whose key does not parse: reported as the asked-for flag. */
export function rawFallback(raw: RawRow, kind: RowKind, ref: FlagRef): StoredRow {
  const wtime = raw.key.slice(flagRowPrefix(kind, ref).length);
  return { kind, ref: copyRef(ref), wtime, key: raw.key, fields: decodeColumns(textCells(raw), ref.flagType) };
}

/**
 * The log row's columns, in the runbook service's spelling. A `null` answer (the
 * caller's default) has no `AssignedValue` cell: a data flag's text `null` is the
 * string "null", as the runbook service wrote it, so null needs a spelling of its own.
 * A reported evaluation adds Vexil's own `Reported` cell (`true`); a served one has
 * the runbook's columns only, as the runbook service wrote them.
 */
export function logColumns(entry: EvaluationLogEntry): [string, string][] {
  const columns: [string, string][] = [
    ['RequestID', entry.requestId],
    ['Name', entry.flagName],
    ['CreatedTimestamp', entry.time],
    ['Type', entry.flagType],
    ['InstanceID', entry.instanceId],
  ];
  if (entry.value !== null) columns.push(['AssignedValue', encodeLogValue(entry.value, entry.flagType)]);
  columns.push(['AssignedGroup', entry.group], ['CacheFlag', JSON.stringify(entry.cacheHit)]);
  if (entry.reported === true) columns.push([REPORTED_COLUMN, 'true']);
  return columns;
}

export function toLogEntry(raw: RawRow): EvaluationLogEntry | undefined {
  let key: ReturnType<typeof parseLogRowKey>;
  try {
    key = parseLogRowKey(raw.key);
  } catch {
    return undefined;
  }
  const text = (column: string) => raw.cells.get(column)?.toString('utf8');
  const entry: EvaluationLogEntry = {
    project: key.project,
    flagType: key.flagType,
    flagName: key.flagName,
    instanceId: text('InstanceID') ?? key.instanceId,
    requestId: text('RequestID') ?? key.requestId,
    time: text('CreatedTimestamp') ?? key.time,
    value: raw.cells.has('AssignedValue') ? decodeLogValue(text('AssignedValue')!, key.flagType) : null,
    group: text('AssignedGroup') ?? '',
    cacheHit: decodeCacheFlag(text('CacheFlag') ?? ''),
  };
  if (decodeCacheFlag(text(REPORTED_COLUMN) ?? '')) entry.reported = true;
  return entry;
}
