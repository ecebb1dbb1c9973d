// `npm pack` / `npm publish` of a workspace package (run in the package's folder): builds
// the package, makes its `bin` files executable (tsc writes them without the bit), and
// copies the repository's LICENSE in, so each tarball carries it without four committed
// copies. postpack.mjs removes the copy again.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = process.cwd();
const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));

const tsc = join(root, 'node_modules/typescript/bin/tsc');
const build = spawnSync(process.execPath, [tsc, '-b', pkg], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error(`prepack: building ${manifest.name} failed; run \`npm run build\` at the repository root to see why.`);
  process.exit(1);
}

const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
for (const bin of bins) chmodSync(join(pkg, bin), 0o755);

const license = join(root, 'LICENSE');
if (!existsSync(license)) {
  console.error(`prepack: ${license} is missing; every package ships the repository's LICENSE.`);
  process.exit(1);
}
copyFileSync(license, join(pkg, 'LICENSE'));
