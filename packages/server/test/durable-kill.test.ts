import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '@vexil/store';
import { afterAll, describe, expect, it } from 'vitest';
import { startVexil } from './support/vexil-process.js';

/**
 * With VEXIL_LOG_DURABLE=on, `kill -9` under load loses no acknowledged evaluation:
 * every answer with status 200 has its log row in the file afterwards. (Without it, the
 * rows of the last flush interval are lost: bench/kill-9.mjs measures how many.)
 */

const dir = mkdtempSync(join(tmpdir(), 'vexil-durable-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('durable evaluation log', () => {
  it('kill -9 under load loses no acknowledged evaluation', async () => {
    const spec = `sqlite:${join(dir, 'vexil.db')}`;
    const service = await startVexil({ VEXIL_STORE: spec, VEXIL_LOG_DURABLE: 'on' }, ['--demo']);
    const acknowledged: string[] = [];
    let killed = false;
    const loop = async (n: number) => {
      for (let i = 0; !killed; i++) {
        const url = `${service.url}/get-feature-flag?project_name=demo&flag_type=feature&flag_name=new_checkout&instance_id=u${n}-${i}`;
        try {
          const response = await fetch(url);
          if (response.status === 200)
            acknowledged.push(((await response.json()) as { request_id: string }).request_id);
        } catch {
          // the connection died with the process: not acknowledged
        }
      }
    };
    const loops = Array.from({ length: 8 }, (_, n) => loop(n));
    // Killed once a good number of evaluations were answered, with requests still in flight.
    while (acknowledged.length < 500) await new Promise((resolve) => setTimeout(resolve, 20));
    service.child.kill('SIGKILL');
    killed = true;
    await service.exited;
    await Promise.all(loops);

    const store = await openStore(spec);
    try {
      const logged = new Set((await store.readLogs({ project: 'demo' })).map((row) => row.requestId));
      expect(acknowledged.length).toBeGreaterThanOrEqual(500);
      expect(acknowledged.filter((id) => !logged.has(id))).toEqual([]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
