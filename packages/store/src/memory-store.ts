import {
  FLAG_TYPES,
  type FlagRef,
  flagRowKey,
  formatWTime,
  InvalidInputError,
  logRowKey,
  parseWTime,
  type RowKind,
  UnavailableError,
} from '@vexil/core';
import type {
  EvaluationLogEntry,
  FlagStore,
  HistoryOptions,
  LogQuery,
  NewRow,
  StoreCapabilities,
  StoredRow,
  StoreOptions,
} from './flag-store.js';

/**
 * A FlagStore in process memory, for unit tests of the layers above the store. It
 * passes the same conformance suite as the real engines: fields go through JSON as
 * they would on disk, and a batch lands all or none.
 */
export class MemoryStore implements FlagStore {
  readonly engine = 'memory';
  readonly capabilities: StoreCapabilities = { atomicBatch: true, changeFeed: 'poll' };

  readonly #now: () => number;
  /** Per flag and kind, rows in append (and so time) order: the newest is the last. */
  readonly #rows = new Map<string, StoredRow[]>();
  /** The last WTIME (µs) per flag across both kinds. */
  readonly #lastWTime = new Map<string, number>();
  readonly #logs = new Map<string, EvaluationLogEntry>();
  #closed = false;

  constructor(options: StoreOptions = {}) {
    this.#now = options.now ?? defaultNow;
  }

  async append(rows: readonly NewRow[]): Promise<StoredRow[]> {
    this.#checkOpen();
    // Stage everything first, so a row that cannot be stored leaves nothing behind.
    const last = new Map<string, number>();
    const staged: StoredRow[] = [];
    rows.forEach((row, index) => {
      checkNewRow(row, index);
      const id = flagId(row.ref);
      const micros = nextWTime(this.#now, last.get(id) ?? this.#lastWTime.get(id));
      last.set(id, micros);
      const wtime = formatWTime(micros);
      const fields = JSON.parse(encodeFields(row, wtime, index)) as Record<string, unknown>;
      staged.push({ kind: row.kind, ref: copyRef(row.ref), wtime, key: flagRowKey(row.kind, row.ref, wtime), fields });
    });
    for (const row of staged) {
      const id = rowsId(row.kind, row.ref);
      let list = this.#rows.get(id);
      if (list === undefined) {
        list = [];
        this.#rows.set(id, list);
      }
      list.push(row);
    }
    for (const [id, micros] of last) this.#lastWTime.set(id, micros);
    return staged.map(cloneRow);
  }

  async latest(kind: RowKind, ref: FlagRef): Promise<StoredRow | undefined> {
    this.#checkOpen();
    const list = this.#rows.get(rowsId(kind, ref));
    const row = list?.[list.length - 1];
    return row && cloneRow(row);
  }

  async get(kind: RowKind, ref: FlagRef, wtime: string): Promise<StoredRow | undefined> {
    this.#checkOpen();
    const row = this.#rows.get(rowsId(kind, ref))?.find((r) => r.wtime === wtime);
    return row && cloneRow(row);
  }

  async history(kind: RowKind, ref: FlagRef, options: HistoryOptions = {}): Promise<StoredRow[]> {
    this.#checkOpen();
    const limit = checkLimit(options.limit);
    const list = this.#rows.get(rowsId(kind, ref)) ?? [];
    const out: StoredRow[] = [];
    for (let i = list.length - 1; i >= 0 && (limit === undefined || out.length < limit); i--) {
      out.push(cloneRow(list[i]!));
    }
    return out;
  }

  async listFlags(project: string): Promise<StoredRow[]> {
    this.#checkOpen();
    const out: StoredRow[] = [];
    for (const list of this.#rows.values()) {
      const row = list[list.length - 1];
      if (row && row.kind === 'FLAG' && row.ref.project === project) out.push(cloneRow(row));
    }
    return out.sort(
      (a, b) => compareKeys(a.ref.flagType, b.ref.flagType) || compareKeys(a.ref.name, b.ref.name),
    );
  }

  async scanProject(project: string): Promise<StoredRow[]> {
    this.#checkOpen();
    const out: StoredRow[] = [];
    for (const list of this.#rows.values()) {
      for (const row of list) if (row.ref.project === project) out.push(cloneRow(row));
    }
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  async appendLogs(entries: readonly EvaluationLogEntry[]): Promise<void> {
    this.#checkOpen();
    const staged = entries.map((entry) => [logRowKey(entry), { ...entry }] as const);
    for (const [key, entry] of staged) this.#logs.set(key, entry);
  }

  async readLogs(query: LogQuery): Promise<EvaluationLogEntry[]> {
    this.#checkOpen();
    const limit = checkLimit(query.limit);
    const keys = [...this.#logs.keys()].sort(compareKeys);
    const out: EvaluationLogEntry[] = [];
    for (const key of keys) {
      if (limit !== undefined && out.length >= limit) break;
      const entry = this.#logs.get(key)!;
      if (entry.project !== query.project) continue;
      if (query.flagType !== undefined && entry.flagType !== query.flagType) continue;
      if (query.flagName !== undefined && entry.flagName !== query.flagName) continue;
      out.push({ ...entry });
    }
    return out;
  }

  async ping(): Promise<void> {
    this.#checkOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new UnavailableError('the memory store is closed');
  }
}

// ---------------------------------------------------------------------------
// Helpers shared by the adapters (@internal: not exported from the package).
// ---------------------------------------------------------------------------

/** The default clock: microseconds since the epoch. */
export function defaultNow(): number {
  return Date.now() * 1000;
}

/**
 * The WTIME for the next row of a flag: the clock's time, or one microsecond after
 * the flag's last row when the clock has not moved past it (a tie, or a clock that
 * went backwards).
 * @internal
 */
export function nextWTime(now: () => number, lastMicros: number | undefined): number {
  const clock = Math.floor(now());
  if (!Number.isSafeInteger(clock) || clock < 0) {
    throw new InvalidInputError(`the store's clock returned ${clock}: expected microseconds since the epoch`);
  }
  return lastMicros === undefined ? clock : Math.max(clock, lastMicros + 1);
}

/** The last WTIME of a flag in microseconds, from the newest stored WTIME of each kind. @internal */
export function lastWTimeOf(...wtimes: (string | undefined)[]): number | undefined {
  let last: number | undefined;
  for (const wtime of wtimes) {
    if (wtime === undefined) continue;
    const micros = parseWTime(wtime);
    if (last === undefined || micros > last) last = micros;
  }
  return last;
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
    throw new InvalidInputError(`${where}: flag type ${JSON.stringify(row.ref.flagType)} is not feature or data`, {
      field: 'flag_type',
    });
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

function flagId(ref: FlagRef): string {
  return `${ref.project}#${ref.flagType}#${ref.name}`;
}

function rowsId(kind: RowKind, ref: FlagRef): string {
  return `${kind}#${flagId(ref)}`;
}

function copyRef(ref: FlagRef): FlagRef {
  return { project: ref.project, flagType: ref.flagType, name: ref.name };
}

function cloneRow(row: StoredRow): StoredRow {
  return { ...row, ref: copyRef(row.ref), fields: structuredClone(row.fields) };
}
