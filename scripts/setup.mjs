// Makes a fresh clone ready: installs dependencies when package-lock.json changed
// since the last install, then builds (incrementally). Uses only Node built-ins,
// because it runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 11)) {
  console.error(`Vexil needs Node.js 20.11 or newer; this is ${process.versions.node}.`);
  process.exit(1);
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    console.error(`setup: "${command} ${args.join(' ')}" failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

const lock = join(root, 'package-lock.json');
const stampFile = join(root, 'node_modules', '.vexil-install-stamp');
const manifests = [
  'package.json',
  'packages/core/package.json',
  'packages/store/package.json',
  'packages/server/package.json',
  'packages/sdk/package.json',
];
const stamp = createHash('sha256');
for (const file of [lock, ...manifests.map((m) => join(root, m))]) {
  if (existsSync(file)) stamp.update(readFileSync(file));
}
const wanted = stamp.digest('hex');
const installed = existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : '';
if (installed !== wanted) {
  console.log('setup: installing dependencies…');
  // `npm install`, not `npm ci`: this npm writes locks without other platforms'
  // optional packages (biome, rollup), which `npm ci` then refuses as out of sync.
  run('npm', ['install', '--no-audit', '--no-fund']);
  writeFileSync(stampFile, wanted);
}

console.log('setup: building…');
run('npm', ['run', '--silent', 'build']);
