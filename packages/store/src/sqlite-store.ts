import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type FlagRef,
  type FlagType,
  type FlagValue,
  flagRowKey,
  formatWTime,
  isVexilError,
  logRowKey,
  logRowPrefix,
  type RowKind,
  UnavailableError,
} from '@vexil/core';
import Database from 'better-sqlite3';
import type {
  EncodedLogWriter,
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
import { pollChanges } from './poll-changes.js';
import { checkLimit, checkNewRow, defaultNow, encodeFields, lastWTimeOf, nextWTime } from './rows.js';
import { decodeLogRows, SqliteLogBatch } from './sqlite-log-batch.js';
import { INSERT_LOG_SQL, SqliteLogWriter } from './sqlite-log-writer.js';

export interface SqliteStoreOptions extends StoreOptions {
  /** How long a write waits for another process's write lock before failing. 5000 ms by default. */
  busyTimeoutMs?: number;
}

/** The schema version this code writes, kept in `PRAGMA user_version`. */
export const SQLITE_SCHEMA_VERSION = 2;

/**
 * Migration `i` takes a database from `user_version` i to i + 1. Append new ones;
 * never edit a released one.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE flag_rows (
    row_key   TEXT NOT NULL PRIMARY KEY,
    project   TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('FLAG', 'REVISION')),
    flag_type TEXT NOT NULL,
    flag_name TEXT NOT NULL,
    wtime     TEXT NOT NULL,
    fields    TEXT NOT NULL CHECK (json_valid(fields))
  );
  -- Same order as the row key, so "newest row of a kind for a flag" is one index
  -- SEARCH read backwards (no sort), and listFlags reads a project's FLAG rows in
  -- type, name order.
  CREATE UNIQUE INDEX flag_rows_by_flag ON flag_rows (project, kind, flag_type, flag_name, wtime);

  CREATE TABLE evaluation_log (
    row_key          TEXT NOT NULL PRIMARY KEY,
    project          TEXT NOT NULL,
    flag_type        TEXT NOT NULL,
    flag_name        TEXT NOT NULL,
    RequestID        TEXT NOT NULL,
    Name             TEXT NOT NULL,
    CreatedTimestamp TEXT NOT NULL,
    Type             TEXT NOT NULL,
    InstanceID       TEXT NOT NULL,
    AssignedValue    TEXT NOT NULL CHECK (json_valid(AssignedValue)),
    AssignedGroup    TEXT NOT NULL,
    CacheFlag        INTEGER NOT NULL CHECK (CacheFlag IN (0, 1))
  ) WITHOUT ROWID;
  `,
  // 2: the evaluation log in arrival order. Kept sorted by its row key (which holds a
  // random instance id), every insert landed on a random page: 20-60 µs a row and long
  // checkpoint stalls under load. Appended in rowid order it costs a few µs; the rare
  // readLogs sorts by row key instead.
  `
  CREATE TABLE evaluation_log_by_arrival (
    row_key          TEXT NOT NULL,
    project          TEXT NOT NULL,
    flag_type        TEXT NOT NULL,
    flag_name        TEXT NOT NULL,
    RequestID        TEXT NOT NULL,
    Name             TEXT NOT NULL,
    CreatedTimestamp TEXT NOT NULL,
    Type             TEXT NOT NULL,
    InstanceID       TEXT NOT NULL,
    AssignedValue    TEXT NOT NULL,
    AssignedGroup    TEXT NOT NULL,
    CacheFlag        INTEGER NOT NULL
  );
  INSERT INTO evaluation_log_by_arrival SELECT * FROM evaluation_log ORDER BY row_key;
  DROP TABLE evaluation_log;
  ALTER TABLE evaluation_log_by_arrival RENAME TO evaluation_log;
  CREATE INDEX evaluation_log_by_flag ON evaluation_log (project, flag_type, flag_name);
  `,
];

const ROW_COLUMNS = 'row_key, project, kind, flag_type, flag_name, wtime, fields';

const LATEST_SQL = `SELECT ${ROW_COLUMNS} FROM flag_rows
  WHERE project = @project AND kind = @kind AND flag_type = @flagType AND flag_name = @name
  ORDER BY wtime DESC LIMIT 1`;

interface FlagRowRecord {
  row_key: string;
  project: string;
  kind: RowKind;
  flag_type: FlagType;
  flag_name: string;
  wtime: string;
  fields: string;
}

interface LogRecord {
  project: string;
  flag_type: string;
  flag_name: string;
  RequestID: string;
  CreatedTimestamp: string;
  InstanceID: string;
  AssignedValue: string;
  AssignedGroup: string;
  CacheFlag: number;
}

interface RefParams {
  project: string;
  kind: RowKind;
  flagType: string;
  name: string;
}

/** SQLite error codes that mean the database cannot be used right now, rather than a bad call. */
const UNAVAILABLE_CODES = /^SQLITE_(CANTOPEN|IOERR|BUSY|LOCKED|FULL|NOTADB|CORRUPT|PROTOCOL|READONLY|PERM|AUTH)/;

/**
 * The embedded default store: one SQLite file (better-sqlite3), in WAL mode so
 * readers never wait for the writer. Flag rows live in `flag_rows`, evaluations in
 * `evaluation_log`, both keyed by the runbook system's row keys.
 */
export class SqliteStore implements FlagStore {
  readonly engine = 'sqlite';
  readonly capabilities: StoreCapabilities = { atomicBatch: true, changeFeed: 'poll' };
  /** The file path, or `:memory:`. */
  readonly path: string;

  readonly #db: Database.Database;
  readonly #now: () => number;
  #closed = false;

  readonly #latest: Database.Statement<[RefParams], FlagRowRecord>;
  readonly #latestWTime: Database.Statement<[RefParams], string>;
  readonly #get: Database.Statement<[string], FlagRowRecord>;
  readonly #history: Database.Statement<[RefParams & { limit: number }], FlagRowRecord>;
  readonly #listFlags: Database.Statement<[string], FlagRowRecord>;
  readonly #listProjects: Database.Statement<[], string>;
  readonly #scan: Database.Statement<[{ lo: string; hi: string }], FlagRowRecord>;
  readonly #insert: Database.Statement<[FlagRowRecord]>;
  readonly #insertLog: Database.Statement<[(string | number)[]]>;
  readonly #readLogs: Database.Statement<[Record<string, string | number | null>], LogRecord>;
  readonly #ping: Database.Statement<[], number>;
  readonly #lastRowId: Database.Statement<[], number>;
  readonly #changesSince: Database.Statement<[number], FlagRowRecord & { rowid: number }>;
  readonly #appendTx: Database.Transaction<(rows: readonly NewRow[]) => StoredRow[]>;
  readonly #insertLogsTx: Database.Transaction<(rows: readonly (string | number)[][]) => void>;
  readonly #busyTimeoutMs: number;
  /** Log batches go to a worker thread for files (see SqliteLogWriter); `:memory:` has no second connection. */
  #logWriter: SqliteLogWriter | undefined;
  /** Files only: `:memory:` has no second connection, so its log is written in place. */
  readonly encodedLogs: EncodedLogWriter | undefined;

  /** Opens (creating if needed) the database at `path`, or `:memory:`. The parent directory must exist; `open` creates it. */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.#now = options.now ?? defaultNow;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.encodedLogs =
      path === ':memory:' || path === ''
        ? undefined
        : {
            newBatch: () => new SqliteLogBatch(),
            appendBatch: (batch) => this.#appendBatch(batch as SqliteLogBatch),
          };
    const db = guard(path, () => new Database(path, { timeout: this.#busyTimeoutMs }));
    this.#db = db;
    try {
      guard(path, () => {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        migrate(db, path);
      });

      this.#latest = db.prepare<[RefParams], FlagRowRecord>(LATEST_SQL);
      this.#latestWTime = db
        .prepare<[RefParams], string>(
          `SELECT wtime FROM flag_rows
           WHERE project = @project AND kind = @kind AND flag_type = @flagType AND flag_name = @name
           ORDER BY wtime DESC LIMIT 1`,
        )
        .pluck();
      this.#get = db.prepare<[string], FlagRowRecord>(`SELECT ${ROW_COLUMNS} FROM flag_rows WHERE row_key = ?`);
      this.#history = db.prepare<[RefParams & { limit: number }], FlagRowRecord>(
        `SELECT ${ROW_COLUMNS} FROM flag_rows
         WHERE project = @project AND kind = @kind AND flag_type = @flagType AND flag_name = @name
         ORDER BY wtime DESC LIMIT @limit`,
      );
      this.#listFlags = db.prepare<[string], FlagRowRecord>(
        `SELECT ${ROW_COLUMNS} FROM flag_rows AS f
         WHERE f.project = ? AND f.kind = 'FLAG'
           AND f.wtime = (SELECT max(g.wtime) FROM flag_rows AS g
                          WHERE g.project = f.project AND g.kind = 'FLAG'
                            AND g.flag_type = f.flag_type AND g.flag_name = f.flag_name)
         ORDER BY f.flag_type, f.flag_name`,
      );
      // Index order (project first): each project is found once, without reading its rows.
      this.#listProjects = db
        .prepare<[], string>(`SELECT DISTINCT project FROM flag_rows WHERE kind = 'FLAG' ORDER BY project`)
        .pluck();
      this.#scan = db.prepare<[{ lo: string; hi: string }], FlagRowRecord>(
        `SELECT ${ROW_COLUMNS} FROM flag_rows
         WHERE row_key >= @lo AND row_key < @hi
         ORDER BY row_key`,
      );
      this.#insert = db.prepare<[FlagRowRecord]>(
        `INSERT INTO flag_rows (${ROW_COLUMNS})
         VALUES (@row_key, @project, @kind, @flag_type, @flag_name, @wtime, @fields)`,
      );
      this.#insertLog = db.prepare<[(string | number)[]]>(INSERT_LOG_SQL);
      this.#readLogs = db.prepare<[Record<string, string | number | null>], LogRecord>(
        `SELECT project, flag_type, flag_name, RequestID, CreatedTimestamp, InstanceID,
                AssignedValue, AssignedGroup, CacheFlag
         FROM evaluation_log
         WHERE project = @project AND row_key >= @lo AND row_key < @hi
           AND (@flagType IS NULL OR flag_type = @flagType)
           AND (@flagName IS NULL OR flag_name = @flagName)
         ORDER BY row_key LIMIT @limit`,
      );
      this.#ping = db.prepare<[], number>('SELECT 1').pluck();
      // Rows are only ever appended, so rowid order is append order: the rowid is the change marker.
      this.#lastRowId = db.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM flag_rows').pluck();
      this.#changesSince = db.prepare<[number], FlagRowRecord & { rowid: number }>(
        `SELECT rowid, ${ROW_COLUMNS} FROM flag_rows WHERE rowid > ? ORDER BY rowid LIMIT 1000`,
      );

      this.#appendTx = db.transaction((rows: readonly NewRow[]) => this.#appendInTx(rows));
      this.#insertLogsTx = db.transaction((rows: readonly (string | number)[][]) => {
        for (const row of rows) this.#insertLog.run(row);
      });
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Opens the database at `path` (or `:memory:`), creating its parent directories first. */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    if (path !== ':memory:' && path !== '') {
      guard(path, () => mkdirSync(dirname(path), { recursive: true }));
    }
    return new SqliteStore(path, options);
  }

  async append(rows: readonly NewRow[]): Promise<StoredRow[]> {
    // IMMEDIATE: take the write lock before reading the flags' last WTIMEs, so two
    // processes appending to one flag still get strictly increasing times.
    return this.#run(() => this.#appendTx.immediate(rows));
  }

  async latest(kind: RowKind, ref: FlagRef): Promise<StoredRow | undefined> {
    return this.#run(() => {
      const record = this.#latest.get(refParams(kind, ref));
      return record && toStoredRow(record);
    });
  }

  async get(kind: RowKind, ref: FlagRef, wtime: string): Promise<StoredRow | undefined> {
    return this.#run(() => {
      const record = this.#get.get(flagRowKey(kind, ref, wtime));
      // The key could in principle be shared by a ref holding `#`; compare the columns too.
      if (!record || record.kind !== kind || !sameRef(record, ref)) return undefined;
      return toStoredRow(record);
    });
  }

  async history(kind: RowKind, ref: FlagRef, options: HistoryOptions = {}): Promise<StoredRow[]> {
    const limit = checkLimit(options.limit) ?? -1;
    return this.#run(() => this.#history.all({ ...refParams(kind, ref), limit }).map(toStoredRow));
  }

  async listFlags(project: string): Promise<StoredRow[]> {
    return this.#run(() => this.#listFlags.all(project).map(toStoredRow));
  }

  async listProjects(): Promise<string[]> {
    return this.#run(() => this.#listProjects.all());
  }

  async scanProject(project: string): Promise<StoredRow[]> {
    // The key range is exactly the project: project names hold no `#` (append checks).
    const lo = `PROJECT#${project}#`;
    return this.#run(() => this.#scan.all({ lo, hi: prefixEnd(lo) }).map(toStoredRow));
  }

  async appendLogs(entries: readonly EvaluationLogEntry[]): Promise<void> {
    const batch = new SqliteLogBatch();
    for (const entry of entries) batch.add(entry);
    if (this.encodedLogs === undefined) {
      // `:memory:`: no second connection to hand it to, so the rows are written here, as the writer thread would.
      this.#run(() => this.#insertLogsTx(decodeLogRows(batch.encode(), logRowKey)));
      return;
    }
    await this.#appendBatch(batch);
  }

  async #appendBatch(batch: SqliteLogBatch): Promise<void> {
    if (batch.size === 0) return;
    this.#run(() => {
      // A writer whose thread died fails every batch: the retry gets a new thread.
      if (this.#logWriter?.failed) {
        void this.#logWriter.close();
        this.#logWriter = undefined;
      }
      this.#logWriter ??= new SqliteLogWriter(this.path, this.#busyTimeoutMs);
    });
    try {
      await this.#logWriter!.write(batch);
    } catch (error) {
      guard(this.path, () => {
        throw error;
      });
    }
  }

  async readLogs(query: LogQuery): Promise<EvaluationLogEntry[]> {
    const limit = checkLimit(query.limit) ?? -1;
    const lo = logRowPrefix(query.project, query.flagType, query.flagType === undefined ? undefined : query.flagName);
    return this.#run(() =>
      this.#readLogs
        .all({
          lo,
          hi: prefixEnd(lo),
          project: query.project,
          flagType: query.flagType ?? null,
          flagName: query.flagName ?? null,
          limit,
        })
        .map(toLogEntry),
    );
  }

  watch(listener: (changes: readonly FlagChange[]) => void, options: WatchOptions = {}): StopWatching {
    let cursor = this.#run(() => this.#lastRowId.get() ?? 0);
    return pollChanges(
      async () =>
        this.#run(() => {
          const records = this.#changesSince.all(cursor);
          const last = records[records.length - 1];
          if (last) cursor = last.rowid;
          return records.map((r): FlagChange => ({ kind: r.kind, ref: toStoredRow(r).ref, wtime: r.wtime }));
        }),
      listener,
      options,
    );
  }

  async ping(): Promise<void> {
    this.#run(() => {
      this.#ping.get();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#logWriter?.close();
    this.#db.close();
  }

  /**
   * The EXPLAIN QUERY PLAN detail lines of the query `latest` runs: the check that
   * reading the newest row is an index SEARCH with no sort, whatever the history.
   */
  explainLatest(kind: RowKind, ref: FlagRef): string[] {
    return this.#run(() =>
      this.#db
        .prepare<[RefParams], { detail: string }>(`EXPLAIN QUERY PLAN ${LATEST_SQL}`)
        .all(refParams(kind, ref))
        .map((row) => row.detail),
    );
  }

  #appendInTx(rows: readonly NewRow[]): StoredRow[] {
    const last = new Map<string, number>();
    return rows.map((row, index) => {
      checkNewRow(row, index);
      const { ref, kind } = row;
      const id = `${ref.project}#${ref.flagType}#${ref.name}`;
      const previous =
        last.get(id) ??
        lastWTimeOf(this.#latestWTime.get(refParams('FLAG', ref)), this.#latestWTime.get(refParams('REVISION', ref)));
      const micros = nextWTime(this.#now, previous);
      last.set(id, micros);
      const wtime = formatWTime(micros);
      const record: FlagRowRecord = {
        row_key: flagRowKey(kind, ref, wtime),
        project: ref.project,
        kind,
        flag_type: ref.flagType,
        flag_name: ref.name,
        wtime,
        // Serialised here, inside the transaction: a row that cannot be stored
        // rolls back the rows before it.
        fields: encodeFields(row, wtime, index),
      };
      this.#insert.run(record);
      return toStoredRow(record);
    });
  }

  #run<T>(fn: () => T): T {
    if (this.#closed) throw new UnavailableError(`the SQLite store ${this.path} is closed`);
    return guard(this.path, fn);
  }
}

/** Runs `fn`, turning driver errors that mean "the database cannot be used" into UnavailableError. */
function guard<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (isVexilError(error)) throw error;
    const code = (error as { code?: unknown }).code;
    const message = (error as Error).message ?? String(error);
    const unavailable =
      (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) ||
      (error instanceof TypeError && /database connection is not open|directory does not exist/i.test(message)) ||
      (typeof code === 'string' && /^E(NOENT|ACCES|PERM|ROFS|NOSPC|NOTDIR)$/.test(code));
    if (!unavailable) throw error;
    throw new UnavailableError(`SQLite store ${path} is unavailable: ${message}`, {
      hint: 'check that the path in VEXIL_STORE is a writable SQLite file and that no other program holds it locked',
      cause: error,
    });
  }
}

function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new UnavailableError(
        `SQLite store ${path} has schema version ${version}, newer than this Vexil understands (${SQLITE_SCHEMA_VERSION})`,
        { hint: 'upgrade Vexil, or point VEXIL_STORE at another file' },
      );
    }
    for (let v = version; v < SQLITE_SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    if (version !== SQLITE_SCHEMA_VERSION) db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
}

function refParams(kind: RowKind, ref: FlagRef): RefParams {
  return { project: ref.project, kind, flagType: ref.flagType, name: ref.name };
}

function sameRef(record: FlagRowRecord, ref: FlagRef): boolean {
  return record.project === ref.project && record.flag_type === ref.flagType && record.flag_name === ref.name;
}

/** The smallest string after every string that starts with `prefix` (which ends in `#`). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function toStoredRow(record: FlagRowRecord): StoredRow {
  return {
    kind: record.kind,
    ref: { project: record.project, flagType: record.flag_type, name: record.flag_name },
    wtime: record.wtime,
    key: record.row_key,
    fields: JSON.parse(record.fields) as Record<string, unknown>,
  };
}

function toLogEntry(record: LogRecord): EvaluationLogEntry {
  return {
    project: record.project,
    flagType: record.flag_type,
    flagName: record.flag_name,
    instanceId: record.InstanceID,
    requestId: record.RequestID,
    time: record.CreatedTimestamp,
    value: JSON.parse(record.AssignedValue) as FlagValue,
    group: record.AssignedGroup,
    cacheHit: record.CacheFlag === 1,
  };
}
