import { type FlagRef, flagRowKey, logRowKey, type RowKind, UnavailableError } from '@vexil/core';
import { type AccessRecordKind, RecordAccessStore } from '../../access/access-records.js';
import type { AccessStore } from '../../access-store.js';
import type * as Log from '../../evaluation-log-sink.js';
import type * as Store from '../../flag-store.js';
import {
  BatchWTimes,
  checkExpectedLatest,
  checkLimit,
  checkNewRow,
  checkSince,
  compareKeys,
  copyRef,
  encodeFields,
  flagId,
} from '../../rows.js';

/**
 * A FlagStore in process memory, for unit tests of the layers above the store. It
 * passes the same conformance suite as the real engines: fields go through JSON as
 * they would on disk, and a batch lands all or none.
 */
export class MemoryStore implements Store.FlagStore, Log.EvaluationLogSink {
  readonly engine = 'memory';
  readonly capabilities: Store.StoreCapabilities = { atomicBatch: true, changeFeed: 'push' };

  readonly #now: (() => number) | undefined;
  /** Per flag and kind, rows in append (and so time) order: the newest is the last. */
  readonly #rows = new Map<string, Store.StoredRow[]>();
  /** The last WTIME (µs) per flag across both kinds. */
  readonly #lastWTime = new Map<string, number>();
  readonly #logs = new Map<string, Log.EvaluationLogEntry>();
  #closed = false;
  readonly #watchers = new Set<(changes: readonly Store.FlagChange[]) => void>();
  readonly #access = new Map<AccessRecordKind, Map<string, string>>();
  readonly access: AccessStore = new RecordAccessStore({
    get: async (kind, key) => {
      this.#checkOpen();
      return this.#access.get(kind)?.get(key);
    },
    put: async (kind, key, json) => {
      this.#checkOpen();
      let records = this.#access.get(kind);
      if (records === undefined) {
        records = new Map();
        this.#access.set(kind, records);
      }
      records.set(key, json);
    },
    list: async (kind, from) => {
      this.#checkOpen();
      return [...(this.#access.get(kind) ?? new Map<string, string>())]
        .filter(([key]) => from === undefined || compareKeys(key, from) >= 0)
        .sort(([a], [b]) => compareKeys(a, b))
        .map(([key, json]) => ({ key, json }));
    },
    delete: async (kind, key) => {
      this.#checkOpen();
      return this.#access.get(kind)?.delete(key) ?? false;
    },
    // No await between the comparison and the write: one step for every caller of this process.
    replace: async (kind, key, expected, json) => {
      this.#checkOpen();
      let records = this.#access.get(kind);
      if ((records?.get(key) ?? null) !== expected) return false;
      if (records === undefined) {
        records = new Map();
        this.#access.set(kind, records);
      }
      records.set(key, json);
      return true;
    },
  });

  constructor(options: Store.StoreOptions = {}) {
    this.#now = options.now;
  }

  async append(rows: readonly Store.NewRow[]): Promise<Store.StoredRow[]> {
    this.#checkOpen();
    // Stage everything first, so a row that cannot be stored leaves nothing behind.
    const wtimes = new BatchWTimes(this.#now, (ref) => this.#lastWTime.get(flagId(ref)));
    const staged: Store.StoredRow[] = [];
    rows.forEach((row, index) => {
      checkNewRow(row, index);
      checkExpectedLatest(row, this.#rows.get(rowsId(row.kind, row.ref))?.at(-1)?.wtime);
      const wtime = wtimes.next(row.ref);
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
    for (const [id, micros] of wtimes.last) this.#lastWTime.set(id, micros);
    if (staged.length > 0 && this.#watchers.size > 0) {
      const changes = staged.map((r): Store.FlagChange => ({ kind: r.kind, ref: copyRef(r.ref), wtime: r.wtime }));
      // Delivered after append resolves, as a notification from another process would be.
      for (const watcher of this.#watchers) setImmediate(() => watcher(changes));
    }
    return staged.map(cloneRow);
  }

  async latest(kind: RowKind, ref: FlagRef): Promise<Store.StoredRow | undefined> {
    this.#checkOpen();
    const list = this.#rows.get(rowsId(kind, ref));
    const row = list?.[list.length - 1];
    return row && cloneRow(row);
  }

  async get(kind: RowKind, ref: FlagRef, wtime: string): Promise<Store.StoredRow | undefined> {
    this.#checkOpen();
    const row = this.#rows.get(rowsId(kind, ref))?.find((r) => r.wtime === wtime);
    return row && cloneRow(row);
  }

  async history(kind: RowKind, ref: FlagRef, options: Store.HistoryOptions = {}): Promise<Store.StoredRow[]> {
    this.#checkOpen();
    const limit = checkLimit(options.limit);
    const list = this.#rows.get(rowsId(kind, ref)) ?? [];
    const out: Store.StoredRow[] = [];
    for (let i = list.length - 1; i >= 0 && (limit === undefined || out.length < limit); i--) {
      out.push(cloneRow(list[i]!));
    }
    return out;
  }

  async listFlags(project: string): Promise<Store.StoredRow[]> {
    this.#checkOpen();
    const out: Store.StoredRow[] = [];
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

  async scanProject(project: string): Promise<Store.StoredRow[]> {
    this.#checkOpen();
    const out: Store.StoredRow[] = [];
    for (const list of this.#rows.values()) {
      for (const row of list) if (row.ref.project === project) out.push(cloneRow(row));
    }
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  async appendLogs(entries: readonly Log.EvaluationLogEntry[]): Promise<void> {
    this.#checkOpen();
    // Kept as the SQL engines read it back: `reported` only on reported rows.
    const staged = entries.map(
      ({ reported, ...entry }) => [logRowKey(entry), reported === true ? { ...entry, reported } : entry] as const,
    );
    for (const [key, entry] of staged) this.#logs.set(key, entry);
  }

  async readLogs(query: Log.LogQuery): Promise<Log.EvaluationLogEntry[]> {
    this.#checkOpen();
    const limit = checkLimit(query.limit);
    const since = checkSince(query.since);
    const keys = [...this.#logs.keys()].sort(compareKeys);
    const out: Log.EvaluationLogEntry[] = [];
    for (const key of keys) {
      if (limit !== undefined && out.length >= limit) break;
      const entry = this.#logs.get(key)!;
      if (entry.project !== query.project) continue;
      if (query.flagType !== undefined && entry.flagType !== query.flagType) continue;
      if (query.flagName !== undefined && entry.flagName !== query.flagName) continue;
      if (since !== undefined && entry.time < since) continue;
      out.push({ ...entry });
    }
    return out;
  }

  async lastLogTimes(project: string, flags: readonly Log.LogFlag[]): Promise<(string | undefined)[]> {
    this.#checkOpen();
    const newest = new Map<string, string>();
    for (const entry of this.#logs.values()) {
      if (entry.project !== project) continue;
      const id = `${entry.flagType}#${entry.flagName}`;
      const known = newest.get(id);
      if (known === undefined || entry.time > known) newest.set(id, entry.time);
    }
    return flags.map((flag) => newest.get(`${flag.flagType}#${flag.flagName}`));
  }

  watch(
    listener: (changes: readonly Store.FlagChange[]) => void,
    _options: Store.WatchOptions = {},
  ): Store.StopWatching {
    this.#checkOpen();
    const watcher = (changes: readonly Store.FlagChange[]) => {
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

function rowsId(kind: RowKind, ref: FlagRef): string {
  return `${kind}#${flagId(ref)}`;
}

function cloneRow(row: Store.StoredRow): Store.StoredRow {
  return { ...row, ref: copyRef(row.ref), fields: structuredClone(row.fields) };
}
