import { UnavailableError } from '@vexil/core';
import { type AirflowConfig, parseAirflowConfig } from '@vexil/core/runbook';
import { MemoryStore, type NewRow, type StoreCapabilities, type StoredRow } from '@vexil/store';
import { describe, expect, it } from 'vitest';
import { FlagAdmin } from '../src/flag-admin.js';

/** A flag config and a revision config of the runbook system's DAG, for flag `name`. */
function configs(name: string): AirflowConfig[] {
  const config = (kind: 'FLAG' | 'REVISION', cell: string) =>
    parseAirflowConfig(
      JSON.stringify({
        row_key_prefix_PROJECT: 'shop',
        row_key_prefix_ROWTYPE: kind,
        row_key_prefix_FLAGTYPE: 'feature',
        row_key_prefix_FLAGNAME: name,
        row_cell_value: cell,
        add_new_feature_flag: kind === 'FLAG',
      }),
      `${name}-${kind}.json`,
    );
  return [
    config('FLAG', `{ 'Name': '${name}', 'Type': 'FEATURE' }`),
    config(
      'REVISION',
      `{ 'Name': '${name}', 'Type': 'FEATURE', 'FormatVersion': 1, 'ControlValue': False, 'Comment': 'on', 'OwnerID': 'jane', 'Treatments': [] }`,
    ),
  ];
}

/** A memory store whose engine fails on its `failAt`-th append, claiming (or not) atomic batches. */
class FailingStore extends MemoryStore {
  override readonly capabilities: StoreCapabilities;
  appendCalls: number[] = [];

  constructor(
    atomicBatch: boolean,
    private readonly failAt: number,
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

const FILES = ['a-flag.json', 'a-revision.json', 'b-flag.json', 'b-revision.json'];

describe('FlagAdmin.apply and the store’s atomicBatch capability', () => {
  it('writes every config in one batch where batches are atomic, and promises all or none', async () => {
    const store = new FailingStore(true, 0);
    const admin = new FlagAdmin(store);
    const rows = await admin.apply([...configs('a'), ...configs('b')], FILES);
    expect(store.appendCalls).toEqual([4]);
    expect(rows.map((r) => [r.kind, r.ref.name])).toEqual([
      ['FLAG', 'a'],
      ['REVISION', 'a'],
      ['FLAG', 'b'],
      ['REVISION', 'b'],
    ]);
    expect(admin.applyGuarantee).toBe('all files or none');
  });

  it('writes one row at a time where batches are not atomic, and says so', async () => {
    const store = new FailingStore(false, 0);
    const admin = new FlagAdmin(store);
    const rows = await admin.apply([...configs('a'), ...configs('b')], FILES);
    expect(store.appendCalls).toEqual([1, 1, 1, 1]);
    expect(rows.map((r) => [r.kind, r.ref.name])).toEqual([
      ['FLAG', 'a'],
      ['REVISION', 'a'],
      ['FLAG', 'b'],
      ['REVISION', 'b'],
    ]);
    expect(admin.applyGuarantee).toBe(
      'the memory store has no atomic batches: apply writes the files one row at a time, in order; ' +
        'on failure, the rows already written stay, and the error names them',
    );
  });

  it('on a failure midway without atomic batches, names the files written (they stay) and the one to resume from', async () => {
    const store = new FailingStore(false, 3);
    const admin = new FlagAdmin(store);
    const failing = admin.apply([...configs('a'), ...configs('b')], FILES);
    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).message).toBe(
      'the engine went away; apply stopped at b-flag.json (3 of 4): a-flag.json and a-revision.json were written and stay ' +
        '(this store has no atomic batches)',
    );
    expect((error as UnavailableError).hint).toBe(
      'once the cause is fixed, apply the files from b-flag.json on; applying a-flag.json and a-revision.json again would add their rows a second time',
    );
    expect((await store.scanProject('shop')).map((r) => [r.kind, r.ref.name])).toEqual([
      ['FLAG', 'a'],
      ['REVISION', 'a'],
    ]);
  });

  it('on a failure of the first row, answers the engine’s error alone: nothing was written', async () => {
    const store = new FailingStore(false, 1);
    const failing = new FlagAdmin(store).apply(configs('a'), FILES.slice(0, 2));
    await expect(failing).rejects.toThrow(/^the engine went away$/);
    expect(store.appendCalls).toEqual([1]);
    expect(await store.scanProject('shop')).toEqual([]);
  });

  it('with atomic batches, a failure leaves nothing and answers the engine’s error alone', async () => {
    const store = new FailingStore(true, 1);
    const failing = new FlagAdmin(store).apply(configs('a'), FILES.slice(0, 2));
    await expect(failing).rejects.toThrow(/^the engine went away$/);
    expect(store.appendCalls).toEqual([2]);
    expect(await store.scanProject('shop')).toEqual([]);
  });
});
