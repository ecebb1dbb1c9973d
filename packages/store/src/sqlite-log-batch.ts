import type { LogRowKey } from '@vexil/core';
import type { EncodedLogBatch, EvaluationLogEntry } from './flag-store.js';

/**
 * Values per row: project, flag type, flag name, request id, time, instance id,
 * value (JSON), group, cache flag ("0" or "1"). The row key is built from them on
 * the writer thread.
 */
export const LOG_ROW_VALUES = 9;

const SEGMENT_ROWS = 32;
const INITIAL_TEXT_BYTES = 128 * 1024;

/** A batch as posted to the writer thread: every value of every row back to back, and each value's length. */
export interface EncodedRows {
  /** The values' UTF-16 code units (little-endian), back to back. */
  text: Uint8Array<ArrayBuffer>;
  /** UTF-16 code units of each value, LOG_ROW_VALUES per row. */
  lengths: Uint32Array<ArrayBuffer>;
}

/**
 * Evaluation-log rows for the SQLite writer thread, kept as entries arrive as their
 * values in a list plus each value's length. Hand-written because the obvious ways
 * cost the service's thread more than the request did: posting arrays or objects
 * makes the structured clone walk every string of a batch at once (milliseconds on a
 * loaded thread), JSON.stringify per row and Buffer.write per value took
 * microseconds per row. Here a row costs a few array writes; every SEGMENT_ROWS rows
 * the values are joined and copied, as UTF-16, into an off-heap buffer, so a batch
 * waiting for its turn holds no strings for the garbage collector to copy (kept as
 * strings, they were most of what survived each young-generation collection). Posting
 * a batch moves two buffers. Even the row key is left to the writer thread: building
 * it here cost as much again.
 */
export class SqliteLogBatch implements EncodedLogBatch {
  size = 0;
  /** Values of the rows since the last segment. */
  private values: string[] = [];
  /** Earlier values as UTF-16, copied every SEGMENT_ROWS rows: a whole batch at once stalled the thread. */
  private text = Buffer.allocUnsafe(INITIAL_TEXT_BYTES);
  private textBytes = 0;
  private count = 0;
  private lengths = new Uint32Array(64 * LOG_ROW_VALUES);

  add(entry: EvaluationLogEntry): void {
    const value = typeof entry.value === 'boolean' ? (entry.value ? 'true' : 'false') : JSON.stringify(entry.value);
    if ((this.size + 1) * LOG_ROW_VALUES > this.lengths.length) {
      const grown = new Uint32Array(this.lengths.length * 2);
      grown.set(this.lengths);
      this.lengths = grown;
    }
    this.put(entry.project);
    this.put(entry.flagType);
    this.put(entry.flagName);
    this.put(entry.requestId);
    this.put(entry.time);
    this.put(entry.instanceId);
    this.put(value);
    this.put(entry.group);
    this.put(entry.cacheHit ? '1' : '0');
    this.size++;
    if (this.size % SEGMENT_ROWS === 0) this.copyValues();
  }

  /** The rows to post, in buffers of their own each time (the batch may be posted again after a failure). */
  encode(): EncodedRows {
    this.copyValues();
    return { text: new Uint8Array(this.text.subarray(0, this.textBytes)), lengths: this.lengths.slice(0, this.count) };
  }

  private copyValues(): void {
    if (this.values.length === 0) return;
    const joined = this.values.join('');
    this.values = [];
    const needed = this.textBytes + joined.length * 2;
    if (needed > this.text.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.text.length * 2, needed));
      this.text.copy(grown, 0, 0, this.textBytes);
      this.text = grown;
    }
    this.textBytes += this.text.write(joined, this.textBytes, 'utf16le');
  }

  private put(value: string): void {
    this.lengths[this.count++] = value.length;
    this.values.push(value);
  }
}

/** A row's values in SqliteLogBatch's order. */
type RowValues = [string, string, string, string, string, string, string, string, string];

/**
 * A batch's rows as INSERT_LOG_SQL's parameters, with their row keys made by
 * logRowKey: the one place that knows the order of the values and of the insert's
 * columns. It runs on the service's thread for `:memory:` databases and, as source
 * (DECODE_ROWS_SOURCE), on the writer thread, which is plain CommonJS and cannot
 * import this module; so it uses nothing but its arguments, LOG_ROW_VALUES and
 * globals.
 */
export function decodeLogRows(
  { text: bytes, lengths }: EncodedRows,
  logRowKey: (fields: LogRowKey) => string,
): (string | number)[][] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf16le');
  const rows: (string | number)[][] = [];
  let at = 0;
  for (let i = 0; i < lengths.length; i += LOG_ROW_VALUES) {
    const row = new Array(LOG_ROW_VALUES) as RowValues;
    for (let j = 0; j < LOG_ROW_VALUES; j++) {
      row[j] = text.slice(at, at + lengths[i + j]!);
      at += lengths[i + j]!;
    }
    const [project, flagType, flagName, requestId, time, instanceId, value, group, cacheFlag] = row;
    const rowKey = logRowKey({ project, flagType, flagName, instanceId, requestId, time });
    // Flag name and type fill two columns each (Name and Type are the runbook's).
    rows.push([
      rowKey,
      project,
      flagType,
      flagName,
      requestId,
      flagName,
      time,
      flagType,
      instanceId,
      value,
      group,
      Number(cacheFlag),
    ]);
  }
  if (at !== text.length) throw new Error('evaluation log batch: lengths do not match the text');
  return rows;
}

/** decodeLogRows for the writer thread's source. */
export const DECODE_ROWS_SOURCE = `const LOG_ROW_VALUES = ${LOG_ROW_VALUES};\n${decodeLogRows.toString()}`;
