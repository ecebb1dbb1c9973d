// `npm start`: the embedded SQLite store (./vexil.db unless VEXIL_STORE says otherwise)
// with a few demo flags, then a look at them through the CLI.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages/server/dist/cli.js');
const vexil = (...args) => {
  console.log(`\n$ vexil ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

vexil('demo');
vexil('latest', 'new_checkout', '-p', 'demo');
vexil('eval', 'new_checkout', '-p', 'demo', '-i', 'qa-1');
vexil('eval', 'llm_provider', '-p', 'demo', '-i', 'A123456');
vexil('history', 'new_checkout', '-p', 'demo');
