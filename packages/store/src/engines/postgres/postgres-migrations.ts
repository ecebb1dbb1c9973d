import { UnavailableError } from '@vexil/core';
import type pg from 'pg';

/**
 * The PostgreSQL schema, as numbered migrations. Migration `n` (1-based) takes a
 * database from version n - 1 to n; each applied version is a row of
 * `vexil_schema_migrations`. Append new ones; never edit a released one.
 * Internal to the package.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  // 1: flag rows and the evaluation log, keyed by the runbook system's row keys.
  `
  CREATE TABLE vexil_flag_rows (
    -- Append order: the change feed's cursor (see PostgresStore.watch).
    seq       bigint GENERATED ALWAYS AS IDENTITY,
    -- Key and key parts compare byte by byte (COLLATE "C"), as in SQLite and Bigtable,
    -- whatever the database's default collation.
    row_key   text COLLATE "C" NOT NULL PRIMARY KEY,
    project   text COLLATE "C" NOT NULL,
    kind      text COLLATE "C" NOT NULL CHECK (kind IN ('FLAG', 'REVISION')),
    flag_type text COLLATE "C" NOT NULL,
    flag_name text COLLATE "C" NOT NULL,
    wtime     text COLLATE "C" NOT NULL,
    -- json, not jsonb: the columns come back exactly as written (key order, number
    -- text, and strings jsonb refuses, such as ones holding U+0000).
    fields    json NOT NULL
  );
  -- The flag's rows of one kind in time order: the newest is one backward index scan
  -- (no sort) whatever the history, and appends find a flag's last WTIME the same way.
  CREATE UNIQUE INDEX vexil_flag_rows_by_flag ON vexil_flag_rows (project, kind, flag_type, flag_name, wtime);
  CREATE UNIQUE INDEX vexil_flag_rows_by_seq ON vexil_flag_rows (seq);

  CREATE TABLE vexil_evaluation_log (
    row_key            text COLLATE "C" NOT NULL PRIMARY KEY,
    project            text COLLATE "C" NOT NULL,
    flag_type          text COLLATE "C" NOT NULL,
    flag_name          text COLLATE "C" NOT NULL,
    "RequestID"        text NOT NULL,
    "Name"             text NOT NULL,
    "CreatedTimestamp" text NOT NULL,
    "Type"             text NOT NULL,
    "InstanceID"       text NOT NULL,
    "AssignedValue"    json NOT NULL,
    "AssignedGroup"    text NOT NULL,
    "CacheFlag"        boolean NOT NULL
  );
  `,
  // 2: Vexil's own column beside the runbook's: true for an evaluation a client
  // reported (POST /sdk/v1/evaluations), false for one the service served.
  `
  ALTER TABLE vexil_evaluation_log ADD COLUMN "Reported" boolean NOT NULL DEFAULT false;
  `,
  // 3: who may do what (API tokens by hash, project settings, token and settings
  // changes), apart from the runbook system's rows.
  `
  CREATE TABLE vexil_access_records (
    kind   text COLLATE "C" NOT NULL CHECK (kind IN ('token', 'project', 'event')),
    key    text COLLATE "C" NOT NULL,
    fields json NOT NULL,
    PRIMARY KEY (kind, key)
  );
  `,
  // 4: a flag's log rows by time: its last evaluation is one index lookup (max), and
  // its rows since a time a range of the index. Byte order (COLLATE "C"), as the key.
  `
  CREATE INDEX vexil_evaluation_log_by_flag_time
    ON vexil_evaluation_log (project, flag_type, flag_name, ("CreatedTimestamp" COLLATE "C"));
  `,
  // 5: records of other kinds beside tokens, settings and events (webhooks, their
  // deliveries, …): the kind is checked by the code (access-store.ts RECORD_KINDS), so a
  // new kind needs no migration.
  `
  ALTER TABLE vexil_access_records DROP CONSTRAINT vexil_access_records_kind_check;
  ALTER TABLE vexil_access_records ADD CONSTRAINT vexil_access_records_kind_named CHECK (kind <> '');
  `,
];

/** The schema version this code writes. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;

/** Advisory lock classes (the first key of the two-key form), so Vexil's locks stay apart from other programs'. */
export const LOCK_MIGRATE = 0x56_58_00_01; // "VX" 0001
export const LOCK_APPEND = 0x56_58_00_02;

/**
 * Brings the database to POSTGRES_SCHEMA_VERSION, in one transaction under an
 * advisory lock: two processes starting at once apply each migration once, the
 * second waiting for the first. Refuses a database whose schema is newer than this
 * code. Returns the version found before migrating.
 */
export async function migrate(client: pg.ClientBase, where: string): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_MIGRATE]);
    // Looked up before creating: a database already current needs no CREATE privilege,
    // so the service may run as a user that can only read and write rows.
    const { rows: existing } = await client.query<{ present: boolean }>(
      "SELECT to_regclass('vexil_schema_migrations') IS NOT NULL AS present",
    );
    if (existing[0]?.present !== true) {
      await client.query(
        `CREATE TABLE vexil_schema_migrations (
           version    integer PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
    }
    const { rows } = await client.query<{ version: number }>(
      'SELECT coalesce(max(version), 0)::integer AS version FROM vexil_schema_migrations',
    );
    const found = rows[0]?.version ?? 0;
    if (found > POSTGRES_SCHEMA_VERSION) {
      throw new UnavailableError(
        `PostgreSQL store ${where} has schema version ${found}, newer than this Vexil understands (${POSTGRES_SCHEMA_VERSION})`,
        { hint: 'upgrade Vexil to the version that wrote this database, or point VEXIL_STORE at another database' },
      );
    }
    for (let version = found + 1; version <= POSTGRES_SCHEMA_VERSION; version++) {
      await client.query(POSTGRES_MIGRATIONS[version - 1]!);
      await client.query('INSERT INTO vexil_schema_migrations (version) VALUES ($1)', [version]);
    }
    await client.query('COMMIT');
    return found;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
