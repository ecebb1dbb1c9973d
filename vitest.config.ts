import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so a stale dist never hides a change.
    alias: {
      '@vexil/core': src('core'),
      '@vexil/store/testing': fileURLToPath(new URL('./packages/store/src/testing/index.ts', import.meta.url)),
      '@vexil/store': src('store'),
      '@vexil/server': src('server'),
      '@vexil/sdk': src('sdk'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
