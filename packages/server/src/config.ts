import { assertProjectName, InvalidInputError } from '@vexil/core';
import type { BigtableSettings, OpenStoreOptions } from '@vexil/store';

/**
 * The service's configuration, read from the runbook system's variable names (so its
 * deployment manifests keep working) plus Vexil's own `PORT`, `VEXIL_*` and `LOG_LEVEL`.
 */
export interface ServiceConfig {
  /** `environment`: the deployment's name, shown in logs and /healthz. */
  environment: string;
  /** `TENANT_NAME`: names the default tables. */
  tenant: string;
  /** `PROJECT_ID`: the Google Cloud project of the Bigtable instance. */
  gcpProjectId: string | undefined;
  /** `INSTANCE_ID`: the Bigtable instance. */
  bigtableInstanceId: string | undefined;
  /** `BT_TABLE_ID`: the flag table. */
  flagTableId: string;
  /** `FF_LOG_TABLE_ID`: the evaluation-log table. */
  logTableId: string;
  /** `PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS`: how long an instance id's hash is kept (0 turns the cache off). */
  hashCacheTtlDays: number;
  /** `FEATURE_FLAG_CACHE_TTL_MINUTES`: how long a flag's data is kept (0 turns the cache off). */
  flagCacheTtlMinutes: number;
  /** `VEXIL_HASH_CACHE_SIZE`, `VEXIL_FLAG_CACHE_SIZE`: entries each cache holds at most. */
  hashCacheSize: number;
  flagCacheSize: number;
  /** `PORT` and `HOST`. */
  port: number;
  host: string;
  /** `VEXIL_STORE`. */
  store: string;
  /** `VEXIL_STORE_TIMEOUT_MS`: a store call slower than this answers 504. */
  storeTimeoutMs: number;
  /** `VEXIL_EVALUATION_LOG`: `on` (default) or `off`. */
  evaluationLog: boolean;
  /** `VEXIL_LOG_QUEUE_MAX`, `VEXIL_LOG_BATCH_SIZE`, `VEXIL_LOG_FLUSH_MS`: the evaluation-log queue. */
  logQueueMax: number;
  logBatchSize: number;
  logFlushMs: number;
  /** `VEXIL_CHANGE_POLL_MS`: how often engines without notifications (SQLite, Bigtable) are checked for changes. */
  changePollMs: number;
  /** `LOG_LEVEL`: pino's level for the service's own JSON logs. */
  logLevel: string;
  /** `VEXIL_DEFAULT_PROJECT`: the project of an OFREP evaluation whose context has no `project_name`. */
  defaultProject: string | undefined;
  /** `VEXIL_OFREP_RATE_LIMIT`: OFREP requests per minute per client IP (0 turns the limit off). */
  ofrepRateLimit: number;
  /** `VEXIL_SSE_HEARTBEAT_MS`: how often an open change stream gets a keep-alive comment. */
  sseHeartbeatMs: number;
  /** `VEXIL_CORS_ORIGINS`: origins browsers may call /ofrep and /sdk from: `*` or a list. */
  corsOrigins: '*' | string[];
}

export type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** What each variable means and defaults to, for the README and `vexil serve --help`. */
export const CONFIG_VARIABLES: readonly { name: string; default: string; meaning: string }[] = [
  { name: 'environment', default: 'development', meaning: 'name of the environment' },
  { name: 'TENANT_NAME', default: 'vexil', meaning: 'name of the tenant; names the default tables' },
  { name: 'PROJECT_ID', default: '(none)', meaning: 'Google Cloud project of the Bigtable instance' },
  { name: 'INSTANCE_ID', default: '(none)', meaning: 'Bigtable instance id' },
  { name: 'BT_TABLE_ID', default: '{tenant}_feature_flag_bigtable', meaning: 'flag table' },
  { name: 'FF_LOG_TABLE_ID', default: '{tenant}_feature_flag_service_operation_log', meaning: 'evaluation-log table' },
  {
    name: 'PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS',
    default: '2',
    meaning: 'TTL in days of cached instance-id hashes (0: off)',
  },
  { name: 'FEATURE_FLAG_CACHE_TTL_MINUTES', default: '5', meaning: 'TTL in minutes of cached flag data (0: off)' },
  { name: 'PORT', default: '8080', meaning: 'port to listen on' },
  { name: 'HOST', default: '0.0.0.0', meaning: 'address to listen on' },
  { name: 'VEXIL_STORE', default: 'sqlite:./vexil.db', meaning: 'where flags are kept' },
  { name: 'VEXIL_STORE_TIMEOUT_MS', default: '2000', meaning: 'a store call slower than this answers 504' },
  { name: 'VEXIL_EVALUATION_LOG', default: 'on', meaning: 'write every evaluation to the log table (on/off)' },
  {
    name: 'VEXIL_LOG_QUEUE_MAX',
    default: '100000',
    meaning: 'evaluations waiting to be written, at most; more are dropped and counted',
  },
  { name: 'VEXIL_LOG_BATCH_SIZE', default: '500', meaning: 'evaluations written per batch' },
  { name: 'VEXIL_LOG_FLUSH_MS', default: '100', meaning: 'longest wait before a partial batch is written' },
  {
    name: 'VEXIL_CHANGE_POLL_MS',
    default: '1000',
    meaning: 'how often SQLite and Bigtable are checked for changed flags',
  },
  { name: 'VEXIL_HASH_CACHE_SIZE', default: '100000', meaning: 'instance-id hashes kept at most' },
  { name: 'VEXIL_FLAG_CACHE_SIZE', default: '10000', meaning: 'flags kept at most' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'fatal, error, warn, info, debug, trace or silent' },
  {
    name: 'VEXIL_DEFAULT_PROJECT',
    default: '(none)',
    meaning: 'project of an OFREP evaluation whose context has no project_name',
  },
  {
    name: 'VEXIL_OFREP_RATE_LIMIT',
    default: '0',
    meaning: 'OFREP requests per minute per client IP; more answer 429 with Retry-After (0: no limit)',
  },
  { name: 'VEXIL_SSE_HEARTBEAT_MS', default: '15000', meaning: 'keep-alive comment interval on open change streams' },
  {
    name: 'VEXIL_CORS_ORIGINS',
    default: '*',
    meaning: 'origins browsers may call /ofrep and /sdk from: * or a comma-separated list',
  },
];

/** Only what opening the store needs, so commands other than `serve` do not trip over unrelated variables. */
export function loadStoreSettings(env: Env = process.env): { tenant: string; bigtable: BigtableSettings } {
  const tenant = text(env, 'TENANT_NAME', 'vexil');
  const tablePrefix = tenant.replaceAll('-', '_');
  return {
    tenant,
    bigtable: {
      projectId: optional(env, 'PROJECT_ID'),
      instanceId: optional(env, 'INSTANCE_ID'),
      flagTableId: text(env, 'BT_TABLE_ID', `${tablePrefix}_feature_flag_bigtable`),
      logTableId: text(env, 'FF_LOG_TABLE_ID', `${tablePrefix}_feature_flag_service_operation_log`),
    },
  };
}

/** The options `openStore` takes for this configuration. */
export function storeOptions(
  config: Pick<ServiceConfig, 'gcpProjectId' | 'bigtableInstanceId' | 'flagTableId' | 'logTableId'>,
): OpenStoreOptions {
  return {
    bigtable: {
      projectId: config.gcpProjectId,
      instanceId: config.bigtableInstanceId,
      flagTableId: config.flagTableId,
      logTableId: config.logTableId,
    },
  };
}

export function loadConfig(env: Env = process.env): ServiceConfig {
  const { tenant, bigtable } = loadStoreSettings(env);
  const logLevel = text(env, 'LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new InvalidInputError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`, {
      field: 'LOG_LEVEL',
    });
  }
  return {
    environment: text(env, 'environment', 'development'),
    tenant,
    gcpProjectId: bigtable.projectId,
    bigtableInstanceId: bigtable.instanceId,
    flagTableId: bigtable.flagTableId,
    logTableId: bigtable.logTableId,
    hashCacheTtlDays: number(env, 'PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS', 2, { min: 0 }),
    flagCacheTtlMinutes: number(env, 'FEATURE_FLAG_CACHE_TTL_MINUTES', 5, { min: 0 }),
    hashCacheSize: number(env, 'VEXIL_HASH_CACHE_SIZE', 100_000, { min: 1, integer: true }),
    flagCacheSize: number(env, 'VEXIL_FLAG_CACHE_SIZE', 10_000, { min: 1, integer: true }),
    port: number(env, 'PORT', 8080, { min: 0, max: 65535, integer: true }),
    host: text(env, 'HOST', '0.0.0.0'),
    store: text(env, 'VEXIL_STORE', 'sqlite:./vexil.db'),
    storeTimeoutMs: number(env, 'VEXIL_STORE_TIMEOUT_MS', 2000, { min: 1, integer: true }),
    evaluationLog: toggle(env, 'VEXIL_EVALUATION_LOG', true),
    logQueueMax: number(env, 'VEXIL_LOG_QUEUE_MAX', 100_000, { min: 1, integer: true }),
    logBatchSize: number(env, 'VEXIL_LOG_BATCH_SIZE', 500, { min: 1, integer: true }),
    logFlushMs: number(env, 'VEXIL_LOG_FLUSH_MS', 100, { min: 1, integer: true }),
    changePollMs: number(env, 'VEXIL_CHANGE_POLL_MS', 1000, { min: 10, integer: true }),
    logLevel,
    defaultProject: projectName(env, 'VEXIL_DEFAULT_PROJECT'),
    ofrepRateLimit: number(env, 'VEXIL_OFREP_RATE_LIMIT', 0, { min: 0, integer: true }),
    sseHeartbeatMs: number(env, 'VEXIL_SSE_HEARTBEAT_MS', 15_000, { min: 10, integer: true }),
    corsOrigins: origins(env, 'VEXIL_CORS_ORIGINS'),
  };
}

function projectName(env: Env, name: string): string | undefined {
  const value = optional(env, name);
  if (value !== undefined) assertProjectName(value, name);
  return value;
}

function origins(env: Env, name: string): '*' | string[] {
  const raw = optional(env, name) ?? '*';
  if (raw === '*') return '*';
  const list = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of list) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new InvalidInputError(
        `${name} must be * or a comma-separated list of origins like https://app.example.com (scheme and host, no path), got ${JSON.stringify(origin)}`,
        { field: name },
      );
    }
  }
  return list;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function text(env: Env, name: string, fallback: string): string {
  return optional(env, name) ?? fallback;
}

function number(
  env: Env,
  name: string,
  fallback: number,
  rule: { min: number; max?: number; integer?: boolean },
): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const kind = rule.integer ? 'a whole number' : 'a number';
  const range = rule.max === undefined ? `of at least ${rule.min}` : `from ${rule.min} to ${rule.max}`;
  if (
    !Number.isFinite(value) ||
    (rule.integer && !Number.isInteger(value)) ||
    value < rule.min ||
    (rule.max !== undefined && value > rule.max)
  ) {
    throw new InvalidInputError(`${name} must be ${kind} ${range}, got ${JSON.stringify(raw)}`, { field: name });
  }
  return value;
}

function toggle(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['on', 'true', '1', 'yes'].includes(raw)) return true;
  if (['off', 'false', '0', 'no'].includes(raw)) return false;
  throw new InvalidInputError(`${name} must be on or off, got ${JSON.stringify(raw)}`, { field: name });
}
