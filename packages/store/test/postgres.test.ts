import { type FlagRef, formatWTime, parseWTime, TimeoutError, UnavailableError } from '@vexil/core';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_SCHEMA_VERSION, PostgresStore } from '../src/engines/postgres/postgres-store.js';
import type { FlagChange, FlagStore, NewRow } from '../src/index.js';
import { type PostgresServer, startPostgres } from '../src/testing/postgres-server.js';
import { describeStoreConformance } from './conformance.js';
import { flag, interleavedHistory, LOG_COLUMNS, revision } from './test-rows.js';
import { until } from './wait.js';

const T0 = Date.UTC(2024, 8, 25, 18, 42, 51, 493) * 1000;

// One throwaway server for the file; every test gets a database of its own.
let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  await server?.stop();
});

let databases = 0;

async function freshDatabase(): Promise<{ url: string; name: string }> {
  const name = `vexil_pg_test_${++databases}`;
  return { url: await server.createDatabase(name), name };
}

describeStoreConformance('PostgresStore', async (options) => {
  const { url, name } = await freshDatabase();
  const store = await PostgresStore.open(url, options);
  return {
    store,
    openPeer: () => PostgresStore.open(url),
    breakWritesOf: async (row) => {
      // A trigger that refuses the row's flag: the INSERT fails inside the append's transaction.
      await server.query(
        `CREATE FUNCTION vexil_test_refuse() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'refused by a test trigger'; END $$;
         CREATE TRIGGER vexil_test_refuse BEFORE INSERT ON vexil_flag_rows FOR EACH ROW
           WHEN (NEW.flag_name = '${row.ref.name}') EXECUTE FUNCTION vexil_test_refuse();`,
        [],
        name,
      );
      return row;
    },
  };
});

function feature(name: string, project = 'p'): FlagRef {
  return { project, flagType: 'feature', name };
}

function asChanges(rows: readonly { kind: FlagChange['kind']; ref: FlagRef; wtime: string }[]): FlagChange[] {
  return rows.map((row) => ({ kind: row.kind, ref: row.ref, wtime: row.wtime }));
}

describe('PostgresStore', () => {
  const toClose: FlagStore[] = [];

  afterEach(async () => {
    for (const store of toClose.splice(0)) await store.close();
  });

  async function open(url: string, options: Parameters<typeof PostgresStore.open>[1] = {}): Promise<PostgresStore> {
    const store = await PostgresStore.open(url, options);
    toClose.push(store);
    return store;
  }

  describe('reading the latest row', () => {
    it('is the same backward index scan, with no sort, for 1 and for 10,000 revisions', async () => {
      const { url, name } = await freshDatabase();
      let now = T0;
      const store = await open(url, { now: () => now });
      const busy = feature('busy');
      const other = feature('busy_other');

      await store.append([revision(busy, 'first'), flag(busy)]);
      const withOne = await store.explainLatest('REVISION', busy);
      const flagPlan = await store.explainLatest('FLAG', busy);

      for (const batch of interleavedHistory(busy, other, 10_000, 2000)) {
        await store.append(batch);
        now += 100;
      }
      expect(await store.history('REVISION', busy)).toHaveLength(10_000);
      const withMany = await store.explainLatest('REVISION', busy);
      // With fresh statistics too, as autovacuum would leave them.
      await server.query('ANALYZE vexil_flag_rows', [], name);
      const analyzed = await store.explainLatest('REVISION', busy);

      expect(withMany).toEqual(withOne);
      expect(analyzed).toEqual(withOne);
      expect(await store.explainLatest('FLAG', busy)).toEqual(flagPlan);
      for (const plan of [withOne, flagPlan]) {
        const text = plan.join('\n');
        expect(text).toMatch(/^Limit\n\s*->\s+Index Scan Backward using vexil_flag_rows_by_flag on vexil_flag_rows/);
        expect(text).not.toMatch(/Sort|Seq Scan|Bitmap/);
      }
      expect((await store.latest('REVISION', busy))?.fields.Comment).toBe('r9999');
    });
  });

  describe('schema migrations', () => {
    it('brings a fresh database to the current version, with byte-ordered keys', async () => {
      const { url, name } = await freshDatabase();
      const store = await open(url);
      expect(await store.schemaVersion()).toBe(POSTGRES_SCHEMA_VERSION);
      const versions = await server.query<{ version: number; applied_at: Date }>(
        'SELECT version, applied_at FROM vexil_schema_migrations ORDER BY version',
        [],
        name,
      );
      expect(versions.map((v) => v.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1));
      expect(versions.every((v) => v.applied_at instanceof Date)).toBe(true);

      const columns = await server.query<{ table_name: string; column_name: string; collation_name: string | null }>(
        `SELECT table_name, column_name, collation_name FROM information_schema.columns
         WHERE table_name IN ('vexil_flag_rows', 'vexil_evaluation_log') ORDER BY table_name, ordinal_position`,
        [],
        name,
      );
      const of = (table: string) => columns.filter((c) => c.table_name === table).map((c) => c.column_name);
      expect(of('vexil_flag_rows')).toEqual([
        'seq',
        'row_key',
        'project',
        'kind',
        'flag_type',
        'flag_name',
        'wtime',
        'fields',
      ]);
      // The runbook's log columns unchanged, then Vexil's own Reported.
      expect(of('vexil_evaluation_log')).toEqual([
        'row_key',
        'project',
        'flag_type',
        'flag_name',
        ...LOG_COLUMNS,
        'Reported',
      ]);
      for (const column of columns) {
        if (['row_key', 'project', 'kind', 'flag_type', 'flag_name', 'wtime'].includes(column.column_name)) {
          expect(column.collation_name, `${column.table_name}.${column.column_name}`).toBe('C');
        }
      }
    });

    it('is safe to open twice, and from several stores at once', async () => {
      const { url, name } = await freshDatabase();
      const stores = await Promise.all([open(url), open(url), open(url), open(url)]);
      const again = await open(url);
      const rows = await server.query<{ version: number; n: string }>(
        'SELECT version, count(*) AS n FROM vexil_schema_migrations GROUP BY version ORDER BY version',
        [],
        name,
      );
      expect(rows.map((r) => [r.version, Number(r.n)])).toEqual(
        Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => [i + 1, 1]),
      );
      const [written] = await stores[0]!.append([flag(feature('shared'))]);
      for (const store of [...stores, again])
        expect(await store.latest('FLAG', feature('shared'))).toStrictEqual(written);
    });

    it('opens a current database as a user that may only read and write rows', async () => {
      const { url, name } = await freshDatabase();
      await (await open(url)).close();
      const role = `vexil_app_${name}`;
      await server.query(`CREATE ROLE ${role} LOGIN`);
      await server.query(
        `GRANT SELECT, INSERT, UPDATE ON vexil_flag_rows, vexil_evaluation_log, vexil_schema_migrations TO ${role}`,
        [],
        name,
      );
      const appUrl = new URL(url);
      appUrl.username = role;
      const store = await open(appUrl.toString());
      const seen: FlagChange[] = [];
      const stop = store.watch((changes) => seen.push(...changes));
      const rows = await store.append([flag(feature('least_privilege'))]);
      await until(() => seen.length === 1, 'the change', 10_000);
      await stop();
      expect(seen).toEqual(asChanges(rows));
      await store.appendLogs([
        {
          project: 'p',
          flagType: 'feature',
          flagName: 'least_privilege',
          instanceId: 'i',
          requestId: 'r',
          time: formatWTime(T0),
          value: true,
          group: 'control',
          cacheHit: true,
        },
      ]);
      expect(await store.readLogs({ project: 'p' })).toHaveLength(1);
    });

    it('refuses a database whose schema is newer than this code', async () => {
      const { url, name } = await freshDatabase();
      await (await open(url)).close();
      await server.query(
        'INSERT INTO vexil_schema_migrations (version) VALUES ($1)',
        [POSTGRES_SCHEMA_VERSION + 1],
        name,
      );
      const error = await PostgresStore.open(url).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as UnavailableError).message).toContain(`schema version ${POSTGRES_SCHEMA_VERSION + 1}`);
      expect((error as UnavailableError).hint).toMatch(/upgrade Vexil/);
      // Nothing was changed or left half-done.
      const versions = await server.query<{ version: number }>(
        'SELECT version FROM vexil_schema_migrations ORDER BY version',
        [],
        name,
      );
      expect(versions.at(-1)?.version).toBe(POSTGRES_SCHEMA_VERSION + 1);
    });
  });

  describe('change feed', () => {
    it('pushes a change written by another PostgresStore to a watcher', async () => {
      const { url } = await freshDatabase();
      const store = await open(url);
      expect(store.capabilities.changeFeed).toBe('push');
      const seen: FlagChange[] = [];
      const errors: unknown[] = [];
      const stop = store.watch((changes) => seen.push(...changes), { onError: (e) => errors.push(e) });
      const writer = await open(url);
      const rows = await writer.append([flag(feature('pushed')), revision(feature('pushed'), 'one')]);
      await until(() => seen.length >= 2, 'the pushed changes', 10_000);
      await stop();
      expect(seen).toEqual(asChanges(rows));
      expect(errors).toEqual([]);
    });

    it('includes rows the same store appends right after watch is called', async () => {
      const { url } = await freshDatabase();
      const store = await open(url);
      await store.append([flag(feature('earlier'))]);
      const seen: FlagChange[] = [];
      const stop = store.watch((changes) => seen.push(...changes));
      const rows = await store.append([revision(feature('right_after'), 'one')]);
      await until(() => seen.length >= 1, 'the change', 10_000);
      await stop();
      expect(seen).toEqual(asChanges(rows));
    });

    it('delivers every row of a large batch once, in order', async () => {
      const { url } = await freshDatabase();
      const store = await open(url);
      const seen: FlagChange[] = [];
      const stop = store.watch((changes) => seen.push(...changes));
      const writer = await open(url, { now: () => T0 });
      // Several notifications' worth (payloads are limited to 8000 bytes).
      const batch: NewRow[] = [];
      for (let i = 0; i < 300; i++) batch.push(revision(feature(`flag_${i % 7}`), `r${i}`));
      const rows = await writer.append(batch);
      await until(() => seen.length >= rows.length, 'the batch', 10_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await stop();
      expect(seen).toEqual(asChanges(rows));
    });

    it('recovers after its listening connection is killed, and delivers the changes made meanwhile', async () => {
      const { url, name } = await freshDatabase();
      // The watcher logs in as a role of its own, so the test can keep it out for a while.
      const role = `vexil_watcher_${name}`;
      await server.query(`CREATE ROLE ${role} LOGIN SUPERUSER`);
      const watcherUrl = new URL(url);
      watcherUrl.username = role;
      const watcher = await open(watcherUrl.toString());

      const seen: FlagChange[] = [];
      const errors: unknown[] = [];
      const stop = watcher.watch((changes) => seen.push(...changes), { onError: (e) => errors.push(e) });
      const writer = await open(url);
      const before = await writer.append([flag(feature('before'))]);
      await until(() => seen.length === 1, 'the first change', 10_000);

      const listeners = () =>
        server.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'vexil-watch'`,
          [name],
        );
      expect(await listeners()).toHaveLength(1);
      await server.query(`ALTER ROLE ${role} NOLOGIN`);
      await server.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'vexil-watch'`,
        [name],
      );
      // The loss, then at least one reconnection refused.
      await until(() => errors.length >= 2, 'the connection loss and a failed reconnection', 10_000);
      expect(await listeners()).toHaveLength(0);

      // Enough rows for seqs of one and two digits.
      const during = await writer.append([
        flag(feature('during')),
        ...Array.from({ length: 24 }, (_, i) => revision(feature(`during_${i % 5}`), `r${i}`)),
      ]);
      const alsoDuring = await writer.append([revision(feature('before'), 'two')]);
      expect(seen).toHaveLength(1);

      await server.query(`ALTER ROLE ${role} LOGIN`);
      await until(() => seen.length >= 27, 'the changes made during the outage', 10_000);
      expect(await listeners()).toHaveLength(1);

      // Live again: a change after the recovery is pushed as usual.
      const after = await writer.append([revision(feature('after'), 'one')]);
      await until(() => seen.length >= 28, 'a change after the recovery', 10_000);
      await stop();

      expect(seen).toEqual(asChanges([...before, ...during, ...alsoDuring, ...after]));
      expect(errors.length).toBeGreaterThanOrEqual(2);
      for (const error of errors) {
        expect(error).toBeInstanceOf(UnavailableError);
        expect((error as UnavailableError).hint).toContain('VEXIL_STORE');
      }
      expect(await listeners()).toHaveLength(0);
    });

    it('ends its connections, listening ones included, on close', async () => {
      const { url, name } = await freshDatabase();
      const store = await PostgresStore.open(url);
      store.watch(() => {});
      store.watch(() => {});
      const connections = async (application: string) =>
        Number(
          (
            await server.query<{ n: string }>(
              'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
              [name, application],
            )
          )[0]?.n,
        );
      for (let i = 0; i < 500 && (await connections('vexil-watch')) < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await connections('vexil-watch')).toBe(2);
      await store.close();
      // The server notices a closed connection a moment after the client closes it.
      for (let i = 0; i < 500 && (await connections('vexil-watch')) + (await connections('vexil')) > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await connections('vexil-watch')).toBe(0);
      expect(await connections('vexil')).toBe(0);
    });
  });

  describe('appending from several processes', () => {
    it('gives two stores appending to one flag at once distinct, strictly increasing times', async () => {
      const { url } = await freshDatabase();
      // Both clocks stand still: every time after the first comes from the other store's last row.
      const a = await open(url, { now: () => T0, poolSize: 4 });
      const b = await open(url, { now: () => T0, poolSize: 4 });
      const ref = feature('contended');
      const work: Promise<{ wtime: string; kind: string }[]>[] = [];
      for (let i = 0; i < 12; i++) {
        work.push(a.append([revision(ref, `a${i}`), flag(ref, `a${i}`)]));
        work.push(b.append([revision(ref, `b${i}`)]));
      }
      const batches = await Promise.all(work);
      for (const batch of batches) {
        for (let i = 1; i < batch.length; i++) expect(batch[i]!.wtime > batch[i - 1]!.wtime).toBe(true);
      }
      const times = batches.flat().map((row) => parseWTime(row.wtime));
      expect(new Set(times).size).toBe(times.length);
      expect([...times].sort((x, y) => x - y)).toEqual(Array.from({ length: 36 }, (_, i) => T0 + i));

      const history = await a.history('REVISION', ref);
      expect(history).toHaveLength(24);
      for (let i = 1; i < history.length; i++) expect(history[i]!.wtime < history[i - 1]!.wtime).toBe(true);
      const [next] = await b.append([revision(ref, 'last')]);
      expect(next?.wtime).toBe(formatWTime(T0 + 36));
    });
  });

  describe('errors', () => {
    it('reports a server that refuses connections as UnavailableError naming VEXIL_STORE, without the password', async () => {
      const { url } = await freshDatabase();
      const closed = new URL(url);
      closed.password = 'sup3r-secret';
      closed.port = String(await unusedPort());
      const error = await PostgresStore.open(closed.toString(), { connectTimeoutMs: 2000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as UnavailableError).hint).toContain('VEXIL_STORE');
      expect((error as UnavailableError).message).not.toContain('sup3r-secret');
    });

    it('reports a database that does not exist as UnavailableError', async () => {
      const missing = new URL(server.url);
      missing.pathname = '/no_such_database';
      await expect(PostgresStore.open(missing.toString())).rejects.toBeInstanceOf(UnavailableError);
    });

    it('reports a statement cut short by statement_timeout as TimeoutError', async () => {
      const { url } = await freshDatabase();
      const store = await open(url, { statementTimeoutMs: 300 });
      await withTableLocked(url, async () => {
        await expect(store.latest('FLAG', feature('x'))).rejects.toBeInstanceOf(TimeoutError);
        await expect(store.append([flag(feature('x'))])).rejects.toBeInstanceOf(TimeoutError);
      });
      // The store goes on once the lock is gone.
      await store.append([flag(feature('x'))]);
      expect(await store.latest('FLAG', feature('x'))).toBeDefined();
    });

    it('reports a connection terminated mid-query as UnavailableError, then carries on', async () => {
      const { url, name } = await freshDatabase();
      const store = await open(url);
      await withTableLocked(url, async () => {
        const waiting = store.latest('FLAG', feature('x')).then(
          () => undefined,
          (e: unknown) => e,
        );
        // Kill the store's connection once it waits on the lock.
        let killed = 0;
        for (let i = 0; i < 500 && killed === 0; i++) {
          killed = (
            await server.query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE datname = $1 AND application_name = 'vexil' AND wait_event_type = 'Lock'`,
              [name],
            )
          ).length;
          if (killed === 0) await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(killed).toBe(1);
        const error = await waiting;
        expect(error).toBeInstanceOf(UnavailableError);
        expect((error as UnavailableError).hint).toContain('VEXIL_STORE');
      });
      await expect(store.ping()).resolves.toBeUndefined();
      expect(await store.latest('FLAG', feature('x'))).toBeUndefined();
    });
  });

  describe('key order', () => {
    it('is UTF-8 byte order even where the database sorts text by a language (ICU en-US)', async () => {
      const name = `vexil_pg_test_icu_${++databases}`;
      await server.query(
        `CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`,
      );
      const url = server.urlFor(name);
      // The database itself orders these otherwise: `a` before `Z`, `é` before `f`, `_` ignored.
      const names = ['f', 'Z', 'aa', 'a_b', 'é', 'A', 'a'];
      const collated = await server.query<{ n: string }>(
        'SELECT n FROM unnest($1::text[]) AS n ORDER BY n',
        [names],
        name,
      );
      const bytewise = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(collated.map((r) => r.n)).not.toEqual(bytewise);

      const store = await open(url);
      await store.append(names.map((n) => flag(feature(n))));
      expect((await store.listFlags('p')).map((r) => r.ref.name)).toEqual(bytewise);
      const keys = (await store.scanProject('p')).map((r) => r.key);
      expect(keys).toEqual([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      await store.appendLogs(
        names.map((instanceId) => ({
          project: 'p',
          flagType: 'feature',
          flagName: 'f',
          instanceId,
          requestId: 'r',
          time: formatWTime(T0),
          value: true,
          group: 'control',
          cacheHit: false,
        })),
      );
      expect((await store.readLogs({ project: 'p' })).map((e) => e.instanceId)).toEqual(bytewise);
    });
  });

  describe('values PostgreSQL text cannot hold', () => {
    it('round-trips U+0000 in fields and in evaluation-log ids', async () => {
      const { url } = await freshDatabase();
      const store = await open(url);
      const ref = feature('nul');
      const [row] = await store.append([revision(ref, 'before\u0000after')]);
      expect((await store.latest('REVISION', ref))?.fields.Comment).toBe('before\u0000after');
      expect(row?.fields.Comment).toBe('before\u0000after');
      const entry = {
        project: 'p',
        flagType: 'feature',
        flagName: 'nul',
        instanceId: 'id\u0000with nul',
        requestId: 'r\u0000',
        time: formatWTime(T0),
        value: 'x\u0000y',
        group: 'control',
        cacheHit: false,
      };
      await store.appendLogs([entry]);
      expect(await store.readLogs({ project: 'p' })).toStrictEqual([entry]);
    });
  });
});

/** Holds an ACCESS EXCLUSIVE lock on vexil_flag_rows (from another connection) while `fn` runs. */
async function withTableLocked(url: string, fn: () => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('LOCK TABLE vexil_flag_rows IN ACCESS EXCLUSIVE MODE');
    await fn();
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    await client.end();
  }
}

async function unusedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
