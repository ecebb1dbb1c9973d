import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type FlagRef, formatWTime, InvalidInputError, UnavailableError } from '@vexil/core';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_STORE_SPEC,
  type EvaluationLogEntry,
  type FlagStore,
  MemoryStore,
  openStore,
  SQLITE_SCHEMA_VERSION,
  SqliteStore,
} from '../src/index.js';
import { describeStoreConformance } from './conformance.js';
import { interleavedHistory, LOG_COLUMNS, revision } from './test-rows.js';

const T0 = Date.UTC(2024, 8, 25, 18, 42, 51, 493) * 1000;

describeStoreConformance('SqliteStore (file)', async (options) => {
  const dir = await mkdtemp(join(tmpdir(), 'vexil-sqlite-'));
  const path = join(dir, 'nested', 'vexil.db');
  const store = await SqliteStore.open(path, options);
  return {
    store,
    cleanup: () => rm(dir, { recursive: true, force: true }),
    openPeer: () => SqliteStore.open(path),
    breakWritesOf: async (row) => {
      // A trigger that refuses the row's flag, added by another connection: the INSERT fails inside the append's transaction.
      const db = new Database(path);
      db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON flag_rows WHEN NEW.flag_name = '${row.ref.name}'
               BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END`);
      db.close();
      return row;
    },
  };
});

describeStoreConformance('SqliteStore (:memory:)', async (options) => ({
  store: new SqliteStore(':memory:', options),
}));

describe('SqliteStore', () => {
  let dir: string;
  const toClose: FlagStore[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vexil-sqlite-'));
  });

  afterEach(async () => {
    for (const store of toClose.splice(0)) await store.close();
    vi.unstubAllEnvs();
    await rm(dir, { recursive: true, force: true });
  });

  function track<T extends FlagStore>(store: T): T {
    toClose.push(store);
    return store;
  }

  describe('reading the latest row', () => {
    it('is the same index SEARCH, with no sort, for 1 and for 10,000 revisions', async () => {
      let now = T0;
      const store = track(await SqliteStore.open(join(dir, 'plan.db'), { now: () => now }));
      const busy: FlagRef = { project: 'p', flagType: 'feature', name: 'busy' };
      const other: FlagRef = { project: 'p', flagType: 'feature', name: 'busy_other' };

      await store.append([revision(busy, 'first'), { kind: 'FLAG', ref: busy, fields: { Name: 'busy' } }]);
      const withOne = store.explainLatest('REVISION', busy);
      const flagPlan = store.explainLatest('FLAG', busy);

      for (const batch of interleavedHistory(busy, other, 10_000, 1000)) {
        await store.append(batch);
        now += 100;
      }
      expect(await store.history('REVISION', busy)).toHaveLength(10_000);
      const withMany = store.explainLatest('REVISION', busy);

      expect(withMany).toEqual(withOne);
      expect(store.explainLatest('FLAG', busy)).toEqual(flagPlan);
      for (const plan of [withOne, flagPlan]) {
        expect(plan.some((line) => /^SEARCH flag_rows USING (COVERING )?INDEX flag_rows_by_flag \(/.test(line))).toBe(
          true,
        );
        expect(plan.join('\n')).not.toMatch(/TEMP B-TREE|^SCAN/m);
      }
      expect((await store.latest('REVISION', busy))?.fields.Comment).toBe('r9999');
    });
  });

  describe('on disk', () => {
    it('keeps rows and logs after close and reopen, and continues WTIMEs from them', async () => {
      const path = join(dir, 'vexil.db');
      const ref: FlagRef = { project: 'p', flagType: 'feature', name: 'new_ui' };
      const first = new SqliteStore(path, { now: () => T0 });
      const stored = await first.append([{ kind: 'FLAG', ref, fields: { Name: 'new_ui' } }, revision(ref, 'one')]);
      const log = {
        project: 'p',
        flagType: 'feature',
        flagName: 'new_ui',
        instanceId: 'A 1#%',
        requestId: 'r1',
        time: formatWTime(T0),
        value: true,
        group: 'treatment',
        cacheHit: true,
      };
      await first.appendLogs([log]);
      await first.close();

      const second = track(new SqliteStore(path, { now: () => T0 }));
      expect(await second.latest('FLAG', ref)).toStrictEqual(stored[0]);
      expect(await second.latest('REVISION', ref)).toStrictEqual(stored[1]);
      expect(await second.readLogs({ project: 'p' })).toStrictEqual([log]);
      // The clock is still at T0: the last WTIME comes from the file.
      const [next] = await second.append([revision(ref, 'two')]);
      expect(next?.wtime).toBe(formatWTime(T0 + 2));
    });

    it('writes encoded log batches (filled as entries come) like appendLogs, with any character; a batch can be sent again', async () => {
      const store = track(new SqliteStore(join(dir, 'vexil.db')));
      const writer = store.encodedLogs!;
      const entries = ['A1', 'Grüße 🚩 中文', 'line\nbreak\t', '', '#%'].map((instanceId, i) => ({
        project: 'p',
        flagType: i % 2 ? 'feature' : 'data',
        flagName: 'f',
        instanceId,
        requestId: `r-${i}`,
        time: formatWTime(T0 + i),
        value: i % 2 ? i === 1 : 'gpt-4o "mini"',
        group: 'treatment-2',
        cacheHit: i % 2 === 0,
      }));
      const batch = writer.newBatch();
      for (const entry of entries) batch.add(entry);
      expect(batch.size).toBe(entries.length);
      await writer.appendBatch(batch);
      await writer.appendBatch(writer.newBatch());
      const once = await store.readLogs({ project: 'p' });
      expect(new Set(once.map((e) => JSON.stringify(e)))).toEqual(new Set(entries.map((e) => JSON.stringify(e))));
      expect(once).toHaveLength(entries.length);
      // A batch stays whole after it is written: the log retries a failed one as it is.
      await writer.appendBatch(batch);
      expect(await store.readLogs({ project: 'p' })).toHaveLength(2 * entries.length);
      expect(new SqliteStore(':memory:').encodedLogs).toBeUndefined();
    });

    it('writes an encoded batch far larger than it starts with: long ids, many flags, values and groups', async () => {
      const store = track(new SqliteStore(join(dir, 'vexil.db')));
      const writer = store.encodedLogs!;
      const entries = Array.from({ length: 1500 }, (_, i) => ({
        project: `p${i % 3}`,
        flagType: i % 2 ? 'feature' : 'data',
        flagName: `flag_${i % 40}`,
        // Up to 1,000 code units (the service's limit), some outside the BMP.
        instanceId: i % 7 === 0 ? `${'🚩'.repeat(i % 500)}#${i}` : `A${100_000 + i}`,
        requestId: `req-${i}-${'x'.repeat(i % 50)}`,
        time: formatWTime(T0 + i),
        value: i % 2 ? i % 3 === 0 : `model-${i % 30}`,
        group: i % 5 === 0 ? 'control' : `treatment-${i % 9}`,
        cacheHit: i % 4 === 0,
      }));
      const batch = writer.newBatch();
      for (const entry of entries) batch.add(entry);
      await writer.appendBatch(batch);
      const read = (await Promise.all(['p0', 'p1', 'p2'].map((project) => store.readLogs({ project })))).flat();
      const byRequest = (list: EvaluationLogEntry[]) =>
        [...list].sort((a, b) => a.requestId.localeCompare(b.requestId)).map((e) => JSON.stringify(e));
      expect(byRequest(read)).toEqual(byRequest(entries));
    });

    it('keeps WTIMEs strictly increasing when two connections append to one flag', async () => {
      const path = join(dir, 'shared.db');
      const ref: FlagRef = { project: 'p', flagType: 'feature', name: 'new_ui' };
      const a = track(new SqliteStore(path, { now: () => T0 }));
      const b = track(new SqliteStore(path, { now: () => T0 }));
      const times: string[] = [];
      for (let i = 0; i < 4; i++) {
        const store = i % 2 ? b : a;
        times.push(...(await store.append([revision(ref, `r${i}`), revision(ref, `s${i}`)])).map((r) => r.wtime));
      }
      expect(times).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => formatWTime(T0 + i)));
      expect((await a.latest('REVISION', ref))?.fields.Comment).toBe('s3');
    });

    it('uses WAL, a busy timeout, and records its schema version in user_version', async () => {
      const path = join(dir, 'vexil.db');
      await track(new SqliteStore(path, { busyTimeoutMs: 1234 })).ping();
      const db = new Database(path, { readonly: true });
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
        const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
        expect(tables).toEqual(['access_records', 'evaluation_log', 'flag_rows']);
        const logColumns = db.prepare("SELECT name FROM pragma_table_info('evaluation_log')").pluck().all();
        expect(logColumns).toEqual(expect.arrayContaining([...LOG_COLUMNS]));
      } finally {
        db.close();
      }
    });

    it('refuses a database from a newer schema version', async () => {
      const path = join(dir, 'future.db');
      const db = new Database(path);
      db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
      db.close();
      expect(() => new SqliteStore(path)).toThrow(UnavailableError);
      expect(() => new SqliteStore(path)).toThrow(`schema version ${SQLITE_SCHEMA_VERSION + 1}`);
    });

    it('reports a path it cannot open as UnavailableError', async () => {
      expect(() => new SqliteStore(join(dir, 'no', 'such', 'dir', 'x.db'))).toThrow(UnavailableError);
      const notADatabase = join(dir, 'notes.txt');
      await writeFile(notADatabase, 'this is not a SQLite database, just some text that is long enough. '.repeat(20));
      expect(() => new SqliteStore(notADatabase)).toThrow(UnavailableError);
    });

    it('creates parent directories in open()', async () => {
      const path = join(dir, 'a', 'b', 'c.db');
      await track(await SqliteStore.open(path)).ping();
      expect(existsSync(path)).toBe(true);
    });
  });

  describe('openStore', () => {
    it('opens sqlite:PATH relative to the working directory, creating parent directories', async () => {
      const absolute = join(dir, 'data', 'flags.db');
      const store = track(await openStore(`sqlite:${relative(process.cwd(), absolute)}`));
      expect(store).toBeInstanceOf(SqliteStore);
      expect((store as SqliteStore).path).toBe(absolute);
      await store.ping();
      expect(existsSync(absolute)).toBe(true);
    });

    it('opens sqlite:/absolute/path', async () => {
      const absolute = join(dir, 'abs.db');
      const store = track(await openStore(`sqlite:${absolute}`));
      expect((store as SqliteStore).path).toBe(absolute);
      expect(existsSync(absolute)).toBe(true);
    });

    it('opens sqlite::memory: and memory:', async () => {
      const sqlite = track(await openStore('sqlite::memory:'));
      expect(sqlite.engine).toBe('sqlite');
      expect((sqlite as SqliteStore).path).toBe(':memory:');
      const memory = track(await openStore('memory:'));
      expect(memory).toBeInstanceOf(MemoryStore);
      expect(memory.engine).toBe('memory');
    });

    it('opens the spec it is given, not VEXIL_STORE (the caller reads that), and passes the options on', async () => {
      vi.stubEnv('VEXIL_STORE', 'memory:');
      const store = track(await openStore(' sqlite::memory: ', { now: () => T0 }));
      expect(store.engine).toBe('sqlite');
      const [row] = await store.append([revision({ project: 'p', flagType: 'feature', name: 'x' }, 'c')]);
      expect(row?.wtime).toBe(formatWTime(T0));
    });

    it('defaults to ./vexil.db', () => {
      expect(DEFAULT_STORE_SPEC).toBe('sqlite:./vexil.db');
    });

    it.each([
      'mysql://localhost/vexil',
      'bigtable:projects/p/instances/i',
      'sqlite:',
      'sqlite',
      'MEMORY:',
      'memory',
      './vexil.db',
      'file:vexil.db',
    ])('rejects %j with an InvalidInputError that names VEXIL_STORE and the accepted forms', async (spec) => {
      const error = await openStore(spec).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidInputError);
      const { message, field } = error as InvalidInputError;
      expect(field).toBe('VEXIL_STORE');
      expect(message).toContain('VEXIL_STORE');
      expect(message).toContain(JSON.stringify(spec));
      for (const form of ['sqlite:PATH', 'sqlite::memory:', 'bigtable', 'postgres://', 'memory:']) {
        expect(message).toContain(form);
      }
    });

    it('refuses VEXIL_STORE=bigtable without PROJECT_ID or INSTANCE_ID, naming the variable', async () => {
      const tables = { flagTableId: 'f', logTableId: 'l' };
      await expect(openStore('bigtable', { bigtable: { ...tables, instanceId: 'i' } })).rejects.toMatchObject({
        field: 'PROJECT_ID',
      });
      await expect(openStore('bigtable', { bigtable: { ...tables, projectId: 'p' } })).rejects.toMatchObject({
        field: 'INSTANCE_ID',
      });
    });
  });
});

describe('SqliteStore schema migrations', () => {
  it('moves a version-1 evaluation log (sorted by key) to arrival order, keeping every row', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vexil-sqlite-v1-'));
    try {
      const path = join(dir, 'v1.db');
      const v1 = new Database(path);
      v1.exec(`
        CREATE TABLE flag_rows (row_key TEXT NOT NULL PRIMARY KEY, project TEXT NOT NULL, kind TEXT NOT NULL,
          flag_type TEXT NOT NULL, flag_name TEXT NOT NULL, wtime TEXT NOT NULL, fields TEXT NOT NULL);
        CREATE UNIQUE INDEX flag_rows_by_flag ON flag_rows (project, kind, flag_type, flag_name, wtime);
        CREATE TABLE evaluation_log (row_key TEXT NOT NULL PRIMARY KEY, project TEXT NOT NULL, flag_type TEXT NOT NULL,
          flag_name TEXT NOT NULL, RequestID TEXT NOT NULL, Name TEXT NOT NULL, CreatedTimestamp TEXT NOT NULL,
          Type TEXT NOT NULL, InstanceID TEXT NOT NULL, AssignedValue TEXT NOT NULL, AssignedGroup TEXT NOT NULL,
          CacheFlag INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO evaluation_log VALUES
          ('PROJECT#p#FLAGTYPE#feature#FLAGNAME#f#INSTANCEID#b#REQUESTID#r2#TIME#2026-01-01 00:00:00.000002',
           'p', 'feature', 'f', 'r2', 'f', '2026-01-01 00:00:00.000002', 'feature', 'b', 'false', 'control', 0),
          ('PROJECT#p#FLAGTYPE#feature#FLAGNAME#f#INSTANCEID#a#REQUESTID#r1#TIME#2026-01-01 00:00:00.000001',
           'p', 'feature', 'f', 'r1', 'f', '2026-01-01 00:00:00.000001', 'feature', 'a', 'true', 'treatment', 1);
        PRAGMA user_version = 1;
      `);
      v1.close();
      const store = await SqliteStore.open(path);
      try {
        const rows = await store.readLogs({ project: 'p' });
        expect(rows.map((r) => [r.instanceId, r.value, r.group, r.cacheHit])).toEqual([
          ['a', true, 'treatment', true],
          ['b', false, 'control', false],
        ]);
        await store.appendLogs([{ ...rows[0]!, requestId: 'r3', instanceId: 'c' }]);
        expect(await store.readLogs({ project: 'p' })).toHaveLength(3);
      } finally {
        await store.close();
      }
      const after = new Database(path, { readonly: true });
      expect(after.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      after.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
