import { logRowKey, type ResultValue } from '@vexil/core';
import type { EncodedLogBatch, EvaluationLogEntry } from '../../evaluation-log-sink.js';

/**
 * Numbers per row in EncodedRows.fields: the UTF-16 lengths of the three values
 * copied as text (request id, time, instance id), the dictionary indexes of the five
 * that repeat (project, flag type, flag name, value as JSON, group), the cache
 * flag and the reported flag (0 or 1 each).
 */
export const LOG_ROW_FIELDS = 10;

const INITIAL_ROWS = 64;
/** UTF-16 code units per row the text starts with room for (a UUID, a time, a short id). */
const INITIAL_UNITS_PER_ROW = 80;

/** A batch as posted to the writer thread: three buffers and a short list of strings. */
export interface EncodedRows {
  /** The request ids, times and instance ids as UTF-16 code units, back to back. */
  text: Uint16Array<ArrayBuffer>;
  /** LOG_ROW_FIELDS numbers per row. */
  fields: Uint32Array<ArrayBuffer>;
  /** The distinct projects, flag types, names, values (JSON) and groups of the batch. */
  dictionary: string[];
}

/**
 * Evaluation-log rows for the SQLite writer thread, written into typed arrays as
 * entries arrive. Hand-written because the obvious ways cost the service's thread
 * more than the request did: posting arrays or objects makes the structured clone
 * walk every string of a batch at once (milliseconds on a loaded thread), and
 * JSON.stringify or Buffer.write per row took microseconds. Of a row's ten values,
 * five repeat across a batch (a handful of flags, values and groups): each is stored
 * once in the batch's dictionary and referred to by index. The other three are copied
 * code unit by code unit into an off-heap array, so a batch waiting for its turn holds
 * no strings for the garbage collector to copy (kept as strings, they were most of
 * what survived each young-generation collection), and no native call or string join
 * is made per row. Posting a batch moves two buffers. Even the row key is left to the
 * writer thread: building it here cost as much again.
 */
export class SqliteLogBatch implements EncodedLogBatch {
  size = 0;
  private text = new Uint16Array(INITIAL_ROWS * INITIAL_UNITS_PER_ROW);
  private units = 0;
  private fields = new Uint32Array(INITIAL_ROWS * LOG_ROW_FIELDS);
  private readonly dictionary: string[] = [];
  private readonly indexes = new Map<string, number>();
  /** Keyed by the value itself: its JSON is made once per batch, not per row. */
  private readonly valueIndexes = new Map<ResultValue, number>();

  add(entry: EvaluationLogEntry): void {
    const requestId = entry.requestId;
    const time = entry.time;
    const instanceId = entry.instanceId;
    const row = this.size * LOG_ROW_FIELDS;
    if (row + LOG_ROW_FIELDS > this.fields.length) this.fields = grown(this.fields, row + LOG_ROW_FIELDS);
    const needed = this.units + requestId.length + time.length + instanceId.length;
    if (needed > this.text.length) this.text = grown(this.text, needed);
    // Every check that can throw comes before the first write: a bad entry leaves the batch as it was.
    const value = this.valueIndex(entry.value);
    const fields = this.fields;
    fields[row] = this.copy(requestId);
    fields[row + 1] = this.copy(time);
    fields[row + 2] = this.copy(instanceId);
    fields[row + 3] = this.index(entry.project);
    fields[row + 4] = this.index(entry.flagType);
    fields[row + 5] = this.index(entry.flagName);
    fields[row + 6] = value;
    fields[row + 7] = this.index(entry.group);
    fields[row + 8] = entry.cacheHit ? 1 : 0;
    fields[row + 9] = entry.reported === true ? 1 : 0;
    this.size++;
  }

  /** The rows to post, in buffers of their own each time (the batch may be posted again after a failure). */
  encode(): EncodedRows {
    return {
      text: this.text.slice(0, this.units),
      fields: this.fields.slice(0, this.size * LOG_ROW_FIELDS),
      dictionary: [...this.dictionary],
    };
  }

  private copy(value: string): number {
    const text = this.text;
    let at = this.units;
    for (let i = 0; i < value.length; i++) text[at++] = value.charCodeAt(i);
    this.units = at;
    return value.length;
  }

  private index(value: string): number {
    let index = this.indexes.get(value);
    if (index === undefined) {
      index = this.dictionary.push(value) - 1;
      this.indexes.set(value, index);
    }
    return index;
  }

  private valueIndex(value: ResultValue): number {
    let index = this.valueIndexes.get(value);
    if (index === undefined) {
      const json = JSON.stringify(value);
      if (typeof json !== 'string') throw new TypeError(`evaluation log: value ${String(value)} has no JSON form`);
      index = this.index(json);
      this.valueIndexes.set(value, index);
    }
    return index;
  }
}

function grown<T extends Uint16Array<ArrayBuffer> | Uint32Array<ArrayBuffer>>(array: T, needed: number): T {
  const next = new (array.constructor as new (length: number) => T)(Math.max(array.length * 2, needed));
  next.set(array);
  return next;
}

/** The insert of one log row; its parameters are made by decodeLogRows. */
export const INSERT_LOG_SQL = `INSERT INTO evaluation_log
  (row_key, project, flag_type, flag_name, RequestID, Name, CreatedTimestamp, Type, InstanceID,
   AssignedValue, AssignedGroup, CacheFlag, Reported)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * A batch's rows as INSERT_LOG_SQL's parameters, with their row keys made by
 * logRowKey: the one place that knows the order of the fields and of the insert's
 * columns. The writer thread (log-writer-thread.ts) imports it, and so does the
 * store for `:memory:` databases, which write their log in place.
 */
export function decodeLogRows({ text: units, fields, dictionary }: EncodedRows): (string | number)[][] {
  const text = Buffer.from(units.buffer, units.byteOffset, units.byteLength).toString('utf16le');
  const word = (index: number): string => {
    const found = dictionary[index];
    if (found === undefined) throw new Error(`evaluation log batch: no dictionary entry ${index}`);
    return found;
  };
  const rows: (string | number)[][] = [];
  let at = 0;
  const next = (length: number): string => {
    at += length;
    return text.slice(at - length, at);
  };
  for (let i = 0; i + LOG_ROW_FIELDS <= fields.length; i += LOG_ROW_FIELDS) {
    const requestId = next(fields[i]!);
    const time = next(fields[i + 1]!);
    const instanceId = next(fields[i + 2]!);
    const project = word(fields[i + 3]!);
    const flagType = word(fields[i + 4]!);
    const flagName = word(fields[i + 5]!);
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
      word(fields[i + 6]!),
      word(fields[i + 7]!),
      fields[i + 8]!,
      fields[i + 9]!,
    ]);
  }
  if (at !== text.length || fields.length % LOG_ROW_FIELDS !== 0) {
    throw new Error('evaluation log batch: the fields do not match the text');
  }
  return rows;
}
