import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const server = fileURLToPath(new URL('../../../examples/merino-fastify/server.mjs', import.meta.url));
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface SuggestAnswer {
  suggestions: string[];
  sid: string | null;
  decisions: Record<string, boolean>;
  statsd: string[];
}

/** examples/merino-fastify runs on the built @vexil/sdk (`npm test` builds first). */
describe.runIf(existsSync(built))('examples/merino-fastify', () => {
  let child: ChildProcess;
  let base: string;

  beforeAll(async () => {
    // No STATSD_HOST: the example keeps its StatsD lines and shows them in the answer.
    const { STATSD_HOST: _statsdHost, ...env } = process.env;
    child = spawn(process.execPath, [server], {
      cwd: root,
      env: { ...env, PORT: '0', LOG_LEVEL: 'silent', MERINO_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    base = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /curl '(http:\/\/[^/']+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.on('exit', (code) => reject(new Error(`the example exited (${code}):\n${output}`)));
    });
  });
  afterAll(() => {
    child.kill('SIGTERM');
  });

  it('answers with the session decision and StatsD lines tagged with it', async () => {
    const on = (await (await fetch(`${base}/api/v1/suggest?q=fire&sid=000`)).json()) as SuggestAnswer;
    expect(on.sid).toBe('000');
    expect(on.decisions.new_ranking).toBe(true);
    expect(on.statsd[0]).toMatch(
      /^merino\.suggest\.requests:1\|c\|#feature_flag\.new_ranking:1,feature_flag\.hello_world:[01]$/,
    );

    const off = (await (await fetch(`${base}/api/v1/suggest?q=fire&sid=fff`)).json()) as SuggestAnswer;
    expect(off.decisions.new_ranking).toBe(false);
    expect(off.suggestions).toEqual([...on.suggestions].reverse());
  });
});
