import { FlagExistsError, InvalidInputError, UnavailableError } from '@vexil/core';
import { MemoryStore, type NewRow, type StoreCapabilities, type StoredRow } from '@vexil/store';
import { describe, expect, it } from 'vitest';
import { FlagAdmin } from '../src/flag-admin.js';
import type { FlagBatch } from '../src/flag-batch.js';

/** A memory store whose engine fails on its `failAt`-th append, claiming (or not) atomic batches. */
class FailingStore extends MemoryStore {
  override readonly capabilities: StoreCapabilities;
  appendCalls: number[] = [];

  constructor(
    atomicBatch: boolean,
    private readonly failAt = 0,
  ) {
    super();
    this.capabilities = { atomicBatch, changeFeed: 'push' };
  }

  override async append(rows: readonly NewRow[]): Promise<StoredRow[]> {
    this.appendCalls.push(rows.length);
    if (this.appendCalls.length === this.failAt) throw new UnavailableError('the engine went away');
    return super.append(rows);
  }
}

/** What an import of flagd's testing flags looks like: a segment and flags whose rules name it. */
function batch(): FlagBatch {
  return {
    project: 'openfeature',
    segments: [
      {
        name: 'beta-testers',
        description: 'from flagd $evaluators',
        segment: { Conditions: [{ Attribute: 'email', Operator: 'ends_with', Values: ['@faas.com'] }] },
      },
    ],
    flags: [
      {
        name: 'boolean-flag',
        flagType: 'feature',
        revision: { Variants: { on: true, off: false }, ControlValue: true },
      },
      {
        name: 'targeted-flag',
        flagType: 'data',
        description: 'targeted',
        revision: {
          Variants: { first: 'AAA', second: 'BBB' },
          ControlValue: 'AAA',
          Rules: [
            {
              Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta-testers'] }],
              Value: 'BBB',
            },
          ],
        },
      },
      { name: 'integer-flag', flagType: 'number', revision: { ControlValue: 10 } },
      { name: 'object-flag', flagType: 'json', revision: { ControlValue: { showImages: true } } },
    ],
  };
}

const rowsOf = (rows: StoredRow[]) => rows.map((row) => `${row.kind} ${row.ref.flagType}/${row.ref.name}`);

describe('FlagAdmin.writeBatch: a set of flags and segments, checked whole, then written', () => {
  it('writes segments first, then each flag with its revision, in one atomic append', async () => {
    const store = new FailingStore(true);
    const admin = new FlagAdmin(store);
    const { rows, flags, segments } = await admin.writeBatch(batch());
    expect(store.appendCalls).toEqual([10]);
    expect(segments).toEqual([{ name: 'beta-testers', action: 'add' }]);
    expect(flags.map((flag) => `${flag.action} ${flag.flagType}/${flag.name}`)).toEqual([
      'add feature/boolean-flag',
      'add data/targeted-flag',
      'add number/integer-flag',
      'add json/object-flag',
    ]);
    expect(rowsOf(rows)).toEqual([
      'FLAG segment/beta-testers',
      'REVISION segment/beta-testers',
      'FLAG feature/boolean-flag',
      'REVISION feature/boolean-flag',
      'FLAG data/targeted-flag',
      'REVISION data/targeted-flag',
      'FLAG number/integer-flag',
      'REVISION number/integer-flag',
      'FLAG json/object-flag',
      'REVISION json/object-flag',
    ]);
    // Written as FlagAdmin writes any revision: salted, FormatVersion set, evaluable.
    const targeted = rows[5]!.fields;
    expect(targeted).toMatchObject({ Salt: 'targeted-flag', FormatVersion: 2, Type: 'DATA' });
    const view = await admin.evaluateContext(
      { project: 'openfeature', flagType: 'data', name: 'targeted-flag' },
      { targetingKey: 'u1', email: 'ballmer@faas.com' },
    );
    expect([view.value, view.variant]).toEqual(['BBB', 'second']);
  });

  it('refuses the whole batch, naming the flag, when a rule names a segment that is neither in it nor in the store', async () => {
    const store = new FailingStore(true);
    const admin = new FlagAdmin(store);
    const bad = batch();
    bad.segments = [];
    const error = await admin.writeBatch(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toMatch(
      /^flags\[1\] \(flag targeted-flag\): Rules\[0\]\.Conditions\[0\]\.Values\[0\] names segment "beta-testers", which project openfeature does not have/,
    );
    expect((error as InvalidInputError).field).toBe('Rules[0].Conditions[0].Values[0]');
    expect(store.appendCalls).toEqual([]);
  });

  it('refuses a bad value, a duplicate and an existing flag before writing anything', async () => {
    const store = new FailingStore(true);
    const admin = new FlagAdmin(store);
    const badValue = batch();
    badValue.flags = [...badValue.flags!, { name: 'broken', flagType: 'number', revision: { ControlValue: 'ten' } }];
    await expect(admin.writeBatch(badValue)).rejects.toThrow(
      /^flags\[4\] \(flag broken\): ControlValue must be a finite number/,
    );

    const twice = batch();
    twice.flags = [...twice.flags!, { name: 'boolean-flag', flagType: 'data', revision: { ControlValue: 'x' } }];
    await expect(admin.writeBatch(twice)).rejects.toThrow(/the batch holds flag boolean-flag twice/);
    expect(store.appendCalls).toEqual([]);

    await admin.writeBatch(batch());
    const again = await admin.writeBatch(batch()).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(FlagExistsError);
    expect((again as FlagExistsError).message).toBe(
      'segments[0] (segment beta-testers): segment beta-testers already exists in project openfeature',
    );
    expect(store.appendCalls).toEqual([10]);
  });

  it('with existing: "revise", gives flags and segments that exist a new revision instead', async () => {
    const admin = new FlagAdmin(new MemoryStore());
    await admin.writeBatch(batch());
    const { rows, flags, segments } = await admin.writeBatch({ ...batch(), existing: 'revise' });
    expect(rows.every((row) => row.kind === 'REVISION')).toBe(true);
    expect(rows).toHaveLength(5);
    expect([...segments, ...flags].every((item) => item.action === 'update')).toBe(true);
    const wrongType = batch();
    wrongType.flags = [{ name: 'integer-flag', flagType: 'data', revision: { ControlValue: '10' } }];
    await expect(admin.writeBatch({ ...wrongType, existing: 'revise' })).rejects.toThrow(
      /integer-flag exists in project openfeature as a number flag; the batch makes it a data: a flag's type cannot change/,
    );
  });

  it('with dryRun, checks everything and says what it would write, but writes nothing', async () => {
    const store = new FailingStore(true);
    const admin = new FlagAdmin(store);
    const planned = await admin.writeBatch({ ...batch(), dryRun: true });
    expect(planned.rows).toEqual([]);
    expect(planned.flags).toHaveLength(4);
    expect(planned.segments).toEqual([{ name: 'beta-testers', action: 'add' }]);
    expect(store.appendCalls).toEqual([]);
    const bad = batch();
    bad.segments = [];
    await expect(admin.writeBatch({ ...bad, dryRun: true })).rejects.toThrow(/names segment "beta-testers"/);
  });

  it('without atomic batches, refuses the whole batch before writing any row', async () => {
    const store = new FailingStore(false);
    const admin = new FlagAdmin(store);
    const error = await admin.writeBatch({ ...batch(), source: 'the flagd file' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toBe(
      'the memory store cannot write a batch all at once, and the flagd file is written whole or not at all; nothing was written',
    );
    expect((error as InvalidInputError).field).toBe('VEXIL_STORE');
    expect(store.appendCalls).toEqual([]);
    expect(await store.scanProject('openfeature')).toEqual([]);
  });
});
