import type { BigtableSettings, OpenStoreOptions } from '@vexil/store';
import type { Parser } from './config-parsers.js';
import { type ConfigVariable, SERVICE_VARIABLES, type ServiceVariables } from './config-variables.js';

type ValueOf<V> = V extends { default: string; parse: Parser<infer T> }
  ? T
  : V extends { parse: Parser<infer T> }
    ? T | undefined
    : never;

/** The service's configuration: one property per variable of {@link SERVICE_VARIABLES}. */
export type ServiceConfig = { -readonly [K in keyof ServiceVariables]: ValueOf<ServiceVariables[K]> };

/** Environment variables as the edge (the `vexil` command) read them: `process.env` or a test's own. */
export type Env = Readonly<Record<string, string | undefined>>;

type Key = keyof ServiceVariables;

/** What opening the store reads, so commands other than `serve` do not trip over unrelated variables. */
const STORE_KEYS = [
  'tenant',
  'gcpProjectId',
  'bigtableInstanceId',
  'flagTableId',
  'logTableId',
  'bigtableEmulatorHost',
] as const satisfies readonly Key[];

/** Reads every variable of `vexil serve`; a bad value throws an InvalidInputError naming the variable. */
export function loadConfig(env: Env): ServiceConfig {
  return readVariables(env, Object.keys(SERVICE_VARIABLES) as Key[]) as ServiceConfig;
}

/** Only the variables opening the store needs: the Bigtable tables, for every command of the `vexil` CLI. */
export function loadStoreSettings(env: Env): { tenant: string; bigtable: BigtableSettings } {
  const settings = readVariables(env, STORE_KEYS) as Pick<ServiceConfig, (typeof STORE_KEYS)[number]>;
  return { tenant: settings.tenant, bigtable: bigtableSettings(settings) };
}

/** The options `openStore` takes for this configuration. */
export function storeOptions(config: Pick<ServiceConfig, (typeof STORE_KEYS)[number]>): OpenStoreOptions {
  return { bigtable: bigtableSettings(config) };
}

function bigtableSettings(config: Pick<ServiceConfig, (typeof STORE_KEYS)[number]>): BigtableSettings {
  return {
    projectId: config.gcpProjectId,
    instanceId: config.bigtableInstanceId,
    flagTableId: config.flagTableId,
    logTableId: config.logTableId,
    emulatorHost: config.bigtableEmulatorHost,
  };
}

function readVariables(env: Env, keys: readonly Key[]): Partial<Record<Key, unknown>> {
  // TENANT_NAME has a default, so it always has a value; the defaults of the table ids name it.
  const tablePrefix = (readVariable(env, SERVICE_VARIABLES.tenant, '') ?? '').replaceAll('-', '_');
  const values: Partial<Record<Key, unknown>> = {};
  for (const key of keys) {
    const variable: ConfigVariable<unknown> = SERVICE_VARIABLES[key];
    values[key] = readVariable(env, variable, tablePrefix);
  }
  return values;
}

function readVariable<T>(env: Env, variable: ConfigVariable<T>, tablePrefix: string): T | undefined {
  const raw = env[variable.name]?.trim() || variable.default?.replaceAll('{tenant}', tablePrefix);
  return raw === undefined || raw === '' ? undefined : variable.parse(raw, variable.name);
}
