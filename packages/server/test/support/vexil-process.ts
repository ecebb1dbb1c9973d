import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_ADMIN_TOKEN } from './test-token.js';

export const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface VexilProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  output: () => string;
  stop: () => Promise<number | null>;
}

/**
 * Starts the built `vexil serve` as a real process on a free port and waits for its
 * "serving" line; `nodeArgs` go to node itself.
 */
export function startVexil(
  env: Record<string, string>,
  args: string[] = [],
  nodeArgs: string[] = [],
): Promise<VexilProcess> {
  const child = spawn(process.execPath, [...nodeArgs, cliPath, 'serve', ...args], {
    // The test admin token, so that a first start prints no token and tests can write with it.
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      VEXIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vexil serve did not start:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)".*"msg":"vexil serving"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, exited, output: () => output, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`vexil serve exited early:\n${output}`));
    });
  });
}

/** Runs the built `vexil` CLI to completion. */
export function runVexil(
  args: string[],
  env: Record<string, string>,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
