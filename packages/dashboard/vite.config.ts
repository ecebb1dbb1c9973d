import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * Built into the server package (packages/server/dashboard/), which `vexil serve` serves at `/`.
 * Everything is a file of its own under /assets: no inline script or style and no data: URL
 * (assetsInlineLimit 0), so the page runs under `default-src 'self'`.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../server/dashboard/', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev -w @vexil/dashboard` against a `vexil serve` on VEXIL_URL (default :8080).
    proxy: Object.fromEntries(
      ['/admin', '/ofrep', '/get-feature-flag', '/sdk'].map((prefix) => [
        prefix,
        process.env.VEXIL_URL ?? 'http://127.0.0.1:8080',
      ]),
    ),
  },
});
