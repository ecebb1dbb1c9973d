import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// The committed package-lock.json is what `npm run setup` installs with `npm ci` on
// every machine, so it must agree with the manifests, hold every platform's packages,
// and install without EBADENGINE on every Node 20 release the project supports.

interface Manifest {
  engines: { node: string };
}
interface LockEntry {
  version?: string;
  dev?: boolean;
  engines?: { node?: string };
  optionalDependencies?: Record<string, string>;
}

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const read = <T>(path: string) => JSON.parse(readFileSync(join(repo, path), 'utf8')) as T;
const lock = read<{ packages: Record<string, LockEntry> }>('package-lock.json');
const NODE_20 = '<21.0.0-0';
const checkLock = (root: string) =>
  spawnSync(process.execPath, [join(repo, 'scripts/lock-matches-manifests.mjs'), root], { encoding: 'utf8' });

/**
 * Lock entries (`path@version: engines`) that some Node 20 release within `supported`
 * does not satisfy: npm warns EBADENGINE for each when it installs one on such a release.
 */
function refusing(supported: string, entries: [string, LockEntry][]): string[] {
  return entries
    .filter(([, entry]) => entry.engines?.node && !semver.subset(`${supported} ${NODE_20}`, entry.engines.node))
    .map(([path, entry]) => `${path}@${entry.version}: ${entry.engines?.node}`);
}

describe('the committed lockfile', () => {
  it('records exactly the dependencies every package.json declares, so setup installs it with npm ci', () => {
    const result = checkLock(repo);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('is found out of date when a package.json gains a dependency it does not record', () => {
    const copy = mkdtempSync(join(tmpdir(), 'vexil-lock-'));
    try {
      cpSync(join(repo, 'package.json'), join(copy, 'package.json'));
      cpSync(join(repo, 'package-lock.json'), join(copy, 'package-lock.json'));
      // Every workspace package's manifest: the check reads them all.
      for (const name of readdirSync(join(repo, 'packages'))) {
        const manifest = join('packages', name, 'package.json');
        if (existsSync(join(repo, manifest))) cpSync(join(repo, manifest), join(copy, manifest));
      }
      const sdk = read<{ dependencies: Record<string, string> }>('packages/sdk/package.json');
      sdk.dependencies['left-pad'] = '^1.3.0';
      writeFileSync(join(copy, 'packages/sdk/package.json'), JSON.stringify(sdk));
      const result = checkLock(copy);
      expect(result.stdout.trim()).toBe(
        'packages/sdk/package.json: dependencies left-pad (declared ^1.3.0, locked nothing)',
      );
      expect(result.status).toBe(1);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("holds every platform's optional packages (biome's, rollup's, esbuild's binaries), not only this machine's", () => {
    const locked = new Set(Object.keys(lock.packages).map((path) => path.replace(/^.*node_modules\//, '')));
    const missing = Object.entries(lock.packages).flatMap(([path, entry]) =>
      Object.keys(entry.optionalDependencies ?? {})
        .filter((name) => !locked.has(name))
        .map((name) => `${path} -> ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('installs without EBADENGINE on each Node 20 release the repository supports', () => {
    const { engines } = read<Manifest>('package.json');
    expect(refusing(engines.node, Object.entries(lock.packages))).toEqual([]);
  });

  it("installs the packages' own dependencies without EBADENGINE on each Node 20 release they support", () => {
    const runtime = Object.entries(lock.packages).filter(
      ([path, entry]) => path.includes('node_modules/') && !entry.dev,
    );
    const floors = new Set(
      ['core', 'store', 'server', 'sdk'].map((name) => read<Manifest>(`packages/${name}/package.json`).engines.node),
    );
    expect(floors.size).toBe(1);
    for (const floor of floors) expect(refusing(floor, runtime)).toEqual([]);
  });
});
