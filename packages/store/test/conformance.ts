import {
  type FlagRef,
  flagRowKey,
  formatWTime,
  InvalidInputError,
  logRowKey,
  parseWTime,
  RevisionConflictError,
  storedFlagType,
  UnavailableError,
} from '@vexil/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { EvaluationLogEntry, NewRow, StoredRow, StoreEngine, StoreOptions } from '../src/index.js';
import { describeAccessConformance } from './access-conformance.js';
import { until } from './wait.js';

/**
 * The behaviour every engine shares (FlagStore and EvaluationLogSink), run once per
 * engine by memory.test.ts, sqlite.test.ts, postgres.test.ts and bigtable.test.ts, each
 * against the real engine.
 * Where engines differ, tests branch on `capabilities`: what an engine promises when it
 * has a capability, and what it does instead when it has not.
 *
 *   describeStoreConformance('SqliteStore', async (options) => ({ store: await SqliteStore.open(path, options), cleanup }));
 *
 * The factory gets the StoreOptions to open with (tests pin the clock through
 * `options.now`) and must return an empty store. Each test opens its own store and
 * closes it afterwards (close may be called twice), then runs `cleanup`.
 */
export type StoreFactory = (options: StoreOptions) => Promise<{
  store: StoreEngine;
  cleanup?: () => Promise<void>;
  /** A second connection to the same data, as another process would have; when absent the store itself writes. */
  openPeer?: () => Promise<StoreEngine>;
  /**
   * Sets the engine up so that writing `row` fails in the engine itself, after the
   * store's own checks passed (a trigger, a request too large…), and returns the row
   * to append. Absent where the engine cannot fail midway (process memory).
   */
  breakWritesOf?: (row: NewRow) => Promise<NewRow>;
}>;

/** A fixed instant, in microseconds: 2024-09-25 18:42:51.493000 UTC. */
const T0 = Date.UTC(2024, 8, 25, 18, 42, 51, 493) * 1000;
const HOUR = 3_600_000_000;

const PROJECT = 'csr-assistant';

function feature(name: string, project = PROJECT): FlagRef {
  return { project, flagType: 'feature', name };
}

function data(name: string, project = PROJECT): FlagRef {
  return { project, flagType: 'data', name };
}

function flagRow(ref: FlagRef, extra: Record<string, unknown> = {}): NewRow {
  return {
    kind: 'FLAG',
    ref,
    fields: { Name: ref.name, Type: storedFlagType(ref.flagType), Description: `the ${ref.name} flag`, ...extra },
  };
}

function revisionRow(ref: FlagRef, extra: Record<string, unknown> = {}): NewRow {
  return {
    kind: 'REVISION',
    ref,
    fields: {
      Name: ref.name,
      Type: storedFlagType(ref.flagType),
      FormatVersion: 1,
      ControlValue: ref.flagType === 'feature' ? false : 'gpt-4o',
      Comment: 'first',
      OwnerID: 'owner@example.com',
      Treatments: [],
      ...extra,
    },
  };
}

/** A clock the test moves by hand; it starts at T0 and stays there until set. */
function manualClock(start = T0): { now: number; options: StoreOptions } {
  const clock = { now: start, options: {} as StoreOptions };
  clock.options = { now: () => clock.now };
  return clock;
}

function micros(row: StoredRow): number {
  return parseWTime(row.wtime);
}

/** UTF-8 byte order, the order keys sort in every engine. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function logEntry(overrides: Partial<EvaluationLogEntry> = {}): EvaluationLogEntry {
  return {
    project: PROJECT,
    flagType: 'feature',
    flagName: 'new_ui',
    instanceId: 'A123456',
    requestId: 'req-1',
    time: '2024-09-25 18:42:51.493000',
    value: true,
    group: 'treatment',
    cacheHit: false,
    ...overrides,
  };
}

export function describeStoreConformance(name: string, factory: StoreFactory): void {
  describe(`FlagStore conformance: ${name}`, () => {
    const opened: { store: StoreEngine; cleanup?: () => Promise<void> }[] = [];
    let peers: StoreEngine[] = [];
    let peerOf = new Map<StoreEngine, () => Promise<StoreEngine>>();

    async function openHandle(options: StoreOptions = manualClock().options) {
      const handle = await factory(options);
      opened.push(handle);
      if (handle.openPeer) peerOf.set(handle.store, handle.openPeer);
      return handle;
    }

    async function open(options: StoreOptions = manualClock().options): Promise<StoreEngine> {
      return (await openHandle(options)).store;
    }

    /** Another process's connection to `store`'s data, or `store` itself where the engine has none. */
    async function writerFor(store: StoreEngine): Promise<StoreEngine> {
      const openPeer = peerOf.get(store);
      if (!openPeer) return store;
      const peer = await openPeer();
      peers.push(peer);
      return peer;
    }

    afterEach(async () => {
      for (const peer of peers) await peer.close();
      peers = [];
      peerOf = new Map();
      for (const handle of opened.splice(0)) {
        await handle.store.close();
        await handle.cleanup?.();
      }
    });

    describeAccessConformance(open, writerFor);

    describe('append and read back', () => {
      it('appends a FLAG and a REVISION row and reads them with latest, get and history', async () => {
        const store = await open();
        const ref = feature('new_ui');
        const [flag, revision] = await store.append([flagRow(ref), revisionRow(ref)]);
        expect(flag?.kind).toBe('FLAG');
        expect(revision?.kind).toBe('REVISION');
        expect(flag?.ref).toEqual(ref);
        expect(revision?.ref).toEqual(ref);

        for (const row of [flag!, revision!]) {
          expect(await store.latest(row.kind, ref)).toStrictEqual(row);
          expect(await store.get(row.kind, ref, row.wtime)).toStrictEqual(row);
          expect(await store.history(row.kind, ref)).toStrictEqual([row]);
        }
        // `get` names the kind: the FLAG row's time is not a REVISION.
        expect(await store.get('REVISION', ref, flag!.wtime)).toBeUndefined();
        expect(await store.get('FLAG', ref, revision!.wtime)).toBeUndefined();
      });

      it('returns the rows in the order given, and [] for an empty batch', async () => {
        const store = await open();
        const rows = [flagRow(feature('a')), revisionRow(data('b')), revisionRow(feature('a'), { Comment: 'x' })];
        const stored = await store.append(rows);
        expect(stored.map((r) => [r.kind, r.ref.flagType, r.ref.name])).toEqual([
          ['FLAG', 'feature', 'a'],
          ['REVISION', 'data', 'b'],
          ['REVISION', 'feature', 'a'],
        ]);
        expect(stored[2]?.fields.Comment).toBe('x');
        expect(await store.append([])).toEqual([]);
      });

      it('sets CreatedTime to the WTIME (over any given) and builds the runbook row key', async () => {
        const store = await open();
        const ref = data('model_name');
        const stored = await store.append([
          flagRow(ref, { CreatedTime: '1999-01-01 00:00:00.000000' }),
          revisionRow(ref, { CreatedTime: 'whenever' }),
        ]);
        for (const row of stored) {
          expect(row.fields.CreatedTime).toBe(row.wtime);
          expect(row.key).toBe(flagRowKey(row.kind, ref, row.wtime));
          expect(formatWTime(parseWTime(row.wtime))).toBe(row.wtime);
          const read = await store.latest(row.kind, ref);
          expect(read?.fields.CreatedTime).toBe(row.wtime);
          expect(read?.key).toBe(
            `PROJECT#${PROJECT}#ROWTYPE#${row.kind}#FLAGTYPE#data#FLAGNAME#model_name#WTIME#${row.wtime}`,
          );
        }
      });

      it('keeps what it stored apart from the caller’s objects', async () => {
        const store = await open();
        const ref = feature('new_ui');
        const treatments = [{ OverrideList: ['A1'], PercentRollout: 10, Value: true }];
        const input = revisionRow(ref, { Treatments: treatments });
        const [stored] = await store.append([input]);
        treatments[0]!.OverrideList.push('changed');
        (stored!.fields.Treatments as unknown[]).length = 0;
        const read = await store.latest('REVISION', ref);
        (read!.fields.Treatments as unknown[]).push('changed');
        expect((await store.latest('REVISION', ref))?.fields.Treatments).toEqual([
          { OverrideList: ['A1'], PercentRollout: 10, Value: true },
        ]);
      });

      it('round-trips fields exactly: booleans, unicode strings, nested arrays and objects, decimals', async () => {
        const store = await open();
        const ref = data('model_name');
        const fields = {
          Name: 'model_name',
          Type: 'DATA',
          FormatVersion: 2,
          ControlValue: 'gpt-4o-mini',
          Comment: 'Grüße — 🚩 中文 "quoted" \\ back\\slash\nsecond line\ttab',
          Archived: false,
          Enabled: true,
          PercentRollout: 12.34,
          Tiny: 0.0001,
          Negative: -7.5,
          Large: 9007199254740991,
          Zero: 0,
          Empty: '',
          Treatments: [
            { OverrideList: ['A1', 'B 2', 'ü#%'], PercentRollout: 0.01, Value: 'gpt-4o' },
            { OverrideList: [], PercentRollout: 99.99, Value: 'o1' },
          ],
          Nested: { a: [1, 2.5, [true, false, null, 'x']], b: { c: {} }, d: [] },
        };
        const [stored] = await store.append([{ kind: 'REVISION', ref, fields }]);
        const expected = { ...fields, CreatedTime: stored!.wtime };
        expect(stored!.fields).toStrictEqual(expected);
        expect((await store.latest('REVISION', ref))!.fields).toStrictEqual(expected);
        expect((await store.get('REVISION', ref, stored!.wtime))!.fields).toStrictEqual(expected);
        expect((await store.history('REVISION', ref))[0]!.fields).toStrictEqual(expected);
        expect((await store.scanProject(PROJECT))[0]!.fields).toStrictEqual(expected);
      });

      it('lists history newest first, with a limit', async () => {
        const store = await open();
        const ref = feature('new_ui');
        for (let i = 0; i < 5; i++) await store.append([revisionRow(ref, { Comment: `r${i}` })]);
        const comments = async (limit?: number) =>
          (await store.history('REVISION', ref, limit === undefined ? {} : { limit })).map((r) => r.fields.Comment);
        expect(await comments()).toEqual(['r4', 'r3', 'r2', 'r1', 'r0']);
        expect(await comments(2)).toEqual(['r4', 'r3']);
        expect(await comments(1)).toEqual(['r4']);
        expect(await comments(0)).toEqual([]);
        expect(await comments(50)).toEqual(['r4', 'r3', 'r2', 'r1', 'r0']);
        const times = (await store.history('REVISION', ref)).map(micros);
        for (let i = 1; i < times.length; i++) expect(times[i]!).toBeLessThan(times[i - 1]!);
        expect(await store.history('FLAG', ref)).toEqual([]);
      });

      it('answers undefined or [] for what does not exist', async () => {
        const store = await open();
        const ref = feature('missing');
        expect(await store.latest('FLAG', ref)).toBeUndefined();
        expect(await store.latest('REVISION', ref)).toBeUndefined();
        expect(await store.get('REVISION', ref, formatWTime(T0))).toBeUndefined();
        expect(await store.history('REVISION', ref)).toEqual([]);
        expect(await store.listFlags(PROJECT)).toEqual([]);
        expect(await store.scanProject(PROJECT)).toEqual([]);
        expect(await store.readLogs({ project: PROJECT })).toEqual([]);

        const [row] = await store.append([revisionRow(feature('present'))]);
        expect(await store.get('REVISION', ref, row!.wtime)).toBeUndefined();
        expect(await store.latest('REVISION', ref)).toBeUndefined();
      });

      it('refuses a row whose key parts would be ambiguous, and stores nothing of its batch', async () => {
        const store = await open();
        for (const ref of [feature('a#b'), feature('ok', 'proj#x'), feature(''), feature('ok', '')]) {
          await expect(store.append([flagRow(feature('fine')), flagRow(ref)])).rejects.toBeInstanceOf(
            InvalidInputError,
          );
        }
        const bad = { kind: 'FLAG', ref: { project: PROJECT, flagType: 'boolean', name: 'x' }, fields: {} };
        await expect(store.append([bad as unknown as NewRow])).rejects.toBeInstanceOf(InvalidInputError);
        expect(await store.scanProject(PROJECT)).toEqual([]);
      });
    });

    describe('WTIME', () => {
      it('uses the clock, and bumps by a microsecond per row while the clock stands still', async () => {
        const clock = manualClock();
        const store = await open(clock.options);
        const ref = feature('new_ui');
        const one = await store.append([flagRow(ref)]);
        const two = await store.append([revisionRow(ref)]);
        const three = await store.append([revisionRow(ref)]);
        const batch = await store.append([revisionRow(ref), flagRow(ref), revisionRow(ref)]);
        const all = [...one, ...two, ...three, ...batch];
        // Strictly increasing across both kinds of the flag, one microsecond apart.
        expect(all.map((r) => r.wtime)).toEqual([0, 1, 2, 3, 4, 5].map((i) => formatWTime(T0 + i)));
        expect((await store.latest('FLAG', ref))?.wtime).toBe(formatWTime(T0 + 4));
        expect((await store.latest('REVISION', ref))?.wtime).toBe(formatWTime(T0 + 5));
      });

      it('gives rows of one flag in one batch strictly increasing times, each flag on its own', async () => {
        const clock = manualClock();
        const store = await open(clock.options);
        const a = feature('a');
        const b = feature('b');
        const stored = await store.append([flagRow(a), revisionRow(a), flagRow(b), revisionRow(a), revisionRow(b)]);
        expect(stored.map((r) => `${r.ref.name} ${r.wtime}`)).toEqual([
          `a ${formatWTime(T0)}`,
          `a ${formatWTime(T0 + 1)}`,
          `b ${formatWTime(T0)}`,
          `a ${formatWTime(T0 + 2)}`,
          `b ${formatWTime(T0 + 1)}`,
        ]);
        expect(new Set(stored.map((r) => r.key)).size).toBe(5);
      });

      it('keeps increasing when the clock goes backwards, and follows it again once it passes', async () => {
        const clock = manualClock();
        const store = await open(clock.options);
        const ref = feature('new_ui');
        const first = await store.append([revisionRow(ref)]);
        clock.now = T0 - HOUR;
        const second = await store.append([flagRow(ref)]);
        const third = await store.append([revisionRow(ref), revisionRow(ref)]);
        clock.now = T0 + 10;
        const fourth = await store.append([revisionRow(ref)]);
        expect([...first, ...second, ...third, ...fourth].map((r) => r.wtime)).toEqual(
          [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 10].map(formatWTime),
        );
      });

      it('reads the real clock by default', async () => {
        const store = await open({});
        const before = Date.now() * 1000;
        const [row] = await store.append([flagRow(feature('new_ui'))]);
        const after = Date.now() * 1000;
        expect(micros(row!)).toBeGreaterThanOrEqual(before);
        expect(micros(row!)).toBeLessThan(after + 1000);
      });

      it('treats flags of the same name in another type or project as other flags', async () => {
        const clock = manualClock();
        const store = await open(clock.options);
        const refs = [feature('model'), data('model'), feature('model', 'other-project')];
        for (const ref of refs) {
          await store.append([flagRow(ref, { Description: `${ref.project}/${ref.flagType}` })]);
          await store.append([revisionRow(ref, { Comment: `${ref.project}/${ref.flagType}` })]);
        }
        for (const ref of refs) {
          const revision = await store.latest('REVISION', ref);
          const flag = await store.latest('FLAG', ref);
          // Each flag's times start from the (frozen) clock on their own.
          expect(flag?.wtime).toBe(formatWTime(T0));
          expect(revision?.wtime).toBe(formatWTime(T0 + 1));
          expect(revision?.ref).toEqual(ref);
          expect(revision?.fields.Comment).toBe(`${ref.project}/${ref.flagType}`);
          expect(flag?.fields.Description).toBe(`${ref.project}/${ref.flagType}`);
          expect(await store.history('REVISION', ref)).toHaveLength(1);
        }
      });
    });

    describe('the flag model (docs/flag-model.md)', () => {
      /** Reads `row` back every way a store can, each of which must give exactly its fields. */
      async function expectReadBackExactly(store: StoreEngine, row: StoredRow, fields: Record<string, unknown>) {
        const expected = { ...fields, CreatedTime: row.wtime };
        expect(row.fields).toStrictEqual(expected);
        expect((await store.latest(row.kind, row.ref))!.fields).toStrictEqual(expected);
        expect((await store.get(row.kind, row.ref, row.wtime))!.fields).toStrictEqual(expected);
        expect((await store.history(row.kind, row.ref))[0]!.fields).toStrictEqual(expected);
        const scanned = (await store.scanProject(row.ref.project)).find((r) => r.key === row.key);
        expect(scanned?.fields).toStrictEqual(expected);
      }

      it('round-trips a json flag’s revision exactly: variants, rules with conditions and splits, null values, kill switch, metadata', async () => {
        const store = await open();
        const ref: FlagRef = { project: PROJECT, flagType: 'json', name: 'checkout.layout-v2' };
        const fields = {
          Name: ref.name,
          Type: 'JSON',
          FormatVersion: 2,
          ControlValue: { columns: 1, colors: ['red', 'grün'], nested: { ok: true, none: null } },
          Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 12.5, Value: [1, 2.5, 'x'] }],
          Variants: {
            single: { columns: 1, colors: ['red', 'grün'], nested: { ok: true, none: null } },
            list: [1, 2.5, 'x'],
            'wide.v2': { columns: 3 },
          },
          Rules: [
            {
              Conditions: [
                { Attribute: 'country', Operator: 'in', Values: ['DE', 'FR', 49] },
                { Attribute: 'version', Operator: 'semver_gte', Values: ['v1.2.3-beta.1'] },
                { Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta-testers'] },
              ],
              Value: { columns: 3 },
            },
            { Conditions: [{ Attribute: 'age', Operator: 'gte', Values: [18] }], Value: null },
            {
              Conditions: [],
              Split: [
                { Percent: 33.33, Value: [1, 2.5, 'x'] },
                { Percent: 66.67, Value: null },
              ],
            },
          ],
          Disabled: true,
          Metadata: {
            owner: 'team-checkout',
            ticket: 'https://example.com/T-1',
            expires: '2027-01-31',
            weight: 1.5,
            pii: false,
          },
          Comment: 'rules',
          OwnerID: 'owner@example.com',
          Salt: ref.name,
        };
        await store.append([flagRow(ref)]);
        const [row] = await store.append([{ kind: 'REVISION', ref, fields }]);
        await expectReadBackExactly(store, row!, fields);
      });

      it('round-trips null and look-alike values of every type exactly in rows of FormatVersion 2', async () => {
        const store = await open();
        const cases: [FlagRef, Record<string, unknown>][] = [
          [
            { project: PROJECT, flagType: 'data', name: 'greeting' },
            { Type: 'DATA', ControlValue: null },
          ],
          [
            { project: PROJECT, flagType: 'data', name: 'null-text' },
            { Type: 'DATA', ControlValue: 'null' },
          ],
          [
            { project: PROJECT, flagType: 'data', name: 'quoted' },
            { Type: 'DATA', ControlValue: '"hi"' },
          ],
          [
            { project: PROJECT, flagType: 'data', name: 'plain' },
            { Type: 'DATA', ControlValue: 'gpt-4o', Disabled: false },
          ],
          [
            { project: PROJECT, flagType: 'feature', name: 'off' },
            { Type: 'FEATURE', ControlValue: null },
          ],
          [
            { project: PROJECT, flagType: 'number', name: 'limit' },
            { Type: 'NUMBER', ControlValue: -0.25 },
          ],
          [
            { project: PROJECT, flagType: 'number', name: 'big' },
            { Type: 'NUMBER', ControlValue: 1e21 },
          ],
          [
            { project: PROJECT, flagType: 'number', name: 'none' },
            { Type: 'NUMBER', ControlValue: null },
          ],
          [
            { project: PROJECT, flagType: 'json', name: 'list' },
            { Type: 'JSON', ControlValue: [] },
          ],
        ];
        for (const [ref, extra] of cases) {
          const fields = {
            Name: ref.name,
            FormatVersion: 2,
            Treatments: [{ OverrideList: [], PercentRollout: 50, Value: null }],
            Variants: { none: 'x' },
            ...extra,
          };
          const [row] = await store.append([{ kind: 'REVISION', ref, fields }]);
          await expectReadBackExactly(store, row!, fields);
        }
      });

      it('round-trips a segment’s FLAG and REVISION rows exactly', async () => {
        const store = await open();
        const ref: FlagRef = { project: PROJECT, flagType: 'segment', name: 'beta-testers' };
        const flag = { Name: ref.name, Type: 'SEGMENT', Description: 'people who asked for early access' };
        const segment = {
          Name: ref.name,
          Type: 'SEGMENT',
          FormatVersion: 2,
          Included: ['A1', 'b#2', 'ü 3'],
          Excluded: ['A9'],
          Conditions: [
            { Attribute: 'email', Operator: 'ends_with', Values: ['@example.com', '@example.org'] },
            { Attribute: 'signup', Operator: 'before', Values: ['2026-12-01T09:30:00+01:00'] },
          ],
          Comment: 'first',
          OwnerID: 'owner@example.com',
        };
        const [flagStored, revisionStored] = await store.append([
          { kind: 'FLAG', ref, fields: flag },
          { kind: 'REVISION', ref, fields: segment },
        ]);
        await expectReadBackExactly(store, flagStored!, flag);
        await expectReadBackExactly(store, revisionStored!, segment);
        expect(revisionStored!.key).toBe(
          `PROJECT#${PROJECT}#ROWTYPE#REVISION#FLAGTYPE#segment#FLAGNAME#beta-testers#WTIME#${revisionStored!.wtime}`,
        );
        const [archived] = await store.append([{ kind: 'REVISION', ref, fields: { ...segment, Archived: true } }]);
        expect((await store.latest('REVISION', ref))?.fields.Archived).toBe(true);
        expect((await store.history('REVISION', ref)).map((r) => r.wtime)).toEqual([
          archived!.wtime,
          revisionStored!.wtime,
        ]);
      });

      it('keeps names with - and . apart from their prefixes (a, a-b, a.b, a_b, ab), listed and scanned in byte order', async () => {
        const store = await open();
        const names = ['ab', 'a.b', 'a', 'a-b.c', 'a_b', 'a-b', 'a.b-c'];
        for (const name of names) {
          await store.append([flagRow(feature(name), { Description: name })]);
          await store.append([revisionRow(feature(name), { Comment: `${name} 1` })]);
        }
        await store.append([revisionRow(feature('a-b'), { Comment: 'a-b 2' })]);
        await store.append([flagRow(data('a.b')), flagRow({ project: PROJECT, flagType: 'segment', name: 'a' })]);
        await store.append([flagRow({ project: PROJECT, flagType: 'number', name: 'a-b' })]);
        await store.append([flagRow(feature('a', `${PROJECT}.eu`)), flagRow(feature('a', `${PROJECT}-b`))]);

        const sorted = [...names].sort(byteOrder);
        expect(sorted).toEqual(['a', 'a-b', 'a-b.c', 'a.b', 'a.b-c', 'a_b', 'ab']);
        const listed = await store.listFlags(PROJECT);
        expect(listed.map((r) => `${r.ref.flagType}/${r.ref.name}`)).toEqual([
          'data/a.b',
          ...sorted.map((name) => `feature/${name}`),
          'number/a-b',
          'segment/a',
        ]);
        for (const name of names) {
          const ref = feature(name);
          expect((await store.latest('FLAG', ref))?.fields.Description).toBe(name);
          const history = await store.history('REVISION', ref);
          expect(history.map((r) => r.fields.Comment)).toEqual(name === 'a-b' ? ['a-b 2', 'a-b 1'] : [`${name} 1`]);
          expect(history.every((r) => r.ref.name === name)).toBe(true);
        }
        const scanned = await store.scanProject(PROJECT);
        expect(scanned.map((r) => r.key)).toEqual(scanned.map((r) => r.key).sort(byteOrder));
        expect(scanned.every((r) => r.ref.project === PROJECT)).toBe(true);
        expect(scanned).toHaveLength(names.length * 2 + 1 + 3);
        expect(await store.listProjects()).toEqual([PROJECT, `${PROJECT}-b`, `${PROJECT}.eu`]);
      });

      it('round-trips log entries of number and json flags, and null answers', async () => {
        const store = await open();
        const entries = [
          logEntry({ flagType: 'number', flagName: 'limit', instanceId: 'u1', value: 2.5, group: 'rule-1' }),
          logEntry({ flagType: 'number', flagName: 'limit', instanceId: 'u2', value: null, group: 'disabled' }),
          logEntry({ flagType: 'json', flagName: 'layout.v2', instanceId: 'u1', value: { columns: [1, 'x'] } }),
          logEntry({ flagType: 'json', flagName: 'layout.v2', instanceId: 'u2', value: ['a', null] }),
          logEntry({
            flagType: 'feature',
            flagName: 'boolean-flag',
            instanceId: 'u1',
            value: null,
            group: 'rule-2-split-1',
          }),
          logEntry({ flagType: 'data', flagName: 'greeting', instanceId: 'u1', value: 'null' }),
          logEntry({ flagType: 'data', flagName: 'greeting', instanceId: 'u2', value: null, group: 'control' }),
          logEntry({ flagType: 'data', flagName: 'greeting', instanceId: 'u3', value: '' }),
        ];
        await store.appendLogs(entries);
        const read = await store.readLogs({ project: PROJECT });
        expect(read).toStrictEqual([...entries].sort((x, y) => byteOrder(logRowKey(x), logRowKey(y))));
        expect((await store.readLogs({ project: PROJECT, flagType: 'json', flagName: 'layout.v2' })).length).toBe(2);
      });
    });

    describe('isolation by prefix', () => {
      it('keeps flag `abc` apart from `abcd`, and project `p` apart from `p-x` and `pp`', async () => {
        const store = await open();
        const abc = feature('abc', 'p');
        const abcd = feature('abcd', 'p');
        await store.append([revisionRow(abc, { Comment: 'abc 1' }), revisionRow(abcd, { Comment: 'abcd 1' })]);
        await store.append([revisionRow(abcd, { Comment: 'abcd 2' })]);
        await store.append([flagRow(abcd), flagRow(feature('abc', 'p-x')), flagRow(feature('abc', 'pp'))]);
        await store.append([revisionRow(feature('abc', 'p-x')), revisionRow(feature('abc', 'pp'))]);

        expect((await store.latest('REVISION', abc))?.fields.Comment).toBe('abc 1');
        expect((await store.history('REVISION', abc)).map((r) => r.fields.Comment)).toEqual(['abc 1']);
        expect((await store.history('REVISION', abcd)).map((r) => r.fields.Comment)).toEqual(['abcd 2', 'abcd 1']);
        expect(await store.latest('FLAG', abc)).toBeUndefined();
        expect((await store.listFlags('p')).map((r) => r.ref.name)).toEqual(['abcd']);
        const scanned = await store.scanProject('p');
        expect(scanned).toHaveLength(4);
        expect(scanned.every((r) => r.ref.project === 'p')).toBe(true);
      });
    });

    describe('listFlags and scanProject', () => {
      it('lists the newest FLAG row of each flag in the project, by type then name', async () => {
        const store = await open();
        await store.append([flagRow(feature('zeta')), flagRow(feature('alpha'), { Description: 'old' })]);
        await store.append([flagRow(data('beta')), flagRow(data('alpha')), revisionRow(feature('alpha'))]);
        await store.append([flagRow(feature('alpha'), { Description: 'new' })]);
        // A flag with revisions but no FLAG row is not listed; nor is another project's flag.
        await store.append([revisionRow(feature('orphan')), flagRow(feature('aaa', 'other-project'))]);

        const listed = await store.listFlags(PROJECT);
        expect(listed.map((r) => `${r.ref.flagType}/${r.ref.name}`)).toEqual([
          'data/alpha',
          'data/beta',
          'feature/alpha',
          'feature/zeta',
        ]);
        expect(listed.every((r) => r.kind === 'FLAG')).toBe(true);
        expect(listed[2]?.fields.Description).toBe('new');
        expect(listed[2]).toStrictEqual(await store.latest('FLAG', feature('alpha')));
        expect((await store.listFlags('other-project')).map((r) => r.ref.name)).toEqual(['aaa']);
      });

      it('lists the projects that have a flag, once each, in name order', async () => {
        const store = await open();
        expect(await store.listProjects()).toEqual([]);
        await store.append([
          flagRow(feature('b', 'shop')),
          flagRow(data('a', 'shop')),
          revisionRow(feature('b', 'shop')),
        ]);
        await store.append([flagRow(feature('a', 'billing')), flagRow(feature('z', PROJECT))]);
        // Revisions alone (rows other tools wrote without a FLAG row) do not make a project.
        await store.append([revisionRow(feature('orphan', 'ghost'))]);
        expect(await store.listProjects()).toEqual(['billing', PROJECT, 'shop']);
      });

      it('scans every row of a project, both kinds, in key order', async () => {
        const clock = manualClock();
        const store = await open(clock.options);
        const appended: StoredRow[] = [];
        appended.push(...(await store.append([revisionRow(feature('b')), flagRow(feature('b'))])));
        clock.now += 1000;
        appended.push(...(await store.append([flagRow(data('a')), revisionRow(data('a')), flagRow(feature('a'))])));
        clock.now -= 5000;
        appended.push(...(await store.append([revisionRow(feature('b')), revisionRow(feature('a'))])));
        await store.append([flagRow(feature('a', 'other-project'))]);

        const scanned = await store.scanProject(PROJECT);
        const keys = scanned.map((r) => r.key);
        expect(keys).toEqual([...keys].sort(byteOrder));
        expect(new Set(keys)).toEqual(new Set(appended.map((r) => r.key)));
        const byKey = new Map(appended.map((r) => [r.key, r]));
        for (const row of scanned) expect(row).toStrictEqual(byKey.get(row.key));
        // FLAG rows sort before REVISION rows: ROWTYPE comes before the flag in the key.
        const kinds = scanned.map((r) => r.kind);
        expect(kinds.lastIndexOf('FLAG')).toBeLessThan(kinds.indexOf('REVISION'));
      });
    });

    describe('concurrent writers', () => {
      const WRITERS = 8;
      const EACH = 10;

      /** `WRITERS` connections to one store's data: other processes' where the engine has them. */
      async function writers(store: StoreEngine): Promise<StoreEngine[]> {
        const all = [store];
        while (all.length < WRITERS) all.push(await writerFor(store));
        return all;
      }

      it('loses no revision of many writers appending to one flag at once, and keeps strict time order', async () => {
        const store = await open({});
        const ref = feature('contended');
        await store.append([flagRow(ref)]);
        const connections = await writers(store);
        await Promise.all(
          connections.map(async (writer, w) => {
            for (let i = 0; i < EACH; i++) await writer.append([revisionRow(ref, { Comment: `w${w}-${i}` })]);
          }),
        );
        const history = await store.history('REVISION', ref);
        expect(history).toHaveLength(WRITERS * EACH);
        const comments = history.map((row) => String(row.fields.Comment));
        expect(new Set(comments).size).toBe(WRITERS * EACH);
        const times = history.map(micros);
        for (let i = 1; i < times.length; i++) expect(times[i - 1]).toBeGreaterThan(times[i]!);
        // Each writer's own revisions read back in the order it wrote them.
        for (let w = 0; w < WRITERS; w++) {
          const own = comments.filter((comment) => comment.startsWith(`w${w}-`)).reverse();
          expect(own).toEqual(Array.from({ length: EACH }, (_, i) => `w${w}-${i}`));
        }
        expect((await store.latest('REVISION', ref))?.wtime).toBe(history[0]?.wtime);
      });

      it('lets exactly one of several writers based on the same revision through (expectedLatest); the others write nothing', async () => {
        const store = await open({});
        const ref = feature('optimistic');
        const [, base] = await store.append([flagRow(ref), revisionRow(ref, { Comment: 'base' })]);
        const connections = await writers(store);
        const results = await Promise.allSettled(
          connections.map((writer, w) =>
            writer.append([{ ...revisionRow(ref, { Comment: `edit ${w}` }), expectedLatest: base!.wtime }]),
          ),
        );
        const won = results.filter((result) => result.status === 'fulfilled');
        const refused = results.filter((result) => result.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(refused).toHaveLength(WRITERS - 1);
        for (const result of refused) {
          expect(result.reason).toBeInstanceOf(RevisionConflictError);
          expect(result.reason).toMatchObject({ code: 'RevisionConflict', status: 409, field: 'expectedLatest' });
        }
        const history = await store.history('REVISION', ref);
        expect(history.map((row) => row.fields.Comment)).toEqual([
          (won[0] as PromiseFulfilledResult<StoredRow[]>).value[0]!.fields.Comment,
          'base',
        ]);
      });

      it('writes on expectedLatest when it names the newest row of the kind, null when there is none; refuses a stale or malformed one, writing nothing of its batch', async () => {
        const store = await open({});
        const ref = feature('expected');
        const other = feature('bystander');
        await store.append([flagRow(ref), flagRow(other)]);
        const [first] = await store.append([{ ...revisionRow(ref, { Comment: 'first' }), expectedLatest: null }]);
        await expect(
          store.append([{ ...revisionRow(ref, { Comment: 'also first' }), expectedLatest: null }]),
        ).rejects.toThrow(/changed since you read it: its newest revision is .*, not expectedLatest null/);
        const [second] = await store.append([
          { ...revisionRow(ref, { Comment: 'second' }), expectedLatest: first!.wtime },
        ]);
        await expect(
          store.append([
            revisionRow(other, { Comment: 'bystander' }),
            { ...revisionRow(ref, { Comment: 'stale' }), expectedLatest: first!.wtime },
          ]),
        ).rejects.toBeInstanceOf(RevisionConflictError);
        await expect(
          store.append([{ ...revisionRow(ref, { Comment: 'bad' }), expectedLatest: 'yesterday' }]),
        ).rejects.toMatchObject({ code: 'InvalidInput', status: 400, field: 'expectedLatest' });
        expect((await store.history('REVISION', ref)).map((row) => row.fields.Comment)).toEqual(['second', 'first']);
        expect(await store.history('REVISION', other)).toEqual([]);
        expect((await store.latest('REVISION', ref))?.wtime).toBe(second!.wtime);
      });
    });

    describe('batches', () => {
      // Every engine checks a whole batch before writing any of it; engines with
      // atomicBatch also roll back when the engine itself fails midway.
      it('refuses a batch holding a row that cannot be stored, landing none of it', async () => {
        const clock = manualClock();
        const store = await open(clock.options);
        const a = feature('a');
        const b = data('b');
        await store.append([flagRow(a)]);
        const before = await store.scanProject(PROJECT);

        // The third row cannot be stored (a BigInt is not JSON), after two that could.
        const failing = store.append([revisionRow(a), flagRow(b), revisionRow(a, { Comment: 10n })]);
        await expect(failing).rejects.toBeInstanceOf(InvalidInputError);

        expect(await store.scanProject(PROJECT)).toStrictEqual(before);
        expect(await store.latest('REVISION', a)).toBeUndefined();
        expect(await store.latest('FLAG', b)).toBeUndefined();
        expect(await store.listFlags(PROJECT)).toHaveLength(1);
        // The failed batch used up no times: the next row follows the last stored one.
        const [next] = await store.append([revisionRow(a)]);
        expect(next?.wtime).toBe(formatWTime(T0 + 1));
        const [firstOfB] = await store.append([flagRow(b)]);
        expect(firstOfB?.wtime).toBe(formatWTime(T0));
      });
    });

    describe('capability: atomicBatch', () => {
      it('when the engine fails midway: lands none of the batch (atomicBatch), or keeps the rows written before the failure (without)', async (context) => {
        const clock = manualClock();
        const { store, breakWritesOf } = await openHandle(clock.options);
        if (breakWritesOf === undefined) return context.skip('this engine cannot fail midway');
        const a = feature('a');
        await store.append([flagRow(a)]);
        const before = await store.scanProject(PROJECT);
        const failing = await breakWritesOf(flagRow(feature('boom')));
        // Far more rows before the failing one than any engine writes per request.
        const batch = Array.from({ length: 600 }, (_, i) => revisionRow(a, { Comment: `r${i}` }));

        await expect(store.append([...batch, flagRow(data('b')), failing])).rejects.toThrow();

        expect(await store.latest('FLAG', feature('boom'))).toBeUndefined();
        if (store.capabilities.atomicBatch) {
          expect(await store.scanProject(PROJECT)).toStrictEqual(before);
          expect(await store.latest('FLAG', data('b'))).toBeUndefined();
          const [next] = await store.append([revisionRow(a)]);
          expect(next?.wtime).toBe(formatWTime(T0 + 1));
        } else {
          // What it does instead: the rows written before the failure stay, read back
          // like any other, and later rows of the flag still come after them.
          const kept = await store.history('REVISION', a);
          expect(kept.length).toBeGreaterThan(0);
          expect(kept.map((row) => row.fields.Comment)).toEqual(
            batch
              .slice(0, kept.length)
              .map((row) => row.fields.Comment)
              .reverse(),
          );
          const [next] = await store.append([revisionRow(a, { Comment: 'after' })]);
          expect(next!.wtime > kept[0]!.wtime).toBe(true);
          expect((await store.latest('REVISION', a))?.fields.Comment).toBe('after');
        }
        // A client may retry the failing request before giving up (Bigtable's tries four times).
      }, 60_000);
    });

    describe('a long history', () => {
      it('reads the newest of 10,000 revisions (interleaved with another flag) correctly', async () => {
        const clock = manualClock();
        const store = await open(clock.options);
        const busy = feature('busy');
        const other = feature('busy_other');
        const quiet = feature('quiet');
        await store.append([revisionRow(quiet, { Comment: 'only' })]);

        const N = 10_000;
        for (let start = 0; start < N; start += 1000) {
          const batch: NewRow[] = [];
          for (let i = start; i < start + 1000; i++) {
            batch.push(revisionRow(busy, { Comment: `busy ${i}` }), revisionRow(other, { Comment: `other ${i}` }));
          }
          await store.append(batch);
          clock.now += 250; // the clock moves, slower than the bumps: both paths are taken
        }
        await store.append([flagRow(busy)]);

        const latest = await store.latest('REVISION', busy);
        expect(latest?.fields.Comment).toBe(`busy ${N - 1}`);
        expect((await store.latest('REVISION', other))?.fields.Comment).toBe(`other ${N - 1}`);
        expect((await store.latest('REVISION', quiet))?.fields.Comment).toBe('only');
        expect(latest).toStrictEqual(await store.get('REVISION', busy, latest!.wtime));

        const top = await store.history('REVISION', busy, { limit: 3 });
        expect(top.map((r) => r.fields.Comment)).toEqual([`busy ${N - 1}`, `busy ${N - 2}`, `busy ${N - 3}`]);
        const all = await store.history('REVISION', busy);
        expect(all).toHaveLength(N);
        for (let i = 1; i < all.length; i++) expect(all[i]!.wtime < all[i - 1]!.wtime).toBe(true);
        // The FLAG row came after every revision of its flag.
        expect(micros((await store.latest('FLAG', busy))!)).toBe(micros(latest!) + 1);
      });
    });

    describe('evaluation log', () => {
      it('round-trips entries, instance ids with any character included, in key order', async () => {
        const store = await open();
        const ids = ['A123456', 'a#b', '50%', '%23', 'with space', 'Grüße 🚩 中文', 'line\nbreak\r\t', '', '#'];
        const entries = ids.map((instanceId, i) =>
          logEntry({
            instanceId,
            requestId: i % 2 ? `req#${i} %` : `9c1e-${i}`,
            value: i % 3 === 0 ? 'gpt-4o' : i % 3 === 1,
            flagType: i % 3 === 0 ? 'data' : 'feature',
            group: i % 2 ? 'treatment-2' : 'override',
            cacheHit: i % 2 === 0,
            time: formatWTime(T0 + i),
          }),
        );
        await store.appendLogs(entries);
        await store.appendLogs([logEntry({ project: 'other-project' })]);
        await store.appendLogs([]);

        const read = await store.readLogs({ project: PROJECT });
        const expected = [...entries].sort((x, y) => byteOrder(logRowKey(x), logRowKey(y)));
        expect(read).toStrictEqual(expected);
      });

      it('marks reported evaluations as reported and served ones not at all', async () => {
        const store = await open();
        const served = logEntry({ instanceId: 'served', time: formatWTime(T0) });
        const servedSaidSo = logEntry({ instanceId: 'served-false', reported: false, time: formatWTime(T0 + 1) });
        const reported = logEntry({
          instanceId: 'reported',
          reported: true,
          cacheHit: true,
          time: formatWTime(T0 + 2),
        });
        await store.appendLogs([served, servedSaidSo, reported]);

        const read = await store.readLogs({ project: PROJECT });
        const byId = new Map(read.map((entry) => [entry.instanceId, entry]));
        expect(byId.get('reported')).toStrictEqual(reported);
        // Served rows read back exactly as before the column existed: no `reported` key.
        expect(byId.get('served')).toStrictEqual(served);
        const { reported: _said, ...withoutFlag } = servedSaidSo;
        expect(byId.get('served-false')).toStrictEqual(withoutFlag);
      });

      it('filters by flag type and name (without prefix bleed) and limits', async () => {
        const store = await open();
        const entries = [
          logEntry({ flagName: 'a', instanceId: 'u1' }),
          logEntry({ flagName: 'a', instanceId: 'u2' }),
          logEntry({ flagName: 'a', instanceId: 'u3' }),
          logEntry({ flagName: 'ab', instanceId: 'u1' }),
          logEntry({ flagName: 'b', instanceId: 'u1' }),
          logEntry({ flagType: 'data', flagName: 'a', instanceId: 'u1', value: 'gpt-4o', group: 'control' }),
          logEntry({ project: `${PROJECT}-2`, flagName: 'a', instanceId: 'u9' }),
        ];
        await store.appendLogs(entries);
        const ids = (list: EvaluationLogEntry[]) => list.map((e) => `${e.flagType}/${e.flagName}/${e.instanceId}`);

        expect(ids(await store.readLogs({ project: PROJECT, flagType: 'feature', flagName: 'a' }))).toEqual([
          'feature/a/u1',
          'feature/a/u2',
          'feature/a/u3',
        ]);
        expect(ids(await store.readLogs({ project: PROJECT, flagType: 'feature', flagName: 'a', limit: 2 }))).toEqual([
          'feature/a/u1',
          'feature/a/u2',
        ]);
        expect(ids(await store.readLogs({ project: PROJECT, flagType: 'feature' }))).toEqual([
          'feature/a/u1',
          'feature/a/u2',
          'feature/a/u3',
          'feature/ab/u1',
          'feature/b/u1',
        ]);
        expect(ids(await store.readLogs({ project: PROJECT, flagType: 'data' }))).toEqual(['data/a/u1']);
        expect(ids(await store.readLogs({ project: PROJECT, limit: 1 }))).toEqual(['data/a/u1']);
        expect(await store.readLogs({ project: PROJECT, limit: 0 })).toEqual([]);
        expect(await store.readLogs({ project: PROJECT })).toHaveLength(6);
        expect(ids(await store.readLogs({ project: `${PROJECT}-2` }))).toEqual(['feature/a/u9']);
      });

      it('reads only rows at or after `since`, for a flag, a type or the project, with a limit applied after it', async () => {
        const store = await open();
        const at = (i: number) => formatWTime(T0 + i * HOUR);
        await store.appendLogs([
          logEntry({ flagName: 'a', instanceId: 'u1', requestId: 'r1', time: at(0) }),
          logEntry({ flagName: 'a', instanceId: 'u1', requestId: 'r2', time: at(2) }),
          logEntry({ flagName: 'a', instanceId: 'u2', requestId: 'r3', time: at(1) }),
          logEntry({ flagName: 'a', instanceId: 'u3', requestId: 'r4', time: at(3) }),
          logEntry({ flagName: 'ab', instanceId: 'u1', requestId: 'r5', time: at(3) }),
          logEntry({ flagType: 'data', flagName: 'a', instanceId: 'u1', value: 'x', requestId: 'r6', time: at(0) }),
        ]);
        const ids = (list: EvaluationLogEntry[]) => list.map((e) => `${e.flagName}/${e.instanceId}/${e.requestId}`);
        const flagA = { project: PROJECT, flagType: 'feature', flagName: 'a' };
        expect(ids(await store.readLogs({ ...flagA, since: at(1) }))).toEqual(['a/u1/r2', 'a/u2/r3', 'a/u3/r4']);
        // Inclusive: a row logged at exactly `since` is read.
        expect(ids(await store.readLogs({ ...flagA, since: at(3) }))).toEqual(['a/u3/r4']);
        expect(ids(await store.readLogs({ ...flagA, since: at(1), limit: 1 }))).toEqual(['a/u1/r2']);
        expect(await store.readLogs({ ...flagA, since: at(4) })).toEqual([]);
        expect(ids(await store.readLogs({ project: PROJECT, flagType: 'feature', since: at(2) }))).toEqual([
          'a/u1/r2',
          'a/u3/r4',
          'ab/u1/r5',
        ]);
        expect(ids(await store.readLogs({ project: PROJECT, since: at(3), limit: 1 }))).toEqual(['a/u3/r4']);
        await expect(store.readLogs({ ...flagA, since: 'yesterday' })).rejects.toMatchObject({ field: 'since' });
      });

      it("names each flag's newest log time, in the order asked, and nothing for a flag never logged", async () => {
        const store = await open();
        const at = (i: number) => formatWTime(T0 + i * HOUR);
        expect(await store.lastLogTimes(PROJECT, [{ flagType: 'feature', flagName: 'a' }])).toEqual([undefined]);
        await store.appendLogs([
          logEntry({ flagName: 'a', instanceId: 'u9', requestId: 'r1', time: at(0) }),
          logEntry({ flagName: 'a', instanceId: 'u1', requestId: 'r2', time: at(5) }),
          logEntry({ flagName: 'a', instanceId: 'u5', requestId: 'r3', time: at(2) }),
          logEntry({ flagName: 'ab', instanceId: 'u1', requestId: 'r4', time: at(1) }),
          logEntry({ flagType: 'data', flagName: 'a', instanceId: 'u1', value: 'x', requestId: 'r5', time: at(7) }),
          logEntry({ project: `${PROJECT}-2`, flagName: 'b', instanceId: 'u1', time: at(9) }),
          logEntry({ flagName: 'reported', instanceId: 'u1', reported: true, time: at(4) }),
        ]);
        expect(
          await store.lastLogTimes(PROJECT, [
            { flagType: 'data', flagName: 'a' },
            { flagType: 'feature', flagName: 'b' },
            { flagType: 'feature', flagName: 'a' },
            { flagType: 'feature', flagName: 'ab' },
            { flagType: 'feature', flagName: 'reported' },
          ]),
        ).toEqual([at(7), undefined, at(5), at(1), at(4)]);
        expect(await store.lastLogTimes(PROJECT, [])).toEqual([]);
      });
    });

    describe('change feed', () => {
      it('tells a watcher about rows appended from then on, by another connection too', async () => {
        const store = await open({});
        const earlier = feature('earlier');
        await store.append([flagRow(earlier)]);
        const seen: { kind: string; ref: FlagRef; wtime: string }[] = [];
        const errors: unknown[] = [];
        const stop = store.watch((changes) => seen.push(...changes), {
          intervalMs: 25,
          onError: (e) => errors.push(e),
        });
        const writer = await writerFor(store);
        const ref = data('llm_provider');
        const rows = await writer.append([flagRow(ref), revisionRow(ref)]);
        await until(() => seen.length >= 2);
        await stop();
        expect(seen).toEqual(rows.map((row) => ({ kind: row.kind, ref: row.ref, wtime: row.wtime })));
        expect(errors).toEqual([]);
      });

      it('pushes changes as they commit (push), or finds them at the next poll and not before (poll)', async () => {
        const store = await open({});
        const seen: unknown[] = [];
        // A poll interval far longer than the test: only a push engine can deliver in time.
        const stop = store.watch((changes) => seen.push(...changes), { intervalMs: 60_000 });
        try {
          const writer = await writerFor(store);
          // Let a push engine's subscription settle, as the first test's watcher did.
          await new Promise((resolve) => setTimeout(resolve, 300));
          await writer.append([flagRow(feature('pushed'))]);
          if (store.capabilities.changeFeed === 'push') {
            await until(() => seen.length === 1);
          } else {
            await new Promise((resolve) => setTimeout(resolve, 500));
            expect(seen).toEqual([]);
          }
        } finally {
          await stop();
        }
        if (store.capabilities.changeFeed === 'poll') {
          // What it does instead: a watch polling often finds the row.
          const found: unknown[] = [];
          const polling = store.watch((changes) => found.push(...changes), { intervalMs: 25 });
          const writer = await writerFor(store);
          await writer.append([flagRow(feature('polled'))]);
          await until(() => found.length === 1);
          await polling();
        }
      });

      it('stops calling the listener once stopped', async () => {
        const store = await open({});
        const seen: unknown[] = [];
        const stop = store.watch((changes) => seen.push(...changes), { intervalMs: 25 });
        await stop();
        const writer = await writerFor(store);
        await writer.append([flagRow(feature('after_stop'))]);
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(seen).toEqual([]);
      });
    });

    describe('lifecycle', () => {
      it('names its engine and capabilities', async () => {
        const store = await open();
        expect(store.engine).toMatch(/^[a-z]+$/);
        expect(typeof store.capabilities.atomicBatch).toBe('boolean');
        expect(['push', 'poll']).toContain(store.capabilities.changeFeed);
      });

      it('answers ping while open; after close, ping rejects with UnavailableError', async () => {
        const store = await open();
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await expect(store.ping()).rejects.toBeInstanceOf(UnavailableError);
        await expect(store.latest('FLAG', feature('x'))).rejects.toBeInstanceOf(UnavailableError);
        await expect(store.close()).resolves.toBeUndefined();
      });
    });
  });
}
