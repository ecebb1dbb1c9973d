import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Rollup } from 'vite';
import { describe, expect, it } from 'vitest';

/** The main entry (`@vexil/web`, without React), minified and gzipped, stays under this: issue 17's limit. */
const MAIN_ENTRY_GZIP_LIMIT_BYTES = 10 * 1024;

const source = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/**
 * Builds `code` (an entry module) as an application would bundle it — Vite, minified,
 * every dependency included except `external` — and answers its gzipped size.
 */
async function gzippedSize(code: string, external: string[] = []): Promise<number> {
  const entry = '\0size-entry';
  const output = (await build({
    configFile: false,
    logLevel: 'silent',
    resolve: {
      alias: [
        { find: /^@vexil\/core$/, replacement: source('core/src/index.ts') },
        { find: /^@vexil\/web$/, replacement: source('web/src/index.ts') },
        { find: /^@vexil\/web\/(.+)$/, replacement: source('web/src/$1.ts') },
      ],
    },
    plugins: [
      {
        name: 'size-entry',
        resolveId: (id) => (id === entry ? id : undefined),
        load: (id) => (id === entry ? code : undefined),
      },
    ],
    build: {
      write: false,
      minify: 'esbuild',
      target: 'es2022',
      rollupOptions: { input: entry, external, output: { format: 'es' }, preserveEntrySignatures: 'strict' },
    },
  })) as Rollup.RollupOutput;
  const chunks = output.output.filter((file): file is Rollup.OutputChunk => file.type === 'chunk');
  return chunks.reduce((sum, chunk) => sum + gzipSync(chunk.code, { level: 9 }).length, 0);
}

const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

describe('the size of @vexil/web in a browser bundle', () => {
  it(`keeps the main entry (client, OFREP evaluation, change stream) under ${kB(MAIN_ENTRY_GZIP_LIMIT_BYTES)} minified and gzipped`, async () => {
    const main = await gzippedSize(`export * from '@vexil/web';`);
    const local = await gzippedSize(`export * from '@vexil/web'; export * from '@vexil/web/local';`);
    const provider = await gzippedSize(`export * from '@vexil/web'; export * from '@vexil/web/openfeature';`, [
      '@openfeature/web-sdk',
    ]);
    const react = await gzippedSize(`export * from '@vexil/web'; export * from '@vexil/web/react';`, ['react']);
    console.log(
      `@vexil/web minified+gzipped: main entry ${main} bytes (${kB(main)}); with @vexil/web/local ${kB(local)}; ` +
        `with /openfeature ${kB(provider)} (without @openfeature/web-sdk); with /react ${kB(react)} (without React)`,
    );
    expect(main).toBeGreaterThan(1024);
    expect(main).toBeLessThan(MAIN_ENTRY_GZIP_LIMIT_BYTES);
    // Local evaluation is core's evaluation: more than the client, which is why it is an entry of its own.
    expect(local).toBeGreaterThan(main);
  }, 60_000);
});
