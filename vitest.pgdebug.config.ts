import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
const src = (pkg: string) => `/work/main/packages/${pkg}/src/index.ts`;
export default defineConfig({
  resolve: { alias: { '@vexil/core': src('core'), '@vexil/store': src('store') } },
  test: { root: '/work/main', include: ['packages/store/test/*.pgdebug.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
