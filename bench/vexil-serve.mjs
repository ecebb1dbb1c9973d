// `vexil serve` as a child process, for the benchmarks that measure it from outside.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../packages/server/dist/cli.js', import.meta.url));
/** Output kept for an error message: the tail only, so a long run does not hold all it logged. */
const OUTPUT_KEPT = 20_000;

/**
 * Starts `vexil serve ARGS` (the built CLI) on a free port of 127.0.0.1 with `env` over
 * this process's environment, and resolves once it logs "vexil serving" (LOG_LEVEL info
 * says where it listens; there is no line per request below debug) with its URL, a
 * promise of its exit, and the tail of its output. Rejects with that output if it exits
 * first.
 */
export function startVexilServe(env = {}, args = []) {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
      const match = /"url":"(http:\/\/[^"]+)".*"msg":"vexil serving"/.exec(output);
      if (match) resolve({ child, url: match[1], exited, output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`vexil serve exited (${code}):\n${output}`)));
  });
}
