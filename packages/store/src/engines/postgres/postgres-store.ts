import { type FlagRef, flagRowKey, logRowKey, logRowPrefix, type RowKind, UnavailableError } from '@vexil/core';
import pg from 'pg';
import { RecordAccessStore } from '../../access/access-records.js';
import type { AccessStore } from '../../access-store.js';
import type * as Log from '../../evaluation-log-sink.js';
import type * as Store from '../../flag-store.js';
import {
  BatchWTimes,
  checkExpectedLatest,
  checkLimit,
  checkNewRow,
  checkSince,
  encodeFields,
  flagId,
  lastWTimeOf,
  prefixEnd,
} from '../../rows.js';
import { type FlagRowRecord, flagRowRecord, type LogRecord, logEntryOf, storedRowOf } from '../../sql-records.js';
import { redactUrl, toStoreError } from './postgres-errors.js';
import { LOCK_APPEND, migrate, POSTGRES_SCHEMA_VERSION } from './postgres-migrations.js';
import { CHANGE_CHANNEL, type ChangeMessage, changePayloads, PostgresWatch } from './postgres-watch.js';

export { POSTGRES_SCHEMA_VERSION };

export interface PostgresStoreOptions extends Store.StoreOptions {
  /** Connections in the pool (a watch opens one more of its own). 10 by default. */
  poolSize?: number;
  /** Server-side `statement_timeout` for every statement; a statement cut short rejects with TimeoutError. Unset: the server's. */
  statementTimeoutMs?: number;
  /** How long to wait for a connection before UnavailableError. 10,000 ms by default. */
  connectTimeoutMs?: number;
}

const ROW_COLUMNS = 'row_key, project, kind, flag_type, flag_name, wtime, fields::text AS fields';

const REF_MATCH = 'project = $1 AND kind = $2 AND flag_type = $3 AND flag_name = $4';

/** The newest row of a kind for a flag: one backward scan of vexil_flag_rows_by_flag, no sort. */
const LATEST_SQL = `SELECT ${ROW_COLUMNS} FROM vexil_flag_rows WHERE ${REF_MATCH} ORDER BY wtime DESC LIMIT 1`;

/**
 * The store for self-hosted fleets: PostgreSQL through a `pg.Pool`. Flag rows live in
 * `vexil_flag_rows`, evaluations in `vexil_evaluation_log`, both keyed by the runbook
 * system's row keys (compared byte by byte, COLLATE "C"); the schema is versioned in
 * `vexil_schema_migrations` and brought up to date by `open`. Changes are pushed with
 * LISTEN/NOTIFY (see postgres-watch.ts).
 */
export class PostgresStore implements Store.FlagStore, Log.EvaluationLogSink {
  readonly engine = 'postgres';
  readonly capabilities: Store.StoreCapabilities = { atomicBatch: true, changeFeed: 'push' };
  /** The database URL, without its password. */
  readonly url: string;

  readonly #pool: pg.Pool;
  readonly #clientConfig: pg.ClientConfig;
  readonly #now: (() => number) | undefined;
  readonly #watches = new Set<PostgresWatch>();
  /** Watches of this store still reading where they start from. */
  readonly #watchesStarting = new Set<Promise<void>>();
  #closed = false;
  /** Tokens, project settings and the features' records, in `vexil_access_records`. */
  readonly access: AccessStore = new RecordAccessStore({
    get: async (kind, key) => {
      const { rows } = await this.#query<{ fields: string }>(
        'SELECT fields::text AS fields FROM vexil_access_records WHERE kind = $1 AND key = $2',
        [kind, key],
      );
      return rows[0]?.fields;
    },
    put: async (kind, key, json) => {
      await this.#query(
        `INSERT INTO vexil_access_records (kind, key, fields) VALUES ($1, $2, $3::json)
         ON CONFLICT (kind, key) DO UPDATE SET fields = excluded.fields`,
        [kind, key, json],
      );
    },
    list: async (kind, from) => {
      const { rows } = await this.#query<{ key: string; json: string }>(
        'SELECT key, fields::text AS json FROM vexil_access_records WHERE kind = $1 AND key >= $2 ORDER BY key',
        [kind, from ?? ''],
      );
      return rows;
    },
    delete: async (kind, key) => {
      const { rowCount } = await this.#query('DELETE FROM vexil_access_records WHERE kind = $1 AND key = $2', [
        kind,
        key,
      ]);
      return (rowCount ?? 0) > 0;
    },
    // The column is json (not jsonb): its text is kept as written, so the comparison is of the text.
    replace: async (kind, key, expected, json) => {
      const { rowCount } =
        expected === null
          ? await this.#query(
              `INSERT INTO vexil_access_records (kind, key, fields) VALUES ($1, $2, $3::json)
               ON CONFLICT (kind, key) DO NOTHING`,
              [kind, key, json],
            )
          : await this.#query(
              'UPDATE vexil_access_records SET fields = $3::json WHERE kind = $1 AND key = $2 AND fields::text = $4',
              [kind, key, json, expected],
            );
      return (rowCount ?? 0) > 0;
    },
  });

  private constructor(url: string, pool: pg.Pool, clientConfig: pg.ClientConfig, options: PostgresStoreOptions) {
    this.url = url;
    this.#pool = pool;
    this.#clientConfig = clientConfig;
    this.#now = options.now;
  }

  /**
   * Connects to the database at `url` (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`)
   * and migrates its schema, refusing one newer than this code. Rejects with
   * UnavailableError when the database cannot be reached.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const where = redactUrl(url);
    const config: pg.ClientConfig = {
      connectionString: url,
      application_name: 'vexil',
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    };
    if (options.statementTimeoutMs !== undefined) config.statement_timeout = options.statementTimeoutMs;
    const pool = new pg.Pool({ ...config, max: options.poolSize ?? 10 });
    // An idle pooled connection that breaks is dropped by the pool; the next query reports the error.
    pool.on('error', () => {});
    try {
      const client = await pool.connect();
      try {
        await migrate(client, where);
        client.release();
      } catch (error) {
        client.release(true);
        throw error;
      }
    } catch (error) {
      await pool.end().catch(() => {});
      throw toStoreError(error, where);
    }
    return new PostgresStore(where, pool, { ...config, application_name: 'vexil-watch' }, options);
  }

  async append(rows: readonly Store.NewRow[]): Promise<Store.StoredRow[]> {
    this.#checkOpen();
    rows.forEach(checkNewRow);
    if (rows.length === 0) return [];
    // A watch of this store started before this call sees these rows: its starting
    // point is read first. (Between processes, a watch sees the rows committed after
    // its first query reaches the database.)
    if (this.#watchesStarting.size > 0) await Promise.all(this.#watchesStarting);
    const flags = new Map<string, FlagRef>();
    for (const row of rows) flags.set(flagId(row.ref), row.ref);
    const refs = [...flags.values()];

    return this.#transaction(async (client) => {
      // One append at a time, from every process: WTIMEs stay strictly increasing per
      // flag, and seqs are taken (and notified) in commit order, which the change
      // feed's cursor relies on (postgres-watch.ts). Held until commit.
      await client.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_APPEND]);
      // The last WTIME of each flag, across both kinds: two backward index scans each.
      const { rows: lasts } = await client.query<{ last: string | null }>(
        `SELECT greatest(
           (SELECT max(f.wtime) FROM vexil_flag_rows AS f
            WHERE f.project = r.project AND f.kind = 'FLAG' AND f.flag_type = r.flag_type AND f.flag_name = r.flag_name),
           (SELECT max(f.wtime) FROM vexil_flag_rows AS f
            WHERE f.project = r.project AND f.kind = 'REVISION' AND f.flag_type = r.flag_type AND f.flag_name = r.flag_name)
         ) AS last
         FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS r(project, flag_type, flag_name, i)
         ORDER BY r.i`,
        [refs.map((r) => r.project), refs.map((r) => r.flagType), refs.map((r) => r.name)],
      );
      // Under the append lock: no row can be stored between this check and the insert.
      for (const row of rows) {
        if (row.expectedLatest === undefined) continue;
        const { rows: newest } = await client.query<{ wtime: string | null }>(
          `SELECT max(wtime) AS wtime FROM vexil_flag_rows
           WHERE project = $1 AND kind = $2 AND flag_type = $3 AND flag_name = $4`,
          [row.ref.project, row.kind, row.ref.flagType, row.ref.name],
        );
        checkExpectedLatest(row, newest[0]?.wtime ?? undefined);
      }
      const stored = new Map(refs.map((ref, i) => [flagId(ref), lastWTimeOf(lasts[i]?.last ?? undefined)]));
      const wtimes = new BatchWTimes(this.#now, (ref) => stored.get(flagId(ref)));

      const records: FlagRowRecord[] = rows.map((row, index) => {
        const { ref, kind } = row;
        const wtime = wtimes.next(ref);
        // A row that cannot be encoded fails the batch before anything is written.
        const fields = encodeFields(row, wtime, index);
        return flagRowRecord(kind, ref, wtime, flagRowKey(kind, ref, wtime), fields);
      });

      const { rows: inserted } = await client.query<{ row_key: string; seq: string }>(
        `INSERT INTO vexil_flag_rows (row_key, project, kind, flag_type, flag_name, wtime, fields)
         SELECT r.row_key, r.project, r.kind, r.flag_type, r.flag_name, r.wtime, r.fields::json
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
              WITH ORDINALITY AS r(row_key, project, kind, flag_type, flag_name, wtime, fields, i)
         ORDER BY r.i
         RETURNING row_key, seq::text AS seq`,
        [
          records.map((r) => r.row_key),
          records.map((r) => r.project),
          records.map((r) => r.kind),
          records.map((r) => r.flag_type),
          records.map((r) => r.flag_name),
          records.map((r) => r.wtime),
          records.map((r) => r.fields),
        ],
      );
      const seqs = new Map(inserted.map((r) => [r.row_key, Number(r.seq)]));

      // Delivered to listeners at commit, and only if it commits.
      const changes = records.map(
        (r): ChangeMessage => ({
          seq: seqs.get(r.row_key) ?? 0,
          kind: r.kind,
          project: r.project,
          flagType: r.flag_type,
          name: r.flag_name,
          wtime: r.wtime,
        }),
      );
      await client.query('SELECT count(pg_notify($1, p)) FROM unnest($2::text[]) AS p', [
        CHANGE_CHANNEL,
        changePayloads(changes),
      ]);
      return records.map(storedRowOf);
    });
  }

  async latest(kind: RowKind, ref: FlagRef): Promise<Store.StoredRow | undefined> {
    const { rows } = await this.#query<FlagRowRecord>(LATEST_SQL, refParams(kind, ref));
    return rows[0] && storedRowOf(rows[0]);
  }

  async get(kind: RowKind, ref: FlagRef, wtime: string): Promise<Store.StoredRow | undefined> {
    const { rows } = await this.#query<FlagRowRecord>(
      `SELECT ${ROW_COLUMNS} FROM vexil_flag_rows WHERE row_key = $5 AND ${REF_MATCH}`,
      [...refParams(kind, ref), flagRowKey(kind, ref, wtime)],
    );
    return rows[0] && storedRowOf(rows[0]);
  }

  async history(kind: RowKind, ref: FlagRef, options: Store.HistoryOptions = {}): Promise<Store.StoredRow[]> {
    const limit = checkLimit(options.limit) ?? null;
    const { rows } = await this.#query<FlagRowRecord>(
      `SELECT ${ROW_COLUMNS} FROM vexil_flag_rows WHERE ${REF_MATCH} ORDER BY wtime DESC LIMIT $5`,
      [...refParams(kind, ref), limit],
    );
    return rows.map(storedRowOf);
  }

  async listFlags(project: string): Promise<Store.StoredRow[]> {
    // Read backwards along vexil_flag_rows_by_flag, so the first row of each flag is
    // its newest and no sort is needed; then put it in type, name order.
    const { rows } = await this.#query<FlagRowRecord>(
      `SELECT DISTINCT ON (flag_type, flag_name) ${ROW_COLUMNS} FROM vexil_flag_rows
       WHERE project = $1 AND kind = 'FLAG'
       ORDER BY flag_type DESC, flag_name DESC, wtime DESC`,
      [project],
    );
    return rows.map(storedRowOf).reverse();
  }

  async listProjects(): Promise<string[]> {
    const { rows } = await this.#query<{ project: string }>(
      `SELECT DISTINCT project FROM vexil_flag_rows WHERE kind = 'FLAG' ORDER BY project`,
      [],
    );
    return rows.map((row) => row.project);
  }

  async scanProject(project: string): Promise<Store.StoredRow[]> {
    // The key range is exactly the project: project names hold no `#` (append checks).
    const lo = `PROJECT#${project}#`;
    const { rows } = await this.#query<FlagRowRecord>(
      `SELECT ${ROW_COLUMNS} FROM vexil_flag_rows WHERE row_key >= $1 AND row_key < $2 ORDER BY row_key`,
      [lo, prefixEnd(lo)],
    );
    return rows.map(storedRowOf);
  }

  async appendLogs(entries: readonly Log.EvaluationLogEntry[]): Promise<void> {
    this.#checkOpen();
    if (entries.length === 0) return;
    // One row per key, the last entry winning, as a Bigtable write of the same cells would.
    const byKey = new Map<string, Log.EvaluationLogEntry>();
    for (const entry of entries) byKey.set(logRowKey(entry), entry);
    const list = [...byKey.values()];
    await this.#query(
      `INSERT INTO vexil_evaluation_log AS l
         (row_key, project, flag_type, flag_name, "RequestID", "Name", "CreatedTimestamp", "Type", "InstanceID",
          "AssignedValue", "AssignedGroup", "CacheFlag", "Reported")
       SELECT r.row_key, r.project, r.flag_type, r.flag_name, r.request_id, r.flag_name, r.created, r.flag_type,
              r.instance_id, r.assigned_value::json, r.assigned_group, r.cache_flag, r.reported
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::text[], $9::text[], $10::boolean[], $11::boolean[])
            AS r(row_key, project, flag_type, flag_name, request_id, created, instance_id,
                 assigned_value, assigned_group, cache_flag, reported)
       ON CONFLICT (row_key) DO UPDATE SET
         "RequestID" = excluded."RequestID", "CreatedTimestamp" = excluded."CreatedTimestamp",
         "InstanceID" = excluded."InstanceID", "AssignedValue" = excluded."AssignedValue",
         "AssignedGroup" = excluded."AssignedGroup", "CacheFlag" = excluded."CacheFlag",
         "Reported" = excluded."Reported"`,
      [
        [...byKey.keys()],
        list.map((e) => e.project),
        list.map((e) => e.flagType),
        list.map((e) => e.flagName),
        // Ids may hold any character, but PostgreSQL text cannot hold U+0000; the row key
        // keeps every id exactly (percent-encoded), and readLogs reads them from there.
        list.map((e) => withoutNul(e.requestId)),
        list.map((e) => e.time),
        list.map((e) => withoutNul(e.instanceId)),
        list.map((e) => JSON.stringify(e.value)),
        list.map((e) => e.group),
        list.map((e) => e.cacheHit),
        list.map((e) => e.reported === true),
      ],
    );
  }

  async readLogs(query: Log.LogQuery): Promise<Log.EvaluationLogEntry[]> {
    const limit = checkLimit(query.limit) ?? null;
    const since = checkSince(query.since) ?? '';
    const lo = logRowPrefix(query.project, query.flagType, query.flagType === undefined ? undefined : query.flagName);
    if (query.flagType !== undefined && query.flagName !== undefined) {
      // One flag: plain equalities, so its rows since `since` are a range of the flag-time index.
      const { rows } = await this.#query<LogRecord>(
        `SELECT row_key, project, flag_type, flag_name, "RequestID", "InstanceID", "CreatedTimestamp",
                "AssignedValue"::text AS "AssignedValue", "AssignedGroup", "CacheFlag", "Reported"
         FROM vexil_evaluation_log
         WHERE project = $1 AND flag_type = $2 AND flag_name = $3 AND ("CreatedTimestamp" COLLATE "C") >= $4
           AND row_key >= $5 AND row_key < $6
         ORDER BY row_key LIMIT $7`,
        [query.project, query.flagType, query.flagName, since, lo, prefixEnd(lo), limit],
      );
      return rows.map(logEntryOf);
    }
    const { rows } = await this.#query<LogRecord>(
      `SELECT row_key, project, flag_type, flag_name, "RequestID", "InstanceID", "CreatedTimestamp",
              "AssignedValue"::text AS "AssignedValue", "AssignedGroup", "CacheFlag", "Reported"
       FROM vexil_evaluation_log
       WHERE row_key >= $1 AND row_key < $2 AND project = $3
         AND ($4::text IS NULL OR flag_type = $4) AND ($5::text IS NULL OR flag_name = $5)
         AND ("CreatedTimestamp" COLLATE "C") >= $7
       ORDER BY row_key LIMIT $6`,
      [lo, prefixEnd(lo), query.project, query.flagType ?? null, query.flagName ?? null, limit, since],
    );
    return rows.map(logEntryOf);
  }

  async lastLogTimes(project: string, flags: readonly Log.LogFlag[]): Promise<(string | undefined)[]> {
    if (flags.length === 0) return [];
    // One round trip; each flag's newest time is one lookup at the end of its stretch of the flag-time index.
    const { rows } = await this.#query<{ time: string | null }>(
      `SELECT (SELECT max("CreatedTimestamp" COLLATE "C") FROM vexil_evaluation_log AS l
               WHERE l.project = $1 AND l.flag_type = f.flag_type AND l.flag_name = f.flag_name) AS time
       FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS f(flag_type, flag_name, n)
       ORDER BY f.n`,
      [project, flags.map((flag) => flag.flagType), flags.map((flag) => flag.flagName)],
    );
    return rows.map((row) => row.time ?? undefined);
  }

  /**
   * Pushes changes as they commit (LISTEN on a connection of the watch's own). After a
   * lost connection it reconnects with backoff (each failure reported to
   * `options.onError` as UnavailableError) and delivers the rows appended meanwhile.
   * It starts from the rows committed after its first query reaches the database;
   * this store's own `append` calls made after `watch` are always included.
   */
  watch(
    listener: (changes: readonly Store.FlagChange[]) => void,
    options: Store.WatchOptions = {},
  ): Store.StopWatching {
    this.#checkOpen();
    const watch: PostgresWatch = new PostgresWatch(
      {
        clientConfig: this.#clientConfig,
        withPooledClient: async (fn) => {
          const client = await this.#pool.connect();
          try {
            const result = await fn(client);
            client.release();
            return result;
          } catch (error) {
            client.release(true);
            throw error;
          }
        },
        toError: (error) => toStoreError(error, this.url),
        onStopped: () => this.#watches.delete(watch),
      },
      listener,
      options,
    );
    this.#watches.add(watch);
    this.#watchesStarting.add(watch.started);
    void watch.started.then(() => this.#watchesStarting.delete(watch.started));
    return watch.stop;
  }

  async ping(): Promise<void> {
    await this.#query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#watches].map((watch) => watch.stop()));
    await this.#pool.end().catch(() => {});
  }

  /** The schema version recorded in the database. */
  async schemaVersion(): Promise<number> {
    const { rows } = await this.#query<{ version: number }>(
      'SELECT coalesce(max(version), 0)::integer AS version FROM vexil_schema_migrations',
    );
    return rows[0]?.version ?? 0;
  }

  /**
   * The plan (EXPLAIN, costs off) of the query `latest` runs: the check that reading
   * the newest row is an index scan with no sort, whatever the history.
   */
  async explainLatest(kind: RowKind, ref: FlagRef): Promise<string[]> {
    const { rows } = await this.#query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (COSTS OFF) ${LATEST_SQL}`,
      refParams(kind, ref),
    );
    return rows.map((row) => row['QUERY PLAN']);
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    this.#checkOpen();
    try {
      return await this.#pool.query<R>(sql, params);
    } catch (error) {
      throw toStoreError(error, this.url);
    }
  }

  async #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw toStoreError(error, this.url);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw toStoreError(error, this.url);
    } finally {
      client.release(broken);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new UnavailableError(`the PostgreSQL store ${this.url} is closed`);
  }
}

function refParams(kind: RowKind, ref: FlagRef): unknown[] {
  return [ref.project, kind, ref.flagType, ref.name];
}

function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD');
}
