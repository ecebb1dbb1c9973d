import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_HEADERS } from './test-token.js';
import { runVexil, startVexil, type VexilProcess } from './vexil-process.js';

const FLAG = ['replicated', '-p', 'fleet', '-t', 'feature'];
/** A segment, and a flag whose rule names it: a segment change is a change like a flag's. */
const SEGMENT = ['testers', '-p', 'fleet'];
const SEGMENTED = ['segmented', '-p', 'fleet', '-t', 'feature'];
const query = (id: string, flag = 'replicated') =>
  `/get-feature-flag?project_name=fleet&instance_id=${id}&flag_type=feature&flag_name=${flag}`;
/** The acceptance bound: a change is served by every replica within 1.5 s. */
const BOUND_MS = 1500;

/**
 * Two `vexil serve` processes on one store: a revision or a rollback written through
 * one of them (or by the CLI) is served by the other within 1.5 s, though both cache
 * flag data for 5 minutes.
 */
export function describeReplicaPropagation(
  engine: string,
  setup: () => Promise<{ env: Record<string, string>; teardown?: () => Promise<void> }>,
): void {
  let a: VexilProcess;
  let b: VexilProcess;
  let env: Record<string, string>;
  let teardown: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ env, teardown } = await setup());
    // Half the default poll interval leaves room for a loaded CI machine under the 1.5 s bound.
    env = { VEXIL_CHANGE_POLL_MS: '500', ...env };
    const created = runVexil(['add-flag', ...FLAG], env);
    expect(created.status, created.stderr).toBe(0);
    const first = runVexil(['add-revision', ...FLAG, '-c', 'false', '--treatment', '0:true'], env);
    expect(first.status, first.stderr).toBe(0);
    for (const args of [
      ['segment', 'create', ...SEGMENT, '--include', 'tester-1'],
      ['add-flag', ...SEGMENTED],
      ['add-revision', ...SEGMENTED, '-c', 'false', '--rule', 'in_segment testers => true'],
    ]) {
      const made = runVexil(args, env);
      expect(made.status, made.stderr).toBe(0);
    }
    [a, b] = await Promise.all([startVexil(env), startVexil(env)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await teardown?.();
  });

  async function valueOn(replica: VexilProcess, id: string, flag?: string): Promise<boolean> {
    // The project was started by the CLI, so its evaluation needs a read token: the test admin token covers it.
    const response = await fetch(`${replica.url}${query(id, flag)}`, { headers: ADMIN_HEADERS });
    expect(response.status).toBe(200);
    return ((await response.json()) as { flag_value: boolean }).flag_value;
  }

  /** What OFREP answers on `replica` for flag `segmented` and the context `{targetingKey: id}`. */
  async function ofrepValueOn(replica: VexilProcess, id: string): Promise<boolean> {
    const response = await fetch(`${replica.url}/ofrep/v1/evaluate/flags/segmented`, {
      method: 'POST',
      headers: { ...ADMIN_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify({ context: { targetingKey: id, project_name: 'fleet' } }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { value: boolean }).value;
  }

  /** Polls until `read` answers `expected`; resolves to the milliseconds it took. */
  async function servedWithin(
    replica: VexilProcess,
    id: string,
    expected: boolean,
    read: (replica: VexilProcess, id: string) => Promise<boolean> = valueOn,
  ): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < 10_000) {
      if ((await read(replica, id)) === expected) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`replica never served ${expected} for ${id}`);
  }

  it(`${engine}: a revision written through one replica's admin API is served by the other within 1.5 s`, async () => {
    expect(await valueOn(b, 'vip')).toBe(false); // cached on b from here on
    const response = await fetch(`${a.url}/admin/v1/projects/fleet/flags/feature/replicated/revisions`, {
      method: 'POST',
      headers: { ...ADMIN_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify({
        ControlValue: false,
        Treatments: [{ OverrideList: ['vip'], PercentRollout: 0, Value: true }],
      }),
    });
    expect(response.status, await response.text()).toBe(201);
    expect(await servedWithin(b, 'vip', true)).toBeLessThan(BOUND_MS);
  });

  it(`${engine}: a rollback made with the CLI is served by both replicas within 1.5 s`, async () => {
    expect(await valueOn(a, 'vip')).toBe(true);
    expect(await valueOn(b, 'vip')).toBe(true);
    const rolledBack = runVexil(['rollback', ...FLAG], env);
    expect(rolledBack.status, rolledBack.stderr).toBe(0);
    const [onA, onB] = await Promise.all([servedWithin(a, 'vip', false), servedWithin(b, 'vip', false)]);
    expect(onA).toBeLessThan(BOUND_MS);
    expect(onB).toBeLessThan(BOUND_MS);
  });

  it(`${engine}: a segment changed with the CLI is served by both replicas within 1.5 s, by /get-feature-flag and OFREP`, async () => {
    const segmentedOn = (replica: VexilProcess, id: string) => valueOn(replica, id, 'segmented');
    for (const replica of [a, b]) {
      // Cached from here on: only the change feed brings the new segment.
      expect(await segmentedOn(replica, 'tester-1')).toBe(true);
      expect(await segmentedOn(replica, 'tester-2')).toBe(false);
      expect(await ofrepValueOn(replica, 'tester-2')).toBe(false);
    }
    const updated = runVexil(['segment', 'update', ...SEGMENT, '--include', 'tester-1,tester-2'], env);
    expect(updated.status, updated.stderr).toBe(0);
    const times = await Promise.all([
      servedWithin(a, 'tester-2', true, segmentedOn),
      servedWithin(b, 'tester-2', true, segmentedOn),
      servedWithin(a, 'tester-2', true, ofrepValueOn),
      servedWithin(b, 'tester-2', true, ofrepValueOn),
    ]);
    for (const ms of times) expect(ms).toBeLessThan(BOUND_MS);
  });
}
