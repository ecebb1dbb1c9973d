import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Alias } from 'vite';
import { defineConfig } from 'vitest/config';

const PACKAGES = ['core', 'store', 'server', 'sdk', 'web'];

interface Manifest {
  name: string;
  exports?: Record<string, string | { default?: string; import?: string }>;
}

/**
 * Tests run against the sources, so a stale dist never hides a change: every entry of
 * a package's `exports` (`@vexil/core`, `@vexil/core/runbook`, …) maps to the source
 * file its built file comes from (`./dist/X.js` → `./src/X.ts`), so a new subpath
 * needs no edit here. Each alias matches its specifier exactly: a plain string alias
 * `@vexil/core` would also capture `@vexil/core/runbook` and point it inside index.ts.
 */
function sourceAliases(): Alias[] {
  const aliases: Alias[] = [];
  for (const dir of PACKAGES) {
    const root = new URL(`./packages/${dir}/`, import.meta.url);
    const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as Manifest;
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const built = typeof target === 'string' ? target : (target.default ?? target.import);
      const source = built === undefined ? undefined : /^\.\/dist\/(.+)\.js$/.exec(built)?.[1];
      if (source === undefined) continue;
      const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
      aliases.push({
        find: new RegExp(`^${specifier.replaceAll('/', '\\/')}$`),
        replacement: fileURLToPath(new URL(`src/${source}.ts`, root)),
      });
    }
  }
  return aliases;
}

export default defineConfig({
  resolve: { alias: sourceAliases() },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'clients/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
