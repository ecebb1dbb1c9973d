import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Bigtable } from '@google-cloud/bigtable';
import {
  type EvaluationResult,
  evaluateRevision,
  type FlagRef,
  formatWTime,
  InvalidInputError,
  logRowKey,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from '@vexil/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BigtableStore, type BigtableStoreOptions } from '../src/engines/bigtable/bigtable-store.js';
import type { EvaluationLogEntry, FlagChange, NewRow, StoreOptions } from '../src/index.js';
import {
  type BigtableEmulator,
  parseCbtRows,
  runCbt,
  startBigtableEmulator,
} from '../src/testing/bigtable-emulator.js';
import { describeStoreConformance } from './conformance.js';
import { until } from './wait.js';

const PROJECT_ID = 'vexil-test';
const INSTANCE_ID = 'vexil-instance';
/** 2024-09-25 18:42:51.493000 UTC, in microseconds. */
const T0 = Date.UTC(2024, 8, 25, 18, 42, 51, 493) * 1000;
const PROJECT = 'csr-assistant';

let emulator: BigtableEmulator;
beforeAll(async () => {
  emulator = await startBigtableEmulator();
});
afterAll(async () => {
  await emulator?.stop();
});

let tableCount = 0;
/** A fresh pair of tables (named like the runbook system's), so tests share nothing. */
function freshTables(): { flagTableId: string; logTableId: string } {
  tableCount += 1;
  return {
    flagTableId: `t${tableCount}_feature_flag_bigtable`,
    logTableId: `t${tableCount}_feature_flag_service_operation_log`,
  };
}

function storeOptions(tables: { flagTableId: string; logTableId: string }, options: StoreOptions = {}) {
  const base: BigtableStoreOptions = {
    projectId: PROJECT_ID,
    instanceId: INSTANCE_ID,
    emulatorHost: emulator.host,
    ...tables,
  };
  return { ...base, ...options };
}

function cbt(...args: string[]): Promise<string> {
  return runCbt({ host: emulator.host, project: PROJECT_ID, instance: INSTANCE_ID }, args);
}

/** Requests this client may send: a row larger than this fails on its way to Bigtable. */
const MAX_REQUEST_BYTES = 1024 * 1024;

describeStoreConformance('BigtableStore', async (options) => {
  const tables = freshTables();
  const store = new BigtableStore({
    ...storeOptions(tables, options),
    // Passed on to gRPC by the client (its options type does not list gRPC's own).
    clientOptions: Object.fromEntries([['grpc.max_send_message_length', MAX_REQUEST_BYTES]]),
  });
  await store.init();
  return {
    store,
    openPeer: async () => new BigtableStore(storeOptions(tables)),
    // A row too large for one request: the request carrying it fails, those before it were sent.
    breakWritesOf: async (row) => ({
      ...row,
      fields: { ...row.fields, Description: 'x'.repeat(MAX_REQUEST_BYTES + 1) },
    }),
  };
});

function feature(name: string): FlagRef {
  return { project: PROJECT, flagType: 'feature', name };
}

function revision(ref: FlagRef, extra: Record<string, unknown> = {}): NewRow {
  return {
    kind: 'REVISION',
    ref,
    fields: {
      Name: ref.name,
      Type: ref.flagType === 'feature' ? 'FEATURE' : 'DATA',
      FormatVersion: 1,
      ControlValue: ref.flagType === 'feature' ? false : 'gpt-4o',
      Comment: 'a revision',
      OwnerID: 'John Smith',
      Treatments: [],
      ...extra,
    },
  };
}

/** The runbook system's rule for one treatment without salt: override, else md5(id) < p% of 2^128. */
function runbookRule(
  instanceId: string,
  treatment: { overrides: string[]; percent: number; value: boolean | string },
  control: boolean | string,
): EvaluationResult {
  if (treatment.overrides.includes(instanceId)) return { value: treatment.value, group: 'override' };
  const h = BigInt(`0x${createHash('md5').update(instanceId, 'utf8').digest('hex')}`);
  return h * 100n < BigInt(treatment.percent) * (1n << 128n)
    ? { value: treatment.value, group: 'treatment' }
    : { value: control, group: 'control' };
}

describe('BigtableStore', () => {
  const opened: BigtableStore[] = [];
  function open(tables: { flagTableId: string; logTableId: string }, options: StoreOptions = {}): BigtableStore {
    const store = new BigtableStore(storeOptions(tables, options));
    opened.push(store);
    return store;
  }
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    vi.unstubAllEnvs();
  });

  describe("on the runbook system's tables", () => {
    const FLAG_KEY =
      'PROJECT#csr-assistant#ROWTYPE#FLAG#FLAGTYPE#feature#FLAGNAME#multi_step_api_router#WTIME#2024-09-25 18:42:51.493483';
    const REVISION_KEY =
      'PROJECT#csr-assistant#ROWTYPE#REVISION#FLAGTYPE#feature#FLAGNAME#multi_step_api_router#WTIME#2024-09-25 19:15:28.248896';

    it('reads the rows the runbook tools wrote (cbt set) and evaluates them exactly by the runbook rule', async () => {
      const tables = freshTables();
      // The runbook system's own table, as it exists: made with cbt, rows set with cbt.
      await cbt('createtable', tables.flagTableId, 'families=metadata');
      await cbt(
        'set',
        tables.flagTableId,
        FLAG_KEY,
        'metadata:Name=multi_step_api_router',
        'metadata:Description=Enable multi step API router',
        'metadata:Type=FEATURE',
        'metadata:CreatedTime=2024-09-25 18:42:51.493483',
      );
      await cbt(
        'set',
        tables.flagTableId,
        REVISION_KEY,
        'metadata:Name=multi_step_api_router',
        'metadata:Type=FEATURE',
        'metadata:FormatVersion=1',
        'metadata:ControlValue=False',
        'metadata:Comment=Rollout to 40%',
        'metadata:OwnerID=John Smith',
        "metadata:Treatments=[{'OverrideList': ['A12345'], 'PercentRollout': 40, 'Value': True}]",
        'metadata:CreatedTime=2024-09-25 19:15:28.248896',
      );
      const dataKey =
        'PROJECT#csr-assistant#ROWTYPE#REVISION#FLAGTYPE#data#FLAGNAME#llm_version#WTIME#2024-09-26 08:00:00.000001';
      await cbt(
        'set',
        tables.flagTableId,
        dataKey,
        'metadata:Name=llm_version',
        'metadata:Type=DATA',
        'metadata:FormatVersion=1',
        'metadata:ControlValue=gpt-4o',
        'metadata:Comment=25% on the mini model',
        'metadata:OwnerID=John Smith',
        "metadata:Treatments=[{'OverrideList': ['A12345'], 'PercentRollout': 25, 'Value': 'gpt-4o-mini'}]",
        'metadata:CreatedTime=2024-09-26 08:00:00.000001',
      );

      const store = open(tables);
      await store.init(); // adds the log and side tables; the flag table stays as it is
      const ref = feature('multi_step_api_router');

      const flag = await store.latest('FLAG', ref);
      expect(flag).toStrictEqual({
        kind: 'FLAG',
        ref,
        wtime: '2024-09-25 18:42:51.493483',
        key: FLAG_KEY,
        fields: {
          CreatedTime: '2024-09-25 18:42:51.493483',
          Description: 'Enable multi step API router',
          Name: 'multi_step_api_router',
          Type: 'FEATURE',
        },
      });
      const latest = await store.latest('REVISION', ref);
      expect(latest?.key).toBe(REVISION_KEY);
      expect(latest?.fields).toStrictEqual({
        Comment: 'Rollout to 40%',
        ControlValue: false,
        CreatedTime: '2024-09-25 19:15:28.248896',
        FormatVersion: 1,
        Name: 'multi_step_api_router',
        OwnerID: 'John Smith',
        Treatments: [{ OverrideList: ['A12345'], PercentRollout: 40, Value: true }],
        Type: 'FEATURE',
      });

      const ids = ['A12345', ...Array.from({ length: 400 }, (_, i) => `A${100000 + i * 37}`)];
      const groups = new Set<string>();
      for (const id of ids) {
        const expected = runbookRule(id, { overrides: ['A12345'], percent: 40, value: true }, false);
        expect(evaluateRevision(latest!.fields, id), id).toEqual(expected);
        groups.add(expected.group);
      }
      expect(groups).toEqual(new Set(['override', 'treatment', 'control']));

      const data = await store.latest('REVISION', { project: PROJECT, flagType: 'data', name: 'llm_version' });
      expect(data?.fields.ControlValue).toBe('gpt-4o');
      expect(data?.fields.Treatments).toEqual([{ OverrideList: ['A12345'], PercentRollout: 25, Value: 'gpt-4o-mini' }]);
      for (const id of ids) {
        const expected = runbookRule(id, { overrides: ['A12345'], percent: 25, value: 'gpt-4o-mini' }, 'gpt-4o');
        expect(evaluateRevision(data!.fields, id), id).toEqual(expected);
      }

      expect((await store.listFlags(PROJECT)).map((r) => r.key)).toEqual([FLAG_KEY]);
      expect((await store.scanProject(PROJECT)).map((r) => r.key)).toEqual([FLAG_KEY, dataKey, REVISION_KEY]);
    });

    it('writes the runbook key layout and one column per field, as cbt read and cbt lookup show them', async () => {
      const tables = freshTables();
      const store = open(tables, { now: () => T0 });
      await store.init();
      const ref = feature('multi_step_api_router');
      const [flag, rev] = await store.append([
        {
          kind: 'FLAG',
          ref,
          fields: { Name: 'multi_step_api_router', Description: 'Enable multi step API router', Type: 'FEATURE' },
        },
        revision(ref, {
          Comment: 'Rollout to 40%',
          Treatments: [{ OverrideList: ['A12345'], PercentRollout: 40, Value: true }],
          Salt: 'multi_step_api_router',
          HashAlgorithm: 'md5',
        }),
      ]);

      const flagKey =
        'PROJECT#csr-assistant#ROWTYPE#FLAG#FLAGTYPE#feature#FLAGNAME#multi_step_api_router#WTIME#2024-09-25 18:42:51.493000';
      const revisionKey =
        'PROJECT#csr-assistant#ROWTYPE#REVISION#FLAGTYPE#feature#FLAGNAME#multi_step_api_router#WTIME#2024-09-25 18:42:51.493001';
      expect([flag?.key, rev?.key]).toEqual([flagKey, revisionKey]);

      const expected = [
        {
          key: flagKey,
          cells: {
            'metadata:CreatedTime': '2024-09-25 18:42:51.493000',
            'metadata:Description': 'Enable multi step API router',
            'metadata:Name': 'multi_step_api_router',
            'metadata:Type': 'FEATURE',
          },
        },
        {
          key: revisionKey,
          cells: {
            'metadata:Comment': 'Rollout to 40%',
            'metadata:ControlValue': 'false',
            'metadata:CreatedTime': '2024-09-25 18:42:51.493001',
            'metadata:FormatVersion': '1',
            'metadata:HashAlgorithm': 'md5',
            'metadata:Name': 'multi_step_api_router',
            'metadata:OwnerID': 'John Smith',
            'metadata:Salt': 'multi_step_api_router',
            'metadata:Treatments': '[{"OverrideList":["A12345"],"PercentRollout":40,"Value":true}]',
            'metadata:Type': 'FEATURE',
          },
        },
      ];
      // The whole flag table: the runbook rows and nothing of Vexil's own.
      expect(parseCbtRows(await cbt('read', tables.flagTableId))).toEqual(expected);
      // A Bigtable Studio `_key LIKE 'PROJECT#…#ROWTYPE#REVISION#…#FLAGNAME#multi_step_api_router%'`, by prefix.
      expect(
        parseCbtRows(
          await cbt(
            'read',
            tables.flagTableId,
            'prefix=PROJECT#csr-assistant#ROWTYPE#REVISION#FLAGTYPE#feature#FLAGNAME#multi_step_api_router',
          ),
        ),
      ).toEqual([expected[1]]);
      expect(parseCbtRows(await cbt('lookup', tables.flagTableId, revisionKey))).toEqual([expected[1]]);
      expect(parseCbtRows(await cbt('lookup', tables.flagTableId, flagKey))).toEqual([expected[0]]);

      // Vexil's side table sits beside the runbook tables; the families are the runbook's.
      const tablesListed = (await cbt('ls')).split('\n').map((line) => line.trim());
      expect(tablesListed).toEqual(
        expect.arrayContaining([tables.flagTableId, tables.logTableId, `${tables.flagTableId}_vexil`]),
      );
      expect(await cbt('ls', tables.flagTableId)).toMatch(/^metadata\b/m);
    });

    it('returns a newer row written by cbt set after its own rows as latest, and appends after it', async () => {
      const tables = freshTables();
      const store = open(tables, { now: () => T0 });
      await store.init();
      const peer = open(tables, { now: () => T0 });
      const ref = feature('new_ui');
      await store.append([{ kind: 'FLAG', ref, fields: { Name: 'new_ui', Type: 'FEATURE' } }]);
      for (let i = 0; i < 3; i++) await store.append([revision(ref, { Comment: `vexil ${i}` })]);
      expect((await store.latest('REVISION', ref))?.fields.Comment).toBe('vexil 2');

      const later = '2024-09-25 19:15:28.248896';
      const cbtKey = `PROJECT#csr-assistant#ROWTYPE#REVISION#FLAGTYPE#feature#FLAGNAME#new_ui#WTIME#${later}`;
      await cbt(
        'set',
        tables.flagTableId,
        cbtKey,
        'metadata:Name=new_ui',
        'metadata:Type=FEATURE',
        'metadata:FormatVersion=1',
        'metadata:ControlValue=True',
        'metadata:Comment=from the DAG',
        'metadata:Treatments=[]',
        `metadata:CreatedTime=${later}`,
      );
      // An older row written late is not the newest.
      await cbt(
        'set',
        tables.flagTableId,
        'PROJECT#csr-assistant#ROWTYPE#REVISION#FLAGTYPE#feature#FLAGNAME#new_ui#WTIME#2024-01-01 00:00:00.000000',
        'metadata:Comment=old',
      );

      for (const reader of [store, peer]) {
        const latest = await reader.latest('REVISION', ref);
        expect(latest?.key).toBe(cbtKey);
        expect(latest?.fields).toStrictEqual({
          Name: 'new_ui',
          Type: 'FEATURE',
          FormatVersion: 1,
          ControlValue: true,
          Comment: 'from the DAG',
          Treatments: [],
          CreatedTime: later,
        });
      }
      expect((await store.latest('FLAG', ref))?.wtime).toBe(formatWTime(T0));
      expect((await store.history('REVISION', ref)).map((r) => r.fields.Comment)).toEqual([
        'from the DAG',
        'vexil 2',
        'vexil 1',
        'vexil 0',
        'old',
      ]);

      // The clock still says T0: the next row still comes after the DAG's.
      const [next] = await peer.append([revision(ref, { Comment: 'after the DAG' })]);
      expect(next?.wtime).toBe('2024-09-25 19:15:28.248897');
      expect((await store.latest('REVISION', ref))?.fields.Comment).toBe('after the DAG');
    });

    it('reads a flag only the runbook tools wrote in full once, then from its head', async () => {
      const tables = freshTables();
      const store = open(tables);
      await store.init();
      for (let i = 0; i < 6; i++) {
        await cbt(
          'set',
          tables.flagTableId,
          `PROJECT#csr-assistant#ROWTYPE#REVISION#FLAGTYPE#feature#FLAGNAME#dag_only#WTIME#2024-09-25 19:15:2${i}.000000`,
          'metadata:Name=dag_only',
          'metadata:Type=FEATURE',
          'metadata:ControlValue=False',
          `metadata:Comment=dag ${i}`,
          'metadata:Treatments=[]',
        );
      }
      const ref = feature('dag_only');
      const rowsRead = async () => {
        const before = store.readStats.rowsRead;
        const latest = await store.latest('REVISION', ref);
        return { comment: latest?.fields.Comment, rows: store.readStats.rowsRead - before };
      };
      expect(await rowsRead()).toEqual({ comment: 'dag 5', rows: 6 });
      expect(await rowsRead()).toEqual({ comment: 'dag 5', rows: 2 });
      expect(await rowsRead()).toEqual({ comment: 'dag 5', rows: 2 });
    });

    it('keeps the flag model’s fields as columns of the metadata family, JSON-encoded, and reads them back exactly', async () => {
      const tables = freshTables();
      const store = open(tables);
      await store.init();
      const ref: FlagRef = { project: PROJECT, flagType: 'data', name: 'greeting.text' };
      const fields = {
        Name: 'greeting.text',
        Type: 'DATA',
        FormatVersion: 2,
        ControlValue: null,
        Treatments: [{ OverrideList: ['A1'], PercentRollout: 10, Value: 'null' }],
        Variants: { hi: 'hello', literal: 'null' },
        Rules: [{ Conditions: [{ Attribute: 'country', Operator: 'in', Values: ['DE', 49] }], Value: 'hello' }],
        Disabled: true,
        Metadata: { owner: 'team-a', expires: '2027-01-31', weight: 2 },
      };
      const [stored] = await store.append([{ kind: 'REVISION', ref, fields }]);
      const expected = { ...fields, CreatedTime: stored!.wtime };
      expect((await store.latest('REVISION', ref))?.fields).toStrictEqual(expected);

      const [row] = parseCbtRows(await cbt('lookup', tables.flagTableId, stored!.key));
      expect(row?.cells).toEqual({
        'metadata:Name': 'greeting.text',
        'metadata:Type': 'DATA',
        'metadata:FormatVersion': '2',
        'metadata:ControlValue': 'null',
        'metadata:Treatments': '[{"OverrideList":["A1"],"PercentRollout":10,"Value":"null"}]',
        'metadata:Variants': '{"hi":"hello","literal":"null"}',
        'metadata:Rules':
          '[{"Conditions":[{"Attribute":"country","Operator":"in","Values":["DE",49]}],"Value":"hello"}]',
        'metadata:Disabled': 'true',
        'metadata:Metadata': '{"owner":"team-a","expires":"2027-01-31","weight":2}',
        'metadata:CreatedTime': stored!.wtime,
      });

      // A data flag's ControlValue spelt like null: plain text in the runbook's rows, quoted in the flag model's.
      const [modelText] = await store.append([{ kind: 'REVISION', ref, fields: { ...fields, ControlValue: 'null' } }]);
      const [modelRow] = parseCbtRows(await cbt('lookup', tables.flagTableId, modelText!.key));
      expect(modelRow?.cells['metadata:ControlValue']).toBe('"null"');
      expect((await store.latest('REVISION', ref))?.fields.ControlValue).toBe('null');
      const runbookRef = feature('x');
      const dataRef: FlagRef = { ...runbookRef, flagType: 'data', name: 'runbook_text' };
      const [runbookText] = await store.append([
        {
          kind: 'REVISION',
          ref: dataRef,
          fields: { Name: 'runbook_text', Type: 'DATA', FormatVersion: 1, ControlValue: 'null', Treatments: [] },
        },
      ]);
      const [runbookRow] = parseCbtRows(await cbt('lookup', tables.flagTableId, runbookText!.key));
      expect(runbookRow?.cells['metadata:ControlValue']).toBe('null');
      expect((await store.latest('REVISION', dataRef))?.fields.ControlValue).toBe('null');
    });

    it('reads the flag model’s columns as the runbook tools would spell them (Python literals)', async () => {
      const tables = freshTables();
      const store = open(tables);
      await store.init();
      await cbt(
        'set',
        tables.flagTableId,
        'PROJECT#csr-assistant#ROWTYPE#REVISION#FLAGTYPE#feature#FLAGNAME#py#WTIME#2024-09-25 19:15:28.248896',
        'metadata:Name=py',
        'metadata:Type=FEATURE',
        'metadata:FormatVersion=2',
        'metadata:ControlValue=False',
        "metadata:Variants={'on': True, 'off': False}",
        "metadata:Rules=[{'Conditions': [], 'Value': True}]",
        'metadata:Disabled=True',
        "metadata:Metadata={'owner': 'team-a'}",
      );
      const read = await store.latest('REVISION', feature('py'));
      expect(read?.fields).toStrictEqual({
        Name: 'py',
        Type: 'FEATURE',
        FormatVersion: 2,
        ControlValue: false,
        Variants: { on: true, off: false },
        Rules: [{ Conditions: [], Value: true }],
        Disabled: true,
        Metadata: { owner: 'team-a' },
      });
    });

    it('round-trips unknown columns exactly, strings that look like other values included', async () => {
      const tables = freshTables();
      const store = open(tables);
      await store.init();
      const ref = feature('extras');
      const extras = {
        Version: '1.5',
        Flagish: 'true',
        PyTrue: 'True',
        PyNone: 'None',
        Nothing: 'null',
        Listy: '[1]',
        PyQuoted: "'x'",
        JsonQuoted: '"q"',
        Plain: 'hello world',
        Empty: '',
        LeadingZeros: '\u0000\u0000abcdef',
        EightBytes: 'abcdefgh',
        Num: 1.5,
        Bool: true,
        Null: null,
        List: ['a', 1],
      };
      const [stored] = await store.append([revision(ref, extras)]);
      const expected = { ...revision(ref, extras).fields, CreatedTime: stored!.wtime };
      expect(stored?.fields).toStrictEqual(expected);
      expect((await store.latest('REVISION', ref))?.fields).toStrictEqual(expected);

      const [row] = parseCbtRows(await cbt('lookup', tables.flagTableId, stored!.key));
      expect(row?.cells).toMatchObject({
        'metadata:Version': '"1.5"',
        'metadata:Flagish': '"true"',
        'metadata:PyTrue': '"True"',
        'metadata:PyQuoted': '"\'x\'"',
        'metadata:JsonQuoted': '"\\"q\\""',
        'metadata:Plain': 'hello world',
        'metadata:Empty': '',
        'metadata:EightBytes': 'abcdefgh',
        'metadata:Num': '1.5',
        'metadata:Bool': 'true',
        'metadata:Null': 'null',
        'metadata:List': '["a",1]',
      });
    });

    it('reads unknown columns the runbook tools wrote as Python literals, JSON or text', async () => {
      const tables = freshTables();
      const store = open(tables);
      await store.init();
      await cbt(
        'set',
        tables.flagTableId,
        'PROJECT#csr-assistant#FLAG#x',
        'metadata:Name=not a flag row', // a row of some other tool under the project: skipped
      );
      await cbt(
        'set',
        tables.flagTableId,
        'PROJECT#csr-assistant#ROWTYPE#FLAG#FLAGTYPE#feature#FLAGNAME#extras#WTIME#2024-09-25 19:15:28.248896',
        'metadata:Name=extras',
        'metadata:Type=FEATURE',
        "metadata:Labels={'team': 'csr', 'tags': ['a', 1, None], 'on': True}",
        'metadata:Count=7',
        'metadata:Ratio=0.25',
        'metadata:Json={"a": [true, null]}',
        'metadata:Note=hello world',
        'metadata:Archived=False',
      );
      const flag = await store.latest('FLAG', feature('extras'));
      expect(flag?.fields).toStrictEqual({
        Name: 'extras',
        Type: 'FEATURE',
        Labels: { team: 'csr', tags: ['a', 1, null], on: true },
        Count: 7,
        Ratio: 0.25,
        Json: { a: [true, null] },
        Note: 'hello world',
        Archived: false,
      });
      expect((await store.scanProject(PROJECT)).map((r) => r.ref.name)).toEqual(['extras']);
    });

    it('leaves a cell it cannot decode as its text, so validation reports that flag alone', async () => {
      const tables = freshTables();
      const store = open(tables);
      await store.init();
      await store.append([
        revision(feature('good'), { Treatments: [{ OverrideList: [], PercentRollout: 100, Value: true }] }),
      ]);
      const badKey =
        'PROJECT#csr-assistant#ROWTYPE#REVISION#FLAGTYPE#feature#FLAGNAME#bad#WTIME#2024-09-25 19:15:28.248896';
      await cbt(
        'set',
        tables.flagTableId,
        badKey,
        'metadata:Name=bad',
        'metadata:Type=FEATURE',
        'metadata:FormatVersion=one',
        'metadata:ControlValue=maybe',
        "metadata:Treatments=[{'OverrideList': ['A1'",
        'metadata:Archived=perhaps',
      );
      const bad = await store.latest('REVISION', feature('bad'));
      expect(bad?.fields).toStrictEqual({
        Name: 'bad',
        Type: 'FEATURE',
        FormatVersion: 'one',
        ControlValue: 'maybe',
        Treatments: "[{'OverrideList': ['A1'",
        Archived: 'perhaps',
      });
      expect(() => evaluateRevision(bad!.fields, 'A1')).toThrow(ValidationError);
      const good = await store.latest('REVISION', feature('good'));
      expect(evaluateRevision(good!.fields, 'A1')).toEqual({ value: true, group: 'treatment' });
      expect(await store.scanProject(PROJECT)).toHaveLength(2);
    });
  });

  describe('evaluation log', () => {
    it('writes the runbook log columns, and reads logs the runbook service wrote', async () => {
      const tables = freshTables();
      const store = open(tables);
      await store.init();
      const entry: EvaluationLogEntry = {
        project: PROJECT,
        flagType: 'feature',
        flagName: 'multi_step_api_router',
        instanceId: 'A123456',
        requestId: '9c1e-1',
        time: '2024-09-25 19:15:29.000001',
        value: true,
        group: 'treatment',
        cacheHit: false,
      };
      await store.appendLogs([entry]);
      expect(parseCbtRows(await cbt('lookup', tables.logTableId, logRowKey(entry)))).toEqual([
        {
          key: 'PROJECT#csr-assistant#FLAGTYPE#feature#FLAGNAME#multi_step_api_router#INSTANCEID#A123456#REQUESTID#9c1e-1#TIME#2024-09-25 19:15:29.000001',
          cells: {
            'metadata:AssignedGroup': 'treatment',
            'metadata:AssignedValue': 'true',
            'metadata:CacheFlag': 'false',
            'metadata:CreatedTimestamp': '2024-09-25 19:15:29.000001',
            'metadata:InstanceID': 'A123456',
            'metadata:Name': 'multi_step_api_router',
            'metadata:RequestID': '9c1e-1',
            'metadata:Type': 'feature',
          },
        },
      ]);

      // Rows as the runbook service's background task wrote them.
      const written: [EvaluationLogEntry, string, string][] = [
        [
          { ...entry, instanceId: 'B1', requestId: 'r2', value: false, group: 'control', cacheHit: true },
          'False',
          'True',
        ],
        [{ ...entry, instanceId: 'B2', requestId: 'r3', value: true, group: 'override', cacheHit: false }, 'True', '0'],
        [
          {
            ...entry,
            flagType: 'data',
            flagName: 'llm_version',
            instanceId: 'B3',
            requestId: 'r4',
            value: 'gpt-4o',
            group: 'control',
            cacheHit: true,
          },
          'gpt-4o',
          '1',
        ],
        [
          {
            ...entry,
            flagType: 'data',
            flagName: 'llm_version',
            instanceId: 'B4',
            requestId: 'r5',
            value: 'True',
            group: 'control',
            cacheHit: false,
          },
          'True',
          'false',
        ],
        [
          {
            ...entry,
            flagType: 'data',
            flagName: 'llm_version',
            instanceId: 'B5',
            requestId: 'r6',
            value: 'o1',
            group: 'treatment',
            cacheHit: true,
          },
          '"o1"',
          'true',
        ],
      ];
      for (const [e, assigned, cacheFlag] of written) {
        await cbt(
          'set',
          tables.logTableId,
          logRowKey(e),
          `metadata:RequestID=${e.requestId}`,
          `metadata:Name=${e.flagName}`,
          `metadata:CreatedTimestamp=${e.time}`,
          `metadata:Type=${e.flagType}`,
          `metadata:InstanceID=${e.instanceId}`,
          `metadata:AssignedValue=${assigned}`,
          `metadata:AssignedGroup=${e.group}`,
          `metadata:CacheFlag=${cacheFlag}`,
        );
      }
      const read = await store.readLogs({ project: PROJECT });
      const expected = [entry, ...written.map(([e]) => e)].sort((a, b) => (logRowKey(a) < logRowKey(b) ? -1 : 1));
      expect(read).toStrictEqual(expected);
      expect(await store.readLogs({ project: PROJECT, flagType: 'data', flagName: 'llm_version', limit: 2 })).toEqual(
        expected.filter((e) => e.flagType === 'data').slice(0, 2),
      );
      // A data flag's value that reads like a boolean or JSON stays the string it was.
      const tricky = { ...entry, flagType: 'data', flagName: 'x', value: '"quoted"', instanceId: 'C1' };
      await store.appendLogs([tricky, { ...tricky, value: 'true', instanceId: 'C2' }]);
      expect((await store.readLogs({ project: PROJECT, flagType: 'data', flagName: 'x' })).map((e) => e.value)).toEqual(
        ['"quoted"', 'true'],
      );
    });
  });

  describe('reading the latest row', () => {
    it('reads the same rows from Bigtable for 1 and for 10,000 revisions', async () => {
      const tables = freshTables();
      let now = T0;
      const store = open(tables, { now: () => now });
      await store.init();
      const one = feature('one');
      const busy = feature('busy');
      await store.append([revision(one, { Comment: 'only' })]);
      for (let start = 0; start < 10_000; start += 2500) {
        const batch: NewRow[] = [];
        for (let i = start; i < start + 2500; i++) batch.push(revision(busy, { Comment: `r${i}` }));
        await store.append(batch);
        now += 100;
      }
      await store.append([{ kind: 'FLAG', ref: busy, fields: { Name: 'busy', Type: 'FEATURE' } }]);

      const measure = async (reader: BigtableStore, ref: FlagRef) => {
        const before = reader.readStats;
        const row = await reader.latest('REVISION', ref);
        const after = reader.readStats;
        return {
          comment: row?.fields.Comment,
          rowsRead: after.rowsRead - before.rowsRead,
          readRequests: after.readRequests - before.readRequests,
        };
      };
      // The head row and the newest row: two rows in two requests, whatever the history.
      expect(await measure(store, one)).toEqual({ comment: 'only', rowsRead: 2, readRequests: 2 });
      expect(await measure(store, busy)).toEqual({ comment: 'r9999', rowsRead: 2, readRequests: 2 });
      const other = open(tables);
      expect(await measure(other, busy)).toEqual({ comment: 'r9999', rowsRead: 2, readRequests: 2 });

      // The counter does count every row read: history reads all 10,000 keys, then the 2 rows asked for.
      const before = other.readStats.rowsRead;
      const top = await other.history('REVISION', busy, { limit: 2 });
      expect(top.map((r) => r.fields.Comment)).toEqual(['r9999', 'r9998']);
      expect(other.readStats.rowsRead - before).toBe(10_002);
    });
  });

  describe('WTIME across processes', () => {
    it('gives two instances appending to one flag at once strictly increasing, distinct times', async () => {
      const tables = freshTables();
      // The same frozen clock in both: every time comes from the shared head.
      const a = open(tables, { now: () => T0 });
      await a.init();
      const b = open(tables, { now: () => T0 });
      const ref = feature('contended');
      const run = async (store: BigtableStore, who: string) => {
        const times: string[] = [];
        for (let i = 0; i < 15; i++) {
          const rows = i % 3 === 0 ? [revision(ref, { Comment: `${who}${i}` })] : [revision(ref), revision(ref)];
          times.push(...(await store.append(rows)).map((r) => r.wtime));
        }
        return times;
      };
      const [fromA, fromB] = await Promise.all([run(a, 'a'), run(b, 'b')]);
      for (const times of [fromA!, fromB!]) {
        for (let i = 1; i < times.length; i++) expect(times[i]! > times[i - 1]!).toBe(true);
      }
      const all = [...fromA!, ...fromB!];
      expect(new Set(all).size).toBe(all.length);
      // Nothing reused, nothing skipped: T0, T0+1µs, … in some interleaving.
      expect([...all].sort()).toEqual(Array.from({ length: all.length }, (_, i) => formatWTime(T0 + i)));
      expect(await a.history('REVISION', ref)).toHaveLength(all.length);
      expect((await b.latest('REVISION', ref))?.wtime).toBe(formatWTime(T0 + all.length - 1));
    });
  });

  describe('append', () => {
    it('checks every row of a batch before writing any, and uses up no time for a refused batch', async () => {
      const tables = freshTables();
      const store = open(tables, { now: () => T0 });
      await store.init();
      const ref = feature('checked');
      const refused = store.append([revision(ref), revision(feature('other')), revision(ref, { Comment: 10n })]);
      await expect(refused).rejects.toBeInstanceOf(InvalidInputError);
      expect(await store.scanProject(PROJECT)).toEqual([]);
      expect(parseCbtRows(await cbt('read', tables.flagTableId))).toEqual([]);
      const [first] = await store.append([revision(ref)]);
      expect(first?.wtime).toBe(formatWTime(T0));
    });
  });

  describe('change feed', () => {
    it('tells a watcher about an append whose change marker lands after a later one', async () => {
      const tables = freshTables();
      const store = open(tables);
      await store.init();
      const writer = open(tables);
      const seen: FlagChange[] = [];
      const errors: unknown[] = [];
      const stop = store.watch((changes) => seen.push(...changes), {
        intervalMs: 25,
        onError: (error) => errors.push(error),
      });
      const client = new Bigtable({
        projectId: PROJECT_ID,
        apiEndpoint: emulator.host,
        metricsEnabled: false,
        universeDomain: 'googleapis.com',
      });
      try {
        // A slow writer numbers its append (as every append does) but has not written its marker yet.
        const side = `${tables.flagTableId}_vexil`;
        const [slow] = await client.instance(INSTANCE_ID).table(side).row('SEQ').increment('head:SEQ', 1);
        const [later] = await writer.append([revision(feature('later'))]);
        await until(() => seen.length >= 1);
        expect(seen).toEqual([{ kind: 'REVISION', ref: feature('later'), wtime: later!.wtime }]);

        const wtime = formatWTime(T0);
        await cbt(
          'set',
          side,
          `CHANGE#${String(slow).padStart(16, '0')}`,
          `change:Rows=${JSON.stringify([['REVISION', PROJECT, 'feature', 'slow', wtime]])}`,
          `change:Time=${Date.now() * 1000}`,
        );
        await until(() => seen.length >= 2);
        expect(seen[1]).toEqual({ kind: 'REVISION', ref: feature('slow'), wtime });
        expect(errors).toEqual([]);
      } finally {
        await stop();
        await client.close();
      }
    });
  });

  describe('init and errors', () => {
    it('creates the missing tables and families, keeps what exists, and is safe to run twice and at once', async () => {
      const tables = freshTables();
      const store = open(tables);
      const error = await store.ping().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as UnavailableError).hint).toMatch(/vexil init/);
      await expect(store.latest('REVISION', feature('x'))).rejects.toBeInstanceOf(UnavailableError);
      await expect(BigtableStore.open(storeOptions(tables))).rejects.toBeInstanceOf(UnavailableError);

      // The runbook's flag table exists with a row; its log table exists without its family.
      await cbt('createtable', tables.flagTableId, 'families=metadata');
      await cbt(
        'set',
        tables.flagTableId,
        'PROJECT#csr-assistant#ROWTYPE#FLAG#FLAGTYPE#feature#FLAGNAME#kept#WTIME#2024-09-25 18:42:51.493483',
        'metadata:Name=kept',
      );
      await cbt('createtable', tables.logTableId);

      const peer = open(tables);
      await Promise.all([store.init(), peer.init()]);
      await store.init();
      await store.ping();
      await (await BigtableStore.open(storeOptions(tables))).close();

      expect(await cbt('ls', tables.flagTableId)).toMatch(/^metadata\b/m);
      expect(await cbt('ls', tables.logTableId)).toMatch(/^metadata\b/m);
      const side = await cbt('ls', `${tables.flagTableId}_vexil`);
      expect(side).toMatch(/^head\b/m);
      expect(side).toMatch(/^change\b/m);
      // Tokens and project settings have a table of their own, never the runbook's.
      expect(await cbt('ls', `${tables.flagTableId}_vexil_access`)).toMatch(/^access\b/m);
      expect((await store.latest('FLAG', feature('kept')))?.fields).toEqual({ Name: 'kept' });
    });

    it('reaches the emulator given as emulatorHost, whatever BIGTABLE_EMULATOR_HOST says (the caller reads that)', async () => {
      vi.stubEnv('BIGTABLE_EMULATOR_HOST', `127.0.0.1:${await closedPort()}`);
      const tables = freshTables();
      const store = new BigtableStore({
        projectId: PROJECT_ID,
        instanceId: INSTANCE_ID,
        ...tables,
        emulatorHost: emulator.host,
      });
      opened.push(store);
      await store.init();
      await store.ping();
      expect(await cbt('ls')).toContain(tables.flagTableId);
    });

    it('answers UnavailableError when Bigtable cannot be reached', async () => {
      const port = await closedPort();
      const unreachable = new BigtableStore({
        ...storeOptions(freshTables()),
        emulatorHost: `127.0.0.1:${port}`,
        timeoutMs: 500,
      });
      opened.push(unreachable);
      await expect(unreachable.ping()).rejects.toBeInstanceOf(UnavailableError);
      await expect(unreachable.append([revision(feature('x'))])).rejects.toBeInstanceOf(UnavailableError);
    });

    it('answers TimeoutError when Bigtable does not answer in time', async () => {
      const silent = await silentServer();
      try {
        const store = new BigtableStore({
          ...storeOptions(freshTables()),
          emulatorHost: `127.0.0.1:${silent.port}`,
          timeoutMs: 500,
        });
        opened.push(store);
        await expect(store.latest('REVISION', feature('x'))).rejects.toBeInstanceOf(TimeoutError);
        await expect(store.append([revision(feature('x'))])).rejects.toBeInstanceOf(TimeoutError);
      } finally {
        await silent.close();
      }
    });

    it('refuses calls after close with UnavailableError', async () => {
      const store = open(freshTables());
      await store.close();
      await expect(store.init()).rejects.toBeInstanceOf(UnavailableError);
      expect(() => store.watch(() => {})).toThrow(UnavailableError);
    });
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server that accepts connections and never says a word. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
