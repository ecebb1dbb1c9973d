import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type Env, loadConfig, loadStoreSettings, storeOptions } from '../src/config.js';
import { README_TABLE_END, README_TABLE_START, withConfigTable } from '../src/config-docs.js';
import { SERVICE_VARIABLES } from '../src/config-variables.js';
import { CliHarness } from './cli-harness.js';

const declared = Object.values(SERVICE_VARIABLES);
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** An environment that records which variables are read. */
function recordingEnv(values: Record<string, string> = {}): { env: Env; read: Set<string> } {
  const read = new Set<string>();
  const env = new Proxy(values, {
    get: (target, name) => {
      if (typeof name === 'string') read.add(name);
      return typeof name === 'string' ? target[name] : undefined;
    },
  });
  return { env, read };
}

/** README's configuration table as cells, read on its own terms rather than through the renderer. */
function readmeRows(): { name: string; default: string; meaning: string }[] {
  const start = readme.indexOf(README_TABLE_START);
  const end = readme.indexOf(README_TABLE_END);
  expect(start, 'README has the configuration table markers').toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  const lines = readme
    .slice(start + README_TABLE_START.length, end)
    .trim()
    .split('\n');
  expect(lines.slice(0, 2)).toEqual(['| variable | default | meaning |', '|---|---|---|']);
  return lines.slice(2).map((line) => {
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replaceAll('\\|', '|'));
    expect(cells, line).toHaveLength(3);
    const [name = '', fallback = '', meaning = ''] = cells;
    return { name, default: fallback, meaning };
  });
}

describe("README's Configuration table", () => {
  it('lists every declared variable, in order, with its default and meaning', () => {
    expect(readmeRows()).toEqual(
      declared.map((v) => ({
        name: `\`${v.name}\``,
        default: v.default === undefined ? '—' : `\`${v.default}\``,
        meaning: v.meaning,
      })),
    );
  });

  it('is exactly what `npm run docs:config` writes (run it after changing a declaration)', () => {
    expect(readme).toBe(withConfigTable(readme));
  });
});

describe('vexil serve --help', () => {
  const cli = new CliHarness();
  afterAll(() => cli.cleanup());

  it('lists every variable with its default and meaning', async () => {
    const result = await cli.run('serve', '--help');
    expect(result.code).toBe(0);
    const help = result.stdout.replaceAll(/\s+/g, ' ');
    for (const v of declared) {
      expect(help).toContain(`${v.name}${v.default === undefined ? ' (no default)' : `=${v.default}`} `);
      const plain = v.meaning.replaceAll(/\[([^\]]*)\]\([^)]*\)/g, '$1').replaceAll('`', '');
      expect(help, v.name).toContain(plain);
    }
  });
});

describe('vexil --help', () => {
  const cli = new CliHarness();
  afterAll(() => cli.cleanup());

  it("describes --store with VEXIL_STORE's meaning, every engine included", async () => {
    const help = (await cli.run('--help')).stdout.replaceAll(/\s+/g, ' ');
    expect(help).toContain(
      '--store <spec> where flags are kept: sqlite:PATH, sqlite::memory:, bigtable, postgres://USER:PASSWORD@HOST:PORT/DB, memory:',
    );
    expect(help).toContain('default sqlite:./vexil.db (env: VEXIL_STORE)');
  });
});

describe('the declarations are the configuration', () => {
  it('loadConfig reads the declared variables and no others', () => {
    const { env, read } = recordingEnv();
    loadConfig(env);
    expect([...read].sort()).toEqual(declared.map((v) => v.name).sort());
  });

  it('gives every declared default when nothing is set', () => {
    expect(loadConfig({})).toStrictEqual({
      environment: 'development',
      tenant: 'vexil',
      gcpProjectId: undefined,
      bigtableInstanceId: undefined,
      flagTableId: 'vexil_feature_flag_bigtable',
      logTableId: 'vexil_feature_flag_service_operation_log',
      bigtableEmulatorHost: undefined,
      hashCacheTtlDays: 2,
      flagCacheTtlMinutes: 5,
      port: 8080,
      host: '0.0.0.0',
      store: 'sqlite:./vexil.db',
      storeTimeoutMs: 2000,
      evaluationLog: true,
      logQueueMax: 100_000,
      logBatchSize: 500,
      logFlushMs: 100,
      logDurable: false,
      reportLogQueueMax: 20_000,
      reportMaxAgeSeconds: 86_400,
      reportMaxAheadSeconds: 300,
      flagCacheSize: 10_000,
      changePollMs: 250,
      scheduleRetentionDays: 30,
      defaultProject: undefined,
      ofrepRateLimit: 0,
      rateLimit: 0,
      reportRateLimit: 600,
      bodyLimitBytes: 1_048_576,
      reportBodyLimitBytes: 8_388_608,
      jsonMaxDepth: 100,
      maxHeaderBytes: 16_384,
      requestTimeoutMs: 30_000,
      sseMaxPerClient: 100,
      sseMaxTotal: 10_000,
      sseHeartbeatMs: 15_000,
      adminToken: undefined,
      adminCorsOrigins: undefined,
      corsOrigins: '*',
      webhooks: undefined,
      logLevel: 'info',
    });
  });

  it('treats an empty or blank variable as unset', () => {
    expect(loadConfig({ PORT: '', TENANT_NAME: '  ', VEXIL_CORS_ORIGINS: ' ' })).toMatchObject({
      port: 8080,
      tenant: 'vexil',
      flagTableId: 'vexil_feature_flag_bigtable',
      corsOrigins: '*',
    });
  });

  it.each([
    ['VEXIL_STORE_TIMEOUT_MS', '0'],
    ['VEXIL_LOG_QUEUE_MAX', '1e3.5'],
    ['VEXIL_LOG_BATCH_SIZE', '2.5'],
    ['VEXIL_LOG_FLUSH_MS', 'soon'],
    ['VEXIL_FLAG_CACHE_SIZE', '-5'],
    ['VEXIL_CHANGE_POLL_MS', '5'],
  ])('refuses %s=%s with a message naming it and what to set', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name} must be a whole number of at least \\d+`));
  });

  it('hands BIGTABLE_EMULATOR_HOST to the store as an option', () => {
    const config = loadConfig({ VEXIL_STORE: 'bigtable', BIGTABLE_EMULATOR_HOST: '127.0.0.1:8086' });
    expect(storeOptions(config).bigtable).toStrictEqual({
      projectId: undefined,
      instanceId: undefined,
      flagTableId: 'vexil_feature_flag_bigtable',
      logTableId: 'vexil_feature_flag_service_operation_log',
      emulatorHost: '127.0.0.1:8086',
    });
  });

  it('reads only the store variables for commands other than serve, so a bad PORT does not stop them', () => {
    const { env, read } = recordingEnv({ PORT: 'nope', TENANT_NAME: 'csr-va', PROJECT_ID: 'p', INSTANCE_ID: 'i' });
    expect(loadStoreSettings(env)).toStrictEqual({
      tenant: 'csr-va',
      bigtable: {
        projectId: 'p',
        instanceId: 'i',
        flagTableId: 'csr_va_feature_flag_bigtable',
        logTableId: 'csr_va_feature_flag_service_operation_log',
        emulatorHost: undefined,
      },
    });
    expect([...read].sort()).toEqual([
      'BIGTABLE_EMULATOR_HOST',
      'BT_TABLE_ID',
      'FF_LOG_TABLE_ID',
      'INSTANCE_ID',
      'PROJECT_ID',
      'TENANT_NAME',
    ]);
  });
});
