// Whether package-lock.json records exactly the dependencies each package.json declares,
// which is what `npm ci` requires. setup.mjs imports it; `node
// scripts/lock-matches-manifests.mjs [ROOT]` prints the differences and exits 1 when there are any.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MANIFESTS = [
  'package.json',
  'packages/core/package.json',
  'packages/store/package.json',
  'packages/server/package.json',
  'packages/sdk/package.json',
  'packages/dashboard/package.json',
  'packages/web/package.json',
];
const FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

/** The `manifest: field name` entries where the lock and the manifests differ; empty when they agree. */
export function lockDifferences(root) {
  const lock = join(root, 'package-lock.json');
  if (!existsSync(lock)) return ['package-lock.json: missing'];
  const packages = JSON.parse(readFileSync(lock, 'utf8')).packages ?? {};
  return MANIFESTS.flatMap((manifest) => {
    const declared = JSON.parse(readFileSync(join(root, manifest), 'utf8'));
    const locked = packages[dirname(manifest) === '.' ? '' : dirname(manifest)] ?? {};
    return FIELDS.flatMap((field) => {
      const a = declared[field] ?? {};
      const b = locked[field] ?? {};
      return [...new Set([...Object.keys(a), ...Object.keys(b)])]
        .filter((name) => a[name] !== b[name])
        .map(
          (name) => `${manifest}: ${field} ${name} (declared ${a[name] ?? 'nothing'}, locked ${b[name] ?? 'nothing'})`,
        );
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const differences = lockDifferences(resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..')));
  for (const difference of differences) console.log(difference);
  process.exit(differences.length === 0 ? 0 : 1);
}
