import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, startVexil } from './support/vexil-process.js';

const dir = mkdtempSync(join(tmpdir(), 'vexil-serve-'));

const serve = (db: string, env: Record<string, string> = {}) =>
  startVexil({ VEXIL_STORE: `sqlite:${db}`, ...env }, ['--demo']);

function logRows(db: string): number {
  const sqlite = new Database(db, { readonly: true });
  try {
    return (sqlite.prepare('SELECT count(*) AS n FROM evaluation_log').get() as { n: number }).n;
  } finally {
    sqlite.close();
  }
}

const query = (id: string) =>
  `/get-feature-flag?project_name=demo&instance_id=${id}&flag_type=feature&flag_name=new_checkout`;

describe('vexil serve as a process', () => {
  beforeAll(() => {
    expect(spawnSync(process.execPath, [cliPath, '--help']).status).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves on PORT with the demo flags and answers /healthz, /readyz and /get-feature-flag', async () => {
    const db = join(dir, 'basic.db');
    const service = await serve(db, { environment: 'ci' });
    try {
      // The banner names the store in full: a SQLite path is relative to where vexil started.
      expect(service.output()).toContain(`"location":"${db} (sqlite:${db})"`);
      expect(await (await fetch(`${service.url}/healthz`)).json()).toEqual({ status: 'ok', environment: 'ci' });
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      const response = await fetch(`${service.url}${query('qa-1')}`, { headers: { 'x-request-id': 'abc' } });
      expect(await response.json()).toMatchObject({ request_id: 'abc', flag_value: true, rollout_group: 'override' });
    } finally {
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
    }
    expect(logRows(db)).toBe(1);
  });

  it('stops with one line naming the port and PORT when the port is in use, before the banner', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const result = spawnSync(process.execPath, [cliPath, 'serve', '--port', String(port)], {
        env: { ...process.env, HOST: '127.0.0.1', VEXIL_STORE: 'memory:', LOG_LEVEL: 'info' },
        encoding: 'utf8',
        timeout: 15_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(`error: port ${port} is in use; set PORT or --port to another\n`);
      expect(result.stdout).not.toContain('vexil serving');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('on SIGTERM finishes requests in flight and writes one log row per 2xx answer', async () => {
    const db = join(dir, 'sigterm.db');
    const service = await serve(db, { VEXIL_LOG_FLUSH_MS: '1000' });
    let ok = 0;
    let sent = 0;
    let stopped = false;
    const worker = async (w: number) => {
      while (!stopped) {
        sent++;
        try {
          const response = await fetch(`${service.url}${query(`user-${w}-${sent}`)}`);
          await response.arrayBuffer();
          if (response.status >= 200 && response.status < 300) ok++;
          else if (response.status === 503) stopped = true; // closing: new requests are refused
        } catch {
          stopped = true; // the listener is gone
        }
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(ok).toBeGreaterThan(20);
    service.child.kill('SIGTERM');
    await Promise.all(workers);
    expect(await service.exited).toBe(0);
    expect(service.output()).toContain('"msg":"stopped"');
    expect(logRows(db)).toBe(ok);
  });
});
