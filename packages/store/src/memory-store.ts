import { type FlagRef, flagRowKey, formatWTime, logRowKey, type RowKind, UnavailableError } from '@vexil/core';
import type {
  EvaluationLogEntry,
  FlagChange,
  FlagStore,
  HistoryOptions,
  LogQuery,
  NewRow,
  StopWatching,
  StoreCapabilities,
  StoredRow,
  StoreOptions,
  WatchOptions,
} from './flag-store.js';
import { checkLimit, checkNewRow, compareKeys, defaultNow, encodeFields, nextWTime } from './rows.js';

/**
 * A FlagStore in process memory, for unit tests of the layers above the store. It
 * passes the same conformance suite as the real engines: fields go through JSON as
 * they would on disk, and a batch lands all or none.
 */
export class MemoryStore implements FlagStore {
  readonly engine = 'memory';
  readonly capabilities: StoreCapabilities = { atomicBatch: true, changeFeed: 'push' };

  readonly #now: () => number;
  /** Per flag and kind, rows in append (and so time) order: the newest is the last. */
  readonly #rows = new Map<string, StoredRow[]>();
  /** The last WTIME (µs) per flag across both kinds. */
  readonly #lastWTime = new Map<string, number>();
  readonly #logs = new Map<string, EvaluationLogEntry>();
  #closed = false;
  readonly #watchers = new Set<(changes: readonly FlagChange[]) => void>();

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
    if (staged.length > 0 && this.#watchers.size > 0) {
      const changes = staged.map((r): FlagChange => ({ kind: r.kind, ref: copyRef(r.ref), wtime: r.wtime }));
      // Delivered after append resolves, as a notification from another process would be.
      for (const watcher of this.#watchers) setImmediate(() => watcher(changes));
    }
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
    return out.sort((a, b) => compareKeys(a.ref.flagType, b.ref.flagType) || compareKeys(a.ref.name, b.ref.name));
  }

  async listProjects(): Promise<string[]> {
    this.#checkOpen();
    const projects = new Set<string>();
    for (const [row] of this.#rows.values()) if (row?.kind === 'FLAG') projects.add(row.ref.project);
    return [...projects].sort(compareKeys);
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

  watch(listener: (changes: readonly FlagChange[]) => void, _options: WatchOptions = {}): StopWatching {
    this.#checkOpen();
    const watcher = (changes: readonly FlagChange[]) => {
      if (this.#watchers.has(watcher)) listener(changes);
    };
    this.#watchers.add(watcher);
    return async () => {
      this.#watchers.delete(watcher);
    };
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
