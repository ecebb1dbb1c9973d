// Makes a fresh clone ready: installs dependencies when package-lock.json changed
// since the last install, then builds (incrementally). Uses only Node built-ins,
// because it runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockDifferences, MANIFESTS } from './lock-matches-manifests.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The floor is package.json's `engines` (developing Vexil: Vitest's Vite needs 20.19;
// the published packages themselves run on 20.11).
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const floor = /^>=(\d+)\.(\d+)$/.exec(rootManifest.engines.node);
if (!floor)
  throw new Error(`setup: package.json engines.node must read ">=MAJOR.MINOR", not ${rootManifest.engines.node}`);
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < Number(floor[1]) || (major === Number(floor[1]) && minor < Number(floor[2]))) {
  console.error(`Vexil needs Node.js ${floor[1]}.${floor[2]} or newer; this is ${process.versions.node}.`);
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
const stamp = createHash('sha256');
for (const file of [lock, ...MANIFESTS.map((m) => join(root, m))]) {
  if (existsSync(file)) stamp.update(readFileSync(file));
}
const wanted = stamp.digest('hex');
const installed = existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : '';
if (installed !== wanted) {
  const differences = lockDifferences(root);
  if (differences.length === 0) {
    // The committed lock (complete: every platform's optional packages) is installed as
    // it is, so a fresh clone never rewrites a tracked file.
    console.log('setup: installing dependencies (npm ci)…');
    run('npm', ['ci', '--no-audit', '--no-fund']);
  } else {
    console.log(
      `setup: package-lock.json differs from the package.json files (${differences.join('; ')}); npm install updates it…`,
    );
    run('npm', ['install', '--no-audit', '--no-fund']);
  }
  writeFileSync(stampFile, wanted);
}

console.log('setup: building…');
run('npm', ['run', '--silent', 'build']);
