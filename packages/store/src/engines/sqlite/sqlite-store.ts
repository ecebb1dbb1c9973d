import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type FlagRef, flagRowKey, logRowPrefix, type RowKind, UnavailableError } from '@vexil/core';
import type Database from 'better-sqlite3';
import { type AccessRecordKind, RecordAccessStore } from '../../access/access-records.js';
import type { AccessStore } from '../../access-store.js';
import type * as Log from '../../evaluation-log-sink.js';
import type * as Store from '../../flag-store.js';
import { pollChanges } from '../../poll-changes.js';
import {
  BatchWTimes,
  checkExpectedLatest,
  checkLimit,
  checkNewRow,
  checkSince,
  encodeFields,
  lastWTimeOf,
  prefixEnd,
  sameRef,
} from '../../rows.js';
import {
  type FlagRowRecord,
  flagRowRecord,
  type LogRecord,
  logEntryOf,
  recordRef,
  storedRowOf,
} from '../../sql-records.js';
import { guard } from './sqlite-errors.js';
import { decodeLogRows, INSERT_LOG_SQL, SqliteLogBatch } from './sqlite-log-batch.js';
import { SqliteLogWriter } from './sqlite-log-writer.js';
import { migrate, openConnection, SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';

export { SQLITE_SCHEMA_VERSION };

export interface SqliteStoreOptions extends Store.StoreOptions {
  /** How long a write waits for another process's write lock before failing. 5000 ms by default. */
  busyTimeoutMs?: number;
}

const ROW_COLUMNS = 'row_key, project, kind, flag_type, flag_name, wtime, fields';

const LATEST_SQL = `SELECT ${ROW_COLUMNS} FROM flag_rows
  WHERE project = @project AND kind = @kind AND flag_type = @flagType AND flag_name = @name
  ORDER BY wtime DESC LIMIT 1`;

interface RefParams {
  project: string;
  kind: RowKind;
  flagType: string;
  name: string;
}

/**
 * The embedded default store: one SQLite file (better-sqlite3), in WAL mode so
 * readers never wait for the writer. Flag rows live in `flag_rows`, evaluations in
 * `evaluation_log`, both keyed by the runbook system's row keys.
 */
export class SqliteStore implements Store.FlagStore, Log.EvaluationLogSink {
  readonly engine = 'sqlite';
  readonly capabilities: Store.StoreCapabilities = { atomicBatch: true, changeFeed: 'poll' };
  /** The file path, or `:memory:`. */
  readonly path: string;

  readonly #db: Database.Database;
  readonly #now: (() => number) | undefined;
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
  readonly #readFlagLogs: Database.Statement<[Record<string, string | number>], LogRecord>;
  readonly #lastLogTime: Database.Statement<[string, string, string], string | null>;
  readonly #ping: Database.Statement<[], number>;
  readonly #lastRowId: Database.Statement<[], number>;
  readonly #changesSince: Database.Statement<[number], FlagRowRecord & { rowid: number }>;
  readonly #appendTx: Database.Transaction<(rows: readonly Store.NewRow[]) => Store.StoredRow[]>;
  readonly #insertLogsTx: Database.Transaction<(rows: readonly (string | number)[][]) => void>;
  readonly #busyTimeoutMs: number;
  /** Log batches go to a worker thread for files (see SqliteLogWriter); `:memory:` has no second connection. */
  #logWriter: SqliteLogWriter | undefined;
  /** Files only: `:memory:` has no second connection, so its log is written in place. */
  readonly encodedLogs: Log.EncodedLogWriter | undefined;
  /** Tokens and project settings, in the `access_records` table. */
  readonly access: AccessStore;

  /** Opens (creating if needed) the database at `path`, or `:memory:`. The parent directory must exist; `open` creates it. */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.#now = options.now;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.encodedLogs =
      path === ':memory:' || path === ''
        ? undefined
        : {
            newBatch: () => new SqliteLogBatch(),
            appendBatch: (batch) => this.#appendBatch(batch as SqliteLogBatch),
          };
    const db = guard(path, () => openConnection(path, this.#busyTimeoutMs));
    this.#db = db;
    try {
      guard(path, () => migrate(db, path));

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
        `SELECT row_key, project, flag_type, flag_name, RequestID, CreatedTimestamp, InstanceID,
                AssignedValue, AssignedGroup, CacheFlag, Reported
         FROM evaluation_log
         WHERE project = @project AND row_key >= @lo AND row_key < @hi
           AND (@flagType IS NULL OR flag_type = @flagType)
           AND (@flagName IS NULL OR flag_name = @flagName)
           AND CreatedTimestamp >= @since
         ORDER BY row_key LIMIT @limit`,
      );
      // One flag's rows: plain equalities (no "IS NULL OR"), so the time range is read from the flag index.
      this.#readFlagLogs = db.prepare<[Record<string, string | number>], LogRecord>(
        `SELECT row_key, project, flag_type, flag_name, RequestID, CreatedTimestamp, InstanceID,
                AssignedValue, AssignedGroup, CacheFlag, Reported
         FROM evaluation_log
         WHERE project = @project AND flag_type = @flagType AND flag_name = @flagName
           AND CreatedTimestamp >= @since AND row_key >= @lo AND row_key < @hi
         ORDER BY row_key LIMIT @limit`,
      );
      this.#lastLogTime = db
        .prepare<[string, string, string], string | null>(
          `SELECT max(CreatedTimestamp) FROM evaluation_log
           WHERE project = ? AND flag_type = ? AND flag_name = ?`,
        )
        .pluck();
      this.#ping = db.prepare<[], number>('SELECT 1').pluck();
      // Rows are only ever appended, so rowid order is append order: the rowid is the change marker.
      this.#lastRowId = db.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM flag_rows').pluck();
      this.#changesSince = db.prepare<[number], FlagRowRecord & { rowid: number }>(
        `SELECT rowid, ${ROW_COLUMNS} FROM flag_rows WHERE rowid > ? ORDER BY rowid LIMIT 1000`,
      );

      const getRecord = db
        .prepare<[AccessRecordKind, string], string>('SELECT fields FROM access_records WHERE kind = ? AND key = ?')
        .pluck();
      const putRecord = db.prepare<[AccessRecordKind, string, string]>(
        'INSERT OR REPLACE INTO access_records (kind, key, fields) VALUES (?, ?, ?)',
      );
      const deleteRecord = db.prepare<[AccessRecordKind, string]>(
        'DELETE FROM access_records WHERE kind = ? AND key = ?',
      );
      const listRecords = db.prepare<[AccessRecordKind, string], { key: string; json: string }>(
        'SELECT key, fields AS json FROM access_records WHERE kind = ? AND key >= ? ORDER BY key',
      );
      const insertRecord = db.prepare<[AccessRecordKind, string, string]>(
        'INSERT OR IGNORE INTO access_records (kind, key, fields) VALUES (?, ?, ?)',
      );
      const replaceRecord = db.prepare<[string, AccessRecordKind, string, string]>(
        'UPDATE access_records SET fields = ? WHERE kind = ? AND key = ? AND fields = ?',
      );
      this.access = new RecordAccessStore({
        get: async (kind, key) => this.#run(() => getRecord.get(kind, key)),
        put: async (kind, key, json) => {
          this.#run(() => putRecord.run(kind, key, json));
        },
        list: async (kind, from) => this.#run(() => listRecords.all(kind, from ?? '')),
        delete: async (kind, key) => this.#run(() => deleteRecord.run(kind, key).changes > 0),
        // One statement each: SQLite's write lock makes the comparison and the write one step, across processes too.
        replace: async (kind, key, expected, json) =>
          this.#run(() =>
            expected === null
              ? insertRecord.run(kind, key, json).changes > 0
              : replaceRecord.run(json, kind, key, expected).changes > 0,
          ),
      });

      this.#appendTx = db.transaction((rows: readonly Store.NewRow[]) => this.#appendInTx(rows));
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

  async append(rows: readonly Store.NewRow[]): Promise<Store.StoredRow[]> {
    // IMMEDIATE: take the write lock before reading the flags' last WTIMEs, so two
    // processes appending to one flag still get strictly increasing times.
    return this.#run(() => this.#appendTx.immediate(rows));
  }

  async latest(kind: RowKind, ref: FlagRef): Promise<Store.StoredRow | undefined> {
    return this.#run(() => {
      const record = this.#latest.get(refParams(kind, ref));
      return record && storedRowOf(record);
    });
  }

  async get(kind: RowKind, ref: FlagRef, wtime: string): Promise<Store.StoredRow | undefined> {
    return this.#run(() => {
      const record = this.#get.get(flagRowKey(kind, ref, wtime));
      // The key could in principle be shared by a ref holding `#`; compare the columns too.
      if (!record || record.kind !== kind || !sameRef(recordRef(record), ref)) return undefined;
      return storedRowOf(record);
    });
  }

  async history(kind: RowKind, ref: FlagRef, options: Store.HistoryOptions = {}): Promise<Store.StoredRow[]> {
    const limit = checkLimit(options.limit) ?? -1;
    return this.#run(() => this.#history.all({ ...refParams(kind, ref), limit }).map(storedRowOf));
  }

  async listFlags(project: string): Promise<Store.StoredRow[]> {
    return this.#run(() => this.#listFlags.all(project).map(storedRowOf));
  }

  async listProjects(): Promise<string[]> {
    return this.#run(() => this.#listProjects.all());
  }

  async scanProject(project: string): Promise<Store.StoredRow[]> {
    // The key range is exactly the project: project names hold no `#` (append checks).
    const lo = `PROJECT#${project}#`;
    return this.#run(() => this.#scan.all({ lo, hi: prefixEnd(lo) }).map(storedRowOf));
  }

  async appendLogs(entries: readonly Log.EvaluationLogEntry[]): Promise<void> {
    const batch = new SqliteLogBatch();
    for (const entry of entries) batch.add(entry);
    if (this.encodedLogs === undefined) {
      // `:memory:`: no second connection to hand it to, so the rows are written here, as the writer thread would.
      this.#run(() => this.#insertLogsTx(decodeLogRows(batch.encode())));
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

  async readLogs(query: Log.LogQuery): Promise<Log.EvaluationLogEntry[]> {
    const limit = checkLimit(query.limit) ?? -1;
    const since = checkSince(query.since) ?? '';
    const lo = logRowPrefix(query.project, query.flagType, query.flagType === undefined ? undefined : query.flagName);
    const { project, flagType, flagName } = query;
    return this.#run(() => {
      const records =
        flagType !== undefined && flagName !== undefined
          ? this.#readFlagLogs.all({ lo, hi: prefixEnd(lo), project, flagType, flagName, since, limit })
          : this.#readLogs.all({
              lo,
              hi: prefixEnd(lo),
              project,
              flagType: flagType ?? null,
              flagName: flagName ?? null,
              since,
              limit,
            });
      return records.map(logEntryOf);
    });
  }

  async lastLogTimes(project: string, flags: readonly Log.LogFlag[]): Promise<(string | undefined)[]> {
    // One index SEARCH per flag (max over the flag index's last column), all in this one call.
    return this.#run(() =>
      flags.map((flag) => this.#lastLogTime.get(project, flag.flagType, flag.flagName) ?? undefined),
    );
  }

  watch(
    listener: (changes: readonly Store.FlagChange[]) => void,
    options: Store.WatchOptions = {},
  ): Store.StopWatching {
    let cursor = this.#run(() => this.#lastRowId.get() ?? 0);
    return pollChanges(
      async () =>
        this.#run(() => {
          const records = this.#changesSince.all(cursor);
          const last = records[records.length - 1];
          if (last) cursor = last.rowid;
          return records.map((r): Store.FlagChange => ({ kind: r.kind, ref: recordRef(r), wtime: r.wtime }));
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

  #appendInTx(rows: readonly Store.NewRow[]): Store.StoredRow[] {
    const wtimes = new BatchWTimes(this.#now, (ref) =>
      lastWTimeOf(this.#latestWTime.get(refParams('FLAG', ref)), this.#latestWTime.get(refParams('REVISION', ref))),
    );
    // Inside the write lock: no other writer can store a row between this check and the inserts.
    rows.forEach(checkNewRow);
    for (const row of rows) {
      if (row.expectedLatest !== undefined)
        checkExpectedLatest(row, this.#latestWTime.get(refParams(row.kind, row.ref)) ?? undefined);
    }
    return rows.map((row, index) => {
      const { ref, kind } = row;
      const wtime = wtimes.next(ref);
      // Serialised here, inside the transaction: a row that cannot be stored rolls
      // back the rows before it.
      const fields = encodeFields(row, wtime, index);
      const record = flagRowRecord(kind, ref, wtime, flagRowKey(kind, ref, wtime), fields);
      this.#insert.run(record);
      return storedRowOf(record);
    });
  }

  #run<T>(fn: () => T): T {
    if (this.#closed) throw new UnavailableError(`the SQLite store ${this.path} is closed`);
    return guard(this.path, fn);
  }
}

function refParams(kind: RowKind, ref: FlagRef): RefParams {
  return { project: ref.project, kind, flagType: ref.flagType, name: ref.name };
}
