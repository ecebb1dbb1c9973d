import { UnavailableError } from '@vexil/core';
import Database from 'better-sqlite3';

/**
 * The SQLite file's schema, its migrations, and how every connection to it is set
 * up: the store's and the log writer thread's. Internal to the package.
 */

/** The schema version this code writes, kept in `PRAGMA user_version`. */
export const SQLITE_SCHEMA_VERSION = 6;

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
  // random instance id), every insert landed on a random page, several times the cost
  // of an append, with long checkpoint stalls under load. Appended in rowid order, the
  // rare readLogs sorts by row key instead.
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
  // 3: Vexil's own column beside the runbook's: 1 for an evaluation a client reported
  // (POST /sdk/v1/evaluations), 0 for one the service served.
  `
  ALTER TABLE evaluation_log ADD COLUMN Reported INTEGER NOT NULL DEFAULT 0;
  `,
  // 4: who may do what (API tokens by hash, project settings, token and settings
  // changes), apart from the runbook system's rows.
  `
  CREATE TABLE access_records (
    kind   TEXT NOT NULL CHECK (kind IN ('token', 'project', 'event')),
    key    TEXT NOT NULL,
    fields TEXT NOT NULL CHECK (json_valid(fields)),
    PRIMARY KEY (kind, key)
  ) WITHOUT ROWID;
  `,
  // 5: the log's flag index ends with the time: a flag's last evaluation is one index
  // SEARCH (max), and a flag's rows since a time a range of it. It replaces the flag
  // index, so a logged evaluation still updates one index.
  `
  DROP INDEX evaluation_log_by_flag;
  CREATE INDEX evaluation_log_by_flag_time ON evaluation_log (project, flag_type, flag_name, CreatedTimestamp);
  `,
  // 6: records of other kinds beside tokens, settings and events (webhooks, their
  // deliveries, …): the kind is checked by the code (access-store.ts RECORD_KINDS), so a
  // new kind needs no migration. SQLite cannot drop a CHECK: the table is rebuilt.
  `
  CREATE TABLE access_records_6 (
    kind   TEXT NOT NULL CHECK (kind <> ''),
    key    TEXT NOT NULL,
    fields TEXT NOT NULL CHECK (json_valid(fields)),
    PRIMARY KEY (kind, key)
  ) WITHOUT ROWID;
  INSERT INTO access_records_6 (kind, key, fields) SELECT kind, key, fields FROM access_records;
  DROP TABLE access_records;
  ALTER TABLE access_records_6 RENAME TO access_records;
  `,
];

/**
 * A connection as the store and its log writer thread both want it: WAL, so readers
 * never wait for the writer, with NORMAL sync (a commit survives the process, not
 * necessarily a power cut: SQLite's own advice for WAL).
 */
export function openConnection(path: string, busyTimeoutMs: number): Database.Database {
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Brings the schema up to SQLITE_SCHEMA_VERSION, refusing a newer one. */
export function migrate(db: Database.Database, path: string): void {
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
