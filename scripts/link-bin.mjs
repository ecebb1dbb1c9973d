// After a build: `tsc` writes dist/cli.js without the executable bit, and on a fresh
// clone `npm ci` ran before dist/ existed, so make sure `npx vexil` finds a runnable file.
import { chmodSync, existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages/server/dist/cli.js');
chmodSync(cli, 0o755);
const link = join(root, 'node_modules/.bin/vexil');
let linked = false;
try {
  linked = lstatSync(link).isSymbolicLink() || existsSync(link);
} catch {}
if (!linked) {
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync('../@vexil/server/dist/cli.js', link);
}
