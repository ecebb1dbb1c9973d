import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Where the sources may read `process.env`: the `vexil` command (the edge, which hands
 * values to the libraries as options), the SDK's documented defaults (`VEXIL_URL` when
 * no `baseUrl` is passed, read in service-url.ts only; Merino's `MERINO_*` variables when no `environ` is passed),
 * and the test harness finding the engines' binaries.
 */
const ALLOWED: readonly { file: RegExp; line?: RegExp }[] = [
  { file: /^packages\/server\/src\/cli(\.ts$|\/)/ },
  { file: /^packages\/sdk\/src\/service-url\.ts$/, line: /process\.env\[SERVICE_URL_VARIABLE\]/ },
  { file: /^packages\/sdk\/src\/flag-files\.ts$/, line: /options\.environ \?\? process\.env\b/ },
  { file: /^packages\/store\/src\/testing\// },
];

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.ts'))
    .map((path) => relative(root, join(dir, path)));
}

describe('environment variables', () => {
  it('are read at the edge, never inside the libraries', () => {
    const files = ['core', 'store', 'server', 'sdk'].flatMap((pkg) => sources(join(root, 'packages', pkg, 'src')));
    expect(files).toContain('packages/server/src/config.ts');
    const reads: string[] = [];
    for (const file of files) {
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (!/process\.env\b/.test(line) || /^\s*(\/\/|\/?\*)/.test(line)) return;
          const allowed = ALLOWED.some((rule) => rule.file.test(file) && (rule.line?.test(line) ?? true));
          if (!allowed) reads.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(reads, 'read the variable in the CLI (or serve) and pass the value in as an option').toEqual([]);
  });
});
