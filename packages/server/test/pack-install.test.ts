import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from './support/test-token.js';

// What a project outside the repository gets: the five packages packed as they would be
// published, installed from their tarballs (their own dependencies from the registry)
// into a folder under the OS's temp folder, with no way to reach the repository's
// node_modules. Slow (the registry, better-sqlite3's native build), hence the timeouts.
const INSTALL_TIMEOUT_MS = 15 * 60_000;

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const packages = ['core', 'store', 'server', 'sdk', 'web'] as const;
const packDir = mkdtempSync(join(tmpdir(), 'vexil-pack-'));
const project = mkdtempSync(join(tmpdir(), 'vexil-install-'));
const storeSpec = `sqlite:${join(project, 'flags.db')}`;

/**
 * The environment of every command: none of the `npm_*` variables `npm test` sets (they
 * would point npm at the repository) and no NODE_PATH, so nothing resolves from it.
 */
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !/^npm_/i.test(name) && !['NODE_PATH', 'INIT_CWD', 'VEXIL_STORE', 'VEXIL_PROJECT'].includes(name),
  ),
);

function run(command: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, {
    cwd,
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    timeout: INSTALL_TIMEOUT_MS,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.status ?? result.signal}:\n${output}`);
  }
  return { stdout: result.stdout, output };
}

const installed = (name: string, ...path: string[]) => join(project, 'node_modules', '@vexil', name, ...path);
const manifest = (name: string) =>
  JSON.parse(readFileSync(installed(name, 'package.json'), 'utf8')) as {
    bin?: Record<string, string>;
    exports: Record<string, { types: string; default: string }>;
  };

const { devDependencies } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const webDevDependencies = (
  JSON.parse(readFileSync(join(repo, 'packages/web/package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  }
).devDependencies;
let installOutput = '';
let service: ChildProcess | undefined;

describe('the packages installed from npm pack tarballs outside the repository', () => {
  beforeAll(() => {
    // The install must not find the repository's node_modules by walking up.
    expect(relative(repo, project).startsWith('..')).toBe(true);

    run(
      'npm',
      ['pack', ...packages.flatMap((p) => ['--workspace', `packages/${p}`]), '--pack-destination', packDir],
      repo,
    );
    const tarballs = readdirSync(packDir);
    const tarball = (name: string) => {
      const file = tarballs.find((f) => f.startsWith(`vexil-${name}-`) && f.endsWith('.tgz'));
      if (!file) throw new Error(`npm pack wrote no tarball for @vexil/${name}: ${tarballs.join(', ')}`);
      return `file:${join(packDir, file)}`;
    };
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'vexil-install-check',
        private: true,
        type: 'module',
        dependencies: {
          ...Object.fromEntries(packages.map((p) => [`@vexil/${p}`, tarball(p)])),
          // The optional peers that @vexil/sdk/openfeature, @vexil/web/openfeature and
          // @vexil/web/react need, so every export can be loaded and type-checked.
          '@openfeature/server-sdk': '^1.15.0',
          '@openfeature/web-sdk': devDependencies['@openfeature/web-sdk'],
          react: webDevDependencies.react,
          '@types/react': webDevDependencies['@types/react'],
          // To type-check a TypeScript consumer, with this repository's versions.
          typescript: devDependencies.typescript,
          '@types/node': devDependencies['@types/node'],
        },
        // The install scripts Vexil's dependencies need: better-sqlite3's native build,
        // and the Bigtable client's.
        allowScripts: { 'better-sqlite3': true, protobufjs: true, sse4_crc32: true },
        // What README's Install section suggests on Node 20 (cookie@2, for fastify's inject()).
        overrides: { 'light-my-request': '6.6.0' },
      }),
    );
    installOutput = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], project).output;
  }, INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    if (service && service.exitCode === null && service.signalCode === null) {
      const exited = new Promise((resolve) => service?.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
    }
    rmSync(project, { recursive: true, force: true });
    rmSync(packDir, { recursive: true, force: true });
  });

  it('installs without engine warnings, with every install script allowed, and links nothing to the repository', () => {
    expect(installOutput).not.toMatch(/EBADENGINE|not yet covered by allowScripts|skipped/i);
    for (const name of packages) {
      // A real copy from the tarball, not a link back into the repository.
      expect(realpathSync(installed(name)).startsWith(realpathSync(project))).toBe(true);
    }
  });

  it('ships dist, README and LICENSE in each package, and no build info', () => {
    for (const name of packages) {
      expect(existsSync(installed(name, 'README.md'))).toBe(true);
      expect(readFileSync(installed(name, 'LICENSE'), 'utf8')).toBe(readFileSync(join(repo, 'LICENSE'), 'utf8'));
      expect(existsSync(installed(name, 'dist', 'index.js'))).toBe(true);
      expect(existsSync(installed(name, 'dist', '.tsbuildinfo'))).toBe(false);
      expect(existsSync(installed(name, 'test'))).toBe(false);
    }
  });

  it('resolves every export of every package, its types file included', () => {
    const script = packages
      .flatMap((name) =>
        Object.keys(manifest(name).exports).map((subpath) => {
          const specifier = `@vexil/${name}${subpath.slice(1)}`;
          return `console.log(${JSON.stringify(specifier)}, Object.keys(await import(${JSON.stringify(specifier)})).length);`;
        }),
      )
      .join('\n');
    writeFileSync(join(project, 'exports.mjs'), script);
    const lines = run(process.execPath, ['exports.mjs'], project).stdout.trim().split('\n');
    const expected = packages.flatMap((name) => Object.keys(manifest(name).exports).map(() => name));
    expect(lines).toHaveLength(expected.length);
    for (const line of lines) expect(Number(line.split(' ')[1])).toBeGreaterThan(0);
    for (const name of packages) {
      for (const entry of Object.values(manifest(name).exports)) {
        expect(Object.keys(entry)[0]).toBe('types');
        expect(existsSync(installed(name, entry.types))).toBe(true);
      }
    }
  });

  it(
    'type-checks a strict TypeScript consumer against the published types, libraries checked too',
    () => {
      const specifiers = packages.flatMap((name) =>
        Object.keys(manifest(name).exports).map((subpath) => `@vexil/${name}${subpath.slice(1)}`),
      );
      writeFileSync(
        join(project, 'consumer.ts'),
        `${specifiers.map((specifier, i) => `import * as module${i} from '${specifier}';`).join('\n')}
import { FeatureFlagClient } from '@vexil/sdk';
import { FlagAdmin } from '@vexil/server';
import { openStore } from '@vexil/store';

const client = new FeatureFlagClient({ projectName: 'shop', baseUrl: 'http://localhost:8080' });
const value: string = client.getFlagString('greeting', 'vip-1', 'fallback');
// @ts-expect-error a string flag's default is a string: the types are real, not any
client.getFlagString('greeting', 'vip-1', 42);
const admin: FlagAdmin = new FlagAdmin(await openStore('memory:'));
console.log(value, admin, [${specifiers.map((_, i) => `module${i}`).join(', ')}].length);
`,
      );
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            types: ['node'],
          },
          files: ['consumer.ts'],
        }),
      );
      run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', project], project);
    },
    INSTALL_TIMEOUT_MS,
  );

  it('installs `vexil` as an executable with a node shebang', () => {
    const cli = installed('server', manifest('server').bin?.vexil ?? 'missing');
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    accessSync(cli, constants.X_OK);
    accessSync(join(project, 'node_modules', '.bin', 'vexil'), constants.X_OK);
  });

  it(
    'runs `npx vexil` and `vexil serve`, and the installed SDK evaluates a flag from that service',
    async () => {
      const vexil = (...args: string[]) =>
        run('npx', ['--no-install', 'vexil', '--store', storeSpec, ...args], project);
      vexil('add-flag', 'greeting', '-p', 'shop', '-t', 'data', '-d', 'How the shop says hello');
      vexil(
        'add-revision',
        'greeting',
        '-p',
        'shop',
        '-c',
        'hello',
        '--treatment',
        '{"PercentRollout": 10, "Value": "bonjour", "OverrideList": ["vip-1"]}',
        '--owner',
        'ci',
      );
      expect(JSON.parse(vexil('--json', 'eval', 'greeting', '-p', 'shop', '-i', 'vip-1').stdout)).toMatchObject({
        value: 'bonjour',
      });

      const url = await serve();
      writeFileSync(
        join(project, 'evaluate.mjs'),
        `import { FeatureFlagClient } from '@vexil/sdk';
const client = new FeatureFlagClient({
  projectName: 'shop',
  baseUrl: process.argv[2],
  reportEvaluations: false,
  // The CLI started the project: its evaluation needs a read token.
  headers: { authorization: 'Bearer ${TEST_ADMIN_TOKEN}' },
});
const ready = await client.ready();
const details = client.getFlagStringDetails('greeting', 'vip-1', 'fallback');
client.close();
// The browser client runs on Node.js too (fetch, streams).
const { VexilClient } = await import('@vexil/web');
const web = new VexilClient({ baseUrl: process.argv[2], project: 'shop', token: '${TEST_ADMIN_TOKEN}', context: { targetingKey: 'vip-1' } });
const webReady = await web.ready();
const webValue = web.getFlagString('greeting', 'fallback');
web.close();
console.log(JSON.stringify({ ready, value: details.value, reason: details.reason, group: details.group, webReady, webValue }));
`,
      );
      const answer = JSON.parse(run(process.execPath, ['evaluate.mjs', url], project).stdout) as unknown;
      expect(answer).toEqual({
        ready: true,
        value: 'bonjour',
        reason: 'TARGETING_MATCH',
        group: 'override',
        webReady: true,
        webValue: 'bonjour',
      });
    },
    INSTALL_TIMEOUT_MS,
  );
});

/** Starts the installed `vexil serve` (its bin, as a shell would run it) on a free port; resolves its URL. */
function serve(): Promise<string> {
  const child = spawn(join(project, 'node_modules', '.bin', 'vexil'), ['serve'], {
    cwd: project,
    env: {
      ...env,
      VEXIL_STORE: storeSpec,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      VEXIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service = child;
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vexil serve did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)".*"msg":"vexil serving"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vexil serve exited (${code}) before serving:\n${output}`));
    });
  });
}
