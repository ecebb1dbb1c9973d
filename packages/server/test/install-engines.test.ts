import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// npm warns EBADENGINE for every installed package whose `engines.node` leaves out the
// running Node.js. The lock names every package an install puts in place, so checking
// it against each Node 20 release the project supports finds what would warn anywhere,
// not only on this machine's Node.

interface Manifest {
  engines: { node: string };
}
interface LockEntry {
  version?: string;
  dev?: boolean;
  engines?: { node?: string };
}

const read = <T>(path: string) => JSON.parse(readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8')) as T;
const lock = read<{ packages: Record<string, LockEntry> }>('package-lock.json');
const NODE_20 = '<21.0.0-0';

/** Lock entries (`path@version: engines`) that some Node 20 release within `supported` does not satisfy. */
function refusing(supported: string, entries: [string, LockEntry][]): string[] {
  return entries
    .filter(([, entry]) => entry.engines?.node && !semver.subset(`${supported} ${NODE_20}`, entry.engines.node))
    .map(([path, entry]) => `${path}@${entry.version}: ${entry.engines?.node}`);
}

describe('the Node.js versions the install supports', () => {
  it('installs every locked package without EBADENGINE on each Node 20 release the repository supports', () => {
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
