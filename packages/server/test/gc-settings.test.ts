import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startVexil } from './support/vexil-process.js';

const dir = mkdtempSync(join(tmpdir(), 'vexil-gc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Scavenger tasks of each young-generation collection, per isolate, from the output of
 * `node --trace-parallel-scavenge --trace-gc`: every task prints a `scavenge[…]` line
 * and the collection then prints its `Scavenge` summary line.
 */
function tasksPerScavenge(output: string): number[] {
  const open = new Map<string, number>();
  const counts: number[] = [];
  for (const line of output.split('\n')) {
    const isolate = /^\[(\d+:0x[0-9a-f]+)\]/.exec(line)?.[1];
    if (isolate === undefined) continue;
    if (/\] scavenge\[/.test(line)) open.set(isolate, (open.get(isolate) ?? 0) + 1);
    else if (/ ms: Scavenge /.test(line)) {
      counts.push(open.get(isolate) ?? 0);
      open.set(isolate, 0);
    }
  }
  return counts;
}

/** Scavenges of a served process under some load, after it said it was serving. */
async function scavengesWhileServing(name: string, nodeArgs: string[]): Promise<number[]> {
  const service = await startVexil(
    { VEXIL_STORE: `sqlite:${join(dir, `${name}.db`)}` },
    ['--demo'],
    ['--trace-parallel-scavenge', '--trace-gc', ...nodeArgs],
  );
  try {
    const serving = service.output().length;
    const worker = async (w: number) => {
      for (let i = 0; i < 600; i++) {
        const id = `gc-${w}-${i}`;
        const response = await fetch(
          `${service.url}/get-feature-flag?project_name=demo&instance_id=${id}&flag_type=feature&flag_name=new_checkout`,
        );
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      }
    };
    await Promise.all([0, 1, 2, 3, 4].map(worker));
    return tasksPerScavenge(service.output().slice(serving));
  } finally {
    await service.stop();
  }
}

describe('vexil serve and the garbage collector', () => {
  it('runs each young-generation collection on one thread', async () => {
    const tasks = await scavengesWhileServing('default', []);
    expect(tasks.length).toBeGreaterThan(0);
    expect(tasks.filter((n) => n !== 1)).toEqual([]);
  }, 60_000);

  it('keeps parallel collections when node is started with --parallel-scavenge', async () => {
    const tasks = await scavengesWhileServing('parallel', ['--parallel-scavenge']);
    expect(tasks.length).toBeGreaterThan(0);
    expect(tasks.some((n) => n > 1)).toBe(true);
  }, 60_000);
});
