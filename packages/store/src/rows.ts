import {
  FLAG_TYPES,
  type FlagRef,
  formatWTime,
  InvalidInputError,
  isWTime,
  parseWTime,
  RevisionConflictError,
} from '@vexil/core';
import type { NewRow } from './flag-store.js';

/**
 * What every adapter does the same way to a row before it reaches its engine: the
 * WTIME rule, key-part checks, field encoding, limits, key order. Internal to the
 * package (not exported from index.ts).
 */

/** The default clock: microseconds since the epoch. */
export function defaultNow(): number {
  // The wall clock's milliseconds, and performance.now()'s sub-millisecond digits so that
  // WTIMEs use all six places. Not timeOrigin + performance.now() alone: that monotonic
  // clock drifts from the wall clock over a process's life (milliseconds were seen), and
  // WTIMEs are wall-clock times. A fraction that steps back within a millisecond is
  // handled like any clock going back (nextWTime).
  return Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
}

/**
 * The WTIME for the next row of a flag: the clock's time, or one microsecond after
 * the flag's last row when the clock has not moved past it (a tie, or a clock that
 * went backwards).
 */
function nextWTime(now: () => number, lastMicros: number | undefined): number {
  const clock = Math.floor(now());
  if (!Number.isSafeInteger(clock) || clock < 0) {
    throw new InvalidInputError(`the store's clock returned ${clock}: expected microseconds since the epoch`);
  }
  return lastMicros === undefined ? clock : Math.max(clock, lastMicros + 1);
}

/**
 * Hands out the WTIMEs of one batch: each flag's rows get strictly increasing times,
 * after the flag's last stored WTIME (`stored`, in microseconds, asked once per flag
 * of the batch) and after the batch's earlier rows of the flag.
 * @internal
 */
export class BatchWTimes {
  readonly #now: () => number;
  readonly #stored: (ref: FlagRef) => number | undefined;
  readonly #last = new Map<string, number>();

  constructor(now: (() => number) | undefined, stored: (ref: FlagRef) => number | undefined) {
    this.#now = now ?? defaultNow;
    this.#stored = stored;
  }

  next(ref: FlagRef): string {
    const id = flagId(ref);
    const micros = nextWTime(this.#now, this.#last.has(id) ? this.#last.get(id) : this.#stored(ref));
    this.#last.set(id, micros);
    return formatWTime(micros);
  }

  /** The last WTIME handed out per flag (by flagId), in microseconds. */
  get last(): ReadonlyMap<string, number> {
    return this.#last;
  }
}

/**
 * The last WTIME of a flag in microseconds, from the newest stored WTIME of each
 * kind. Text that is not a real WTIME (from a row key another tool wrote into
 * Bigtable) is passed over: no WTIME Vexil hands out has to follow it.
 * @internal
 */
export function lastWTimeOf(...wtimes: (string | undefined)[]): number | undefined {
  let last: number | undefined;
  for (const wtime of wtimes) {
    const micros = wtime === undefined ? undefined : wtimeMicros(wtime);
    if (micros !== undefined && (last === undefined || micros > last)) last = micros;
  }
  return last;
}

function wtimeMicros(wtime: string): number | undefined {
  if (!isWTime(wtime)) return undefined;
  try {
    return parseWTime(wtime);
  } catch {
    return undefined; // the form of a WTIME, but no calendar time (month 13)
  }
}

/**
 * Checks the parts of a new row that go into its key: a `#` (or an empty part) would
 * make a key that reads back as another flag's. Names are validated in full above
 * the store; this only keeps keys unambiguous.
 * @internal
 */
export function checkNewRow(row: NewRow, index: number): void {
  const where = `row ${index}`;
  if (row.kind !== 'FLAG' && row.kind !== 'REVISION') {
    throw new InvalidInputError(`${where}: kind ${JSON.stringify(row.kind)} is not FLAG or REVISION`, {
      field: 'kind',
    });
  }
  if (!(FLAG_TYPES as readonly string[]).includes(row.ref.flagType)) {
    throw new InvalidInputError(
      `${where}: flag type ${JSON.stringify(row.ref.flagType)} is not one of ${FLAG_TYPES.join(', ')}`,
      { field: 'flag_type' },
    );
  }
  for (const [part, field] of [
    [row.ref.project, 'project_name'],
    [row.ref.name, 'flag_name'],
  ] as const) {
    if (typeof part !== 'string' || part.length === 0 || part.includes('#')) {
      throw new InvalidInputError(`${where}: ${field} ${JSON.stringify(part)} must be non-empty and without "#"`, {
        field,
      });
    }
  }
  const expected = row.expectedLatest;
  if (expected !== undefined && expected !== null && (typeof expected !== 'string' || !isWTime(expected))) {
    throw new InvalidInputError(
      `${where}: expectedLatest ${JSON.stringify(expected)} must be the WTIME of a revision (YYYY-MM-DD HH:MM:SS.ffffff) or null for none`,
      { field: 'expectedLatest' },
    );
  }
  if (typeof row.fields !== 'object' || row.fields === null || Array.isArray(row.fields)) {
    throw new InvalidInputError(`${where}: fields must be an object of columns`, { field: 'fields' });
  }
}

/** The row's fields as JSON text, with `CreatedTime` set to its WTIME. @internal */
export function encodeFields(row: NewRow, wtime: string, index: number): string {
  try {
    return JSON.stringify({ ...row.fields, CreatedTime: wtime });
  } catch (cause) {
    throw new InvalidInputError(
      `row ${index} (${row.kind} ${row.ref.project}/${row.ref.flagType}/${row.ref.name}) cannot be stored: its fields are not JSON (${(cause as Error).message})`,
      { field: 'fields', cause },
    );
  }
}

/** A history / log limit: undefined for none; otherwise a whole number ≥ 0. @internal */
export function checkLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new InvalidInputError(`limit must be a whole number ≥ 0, got ${limit}`, { field: 'limit' });
  }
  return limit;
}

/** A log query's time bound: undefined for none; otherwise a time in the log's format. @internal */
export function checkSince(since: string | undefined): string | undefined {
  if (since === undefined) return undefined;
  if (typeof since !== 'string' || !isWTime(since)) {
    throw new InvalidInputError(`since must be a UTC time YYYY-MM-DD HH:MM:SS.ffffff, got ${JSON.stringify(since)}`, {
      field: 'since',
    });
  }
  return since;
}

/** Orders strings by code point, which is the byte order of their UTF-8 (and so SQLite's and Bigtable's). @internal */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** The smallest string after every string that starts with `prefix` (which ends in `#`). @internal */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** One string per flag (project, type and name), for maps keyed by flag. @internal */
export function flagId(ref: FlagRef): string {
  return `${ref.project}#${ref.flagType}#${ref.name}`;
}

/** @internal */
export function sameRef(a: FlagRef, b: FlagRef): boolean {
  return a.project === b.project && a.flagType === b.flagType && a.name === b.name;
}

/** A copy holding the three parts only, so a stored row never shares the caller's object. @internal */
export function copyRef(ref: FlagRef): FlagRef {
  return { project: ref.project, flagType: ref.flagType, name: ref.name };
}

/**
 * Refuses a row whose `expectedLatest` is not the newest stored row of its kind
 * (`newest`, undefined when there is none): someone else wrote first.
 */
export function checkExpectedLatest(row: NewRow, newest: string | undefined): void {
  const expected = row.expectedLatest;
  if (expected === undefined || (expected ?? undefined) === newest) return;
  const what = row.kind === 'REVISION' ? 'revision' : 'FLAG row';
  throw new RevisionConflictError(
    `${row.ref.project}/${row.ref.flagType}/${row.ref.name} changed since you read it: its newest ${what} is ${
      newest ?? 'none'
    }, not expectedLatest ${expected ?? 'null (none)'}. Nothing was written; read the flag again and retry`,
    { field: 'expectedLatest' },
  );
}
