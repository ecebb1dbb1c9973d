import { CHANGE_STREAM_KEEP_ALIVE_MS, MAX_JSON_DEPTH } from '@vexil/core';
import { DEFAULT_STORE_SPEC } from '@vexil/store';
import { numberIn, oneOf, onOff, origins, type Parser, projectName, text } from './config-parsers.js';
import { parseWebhooksVariable } from './webhooks/webhook-config.js';

/**
 * One variable of `vexil serve`. The declarations below are the only place a variable
 * is named: the `ServiceConfig` type, `loadConfig`, `vexil serve --help` and README's
 * Configuration table (`npm run docs:config`) are all made from them.
 */
export interface ConfigVariable<T> {
  /** The environment variable. */
  readonly name: string;
  /**
   * The value when the variable is unset, written as one would set it, and read by
   * `parse` like a set value; `{tenant}` stands for `TENANT_NAME` with `-` as `_`.
   * `undefined`: no value (the setting is optional).
   */
  readonly default: string | undefined;
  readonly parse: Parser<T>;
  /** What it does, for people: one line of Markdown (`--help` shows it without backticks and link targets). */
  readonly meaning: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The runbook system's variable names keep their meaning (so its deployment manifests
 * keep working), beside Vexil's own `PORT`, `HOST`, `VEXIL_*` and `LOG_LEVEL`. Keyed by
 * the `ServiceConfig` property each one sets; in the order they are documented.
 */
export const SERVICE_VARIABLES = {
  environment: {
    name: 'environment',
    default: 'development',
    parse: text,
    meaning: 'name of the environment (shown by `/healthz`)',
  },
  tenant: {
    name: 'TENANT_NAME',
    default: 'vexil',
    parse: text,
    meaning:
      "names the default tables (`{tenant}`: `-` becomes `_`): `TENANT_NAME=csr-va` gives the runbook system's own",
  },
  gcpProjectId: {
    name: 'PROJECT_ID',
    default: undefined,
    parse: text,
    meaning: 'Google Cloud project of the Bigtable instance',
  },
  bigtableInstanceId: { name: 'INSTANCE_ID', default: undefined, parse: text, meaning: 'Bigtable instance' },
  flagTableId: { name: 'BT_TABLE_ID', default: '{tenant}_feature_flag_bigtable', parse: text, meaning: 'flag table' },
  logTableId: {
    name: 'FF_LOG_TABLE_ID',
    default: '{tenant}_feature_flag_service_operation_log',
    parse: text,
    meaning: 'evaluation-log table',
  },
  bigtableEmulatorHost: {
    name: 'BIGTABLE_EMULATOR_HOST',
    default: undefined,
    parse: text,
    meaning: '`host:port` of a Bigtable emulator to use instead of Bigtable',
  },
  hashCacheTtlDays: {
    name: 'PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS',
    default: '2',
    parse: numberIn({ min: 0 }),
    meaning:
      "accepted from the runbook system's configuration and checked, but has no effect: hashing an instance id costs less than looking it up in a cache",
  },
  flagCacheTtlMinutes: {
    name: 'FEATURE_FLAG_CACHE_TTL_MINUTES',
    default: '5',
    parse: numberIn({ min: 0 }),
    meaning: 'TTL of cached flag data, in minutes (0: off)',
  },
  port: {
    name: 'PORT',
    default: '8080',
    parse: numberIn({ min: 0, max: 65535, integer: true }),
    meaning: 'port to listen on',
  },
  host: {
    name: 'HOST',
    default: '0.0.0.0',
    parse: text,
    meaning:
      'address to listen on; every interface by default, which is safe because writes always need an API token (see [Access](#access))',
  },
  store: {
    name: 'VEXIL_STORE',
    default: DEFAULT_STORE_SPEC,
    parse: text,
    meaning:
      'where flags are kept: `sqlite:PATH`, `sqlite::memory:`, `bigtable`, `postgres://USER:PASSWORD@HOST:PORT/DB`, `memory:` (see [Storage](#storage))',
  },
  storeTimeoutMs: {
    name: 'VEXIL_STORE_TIMEOUT_MS',
    default: '2000',
    parse: numberIn({ min: 1, integer: true }),
    meaning: 'a store call slower than this answers 504',
  },
  evaluationLog: {
    name: 'VEXIL_EVALUATION_LOG',
    default: 'on',
    parse: onOff,
    meaning: 'write every evaluation to the log table (`on` or `off`)',
  },
  logQueueMax: {
    name: 'VEXIL_LOG_QUEUE_MAX',
    default: '100000',
    parse: numberIn({ min: 1, integer: true }),
    meaning:
      'evaluations waiting to be written, at most (plus a failed batch waiting to be retried); more are dropped and counted',
  },
  logBatchSize: {
    name: 'VEXIL_LOG_BATCH_SIZE',
    default: '500',
    parse: numberIn({ min: 1, integer: true }),
    meaning: 'evaluations per batch write',
  },
  logFlushMs: {
    name: 'VEXIL_LOG_FLUSH_MS',
    default: '100',
    parse: numberIn({ min: 1, integer: true }),
    meaning: 'longest wait before a partial batch is written',
  },
  logDurable: {
    name: 'VEXIL_LOG_DURABLE',
    default: 'off',
    parse: onOff,
    meaning:
      'answer an evaluation only once its log row is stored (`on`): a crash loses no answered evaluation, and an evaluation whose row cannot be stored answers 503; `off`: rows are written after the answer, and a crash loses those of the last flush interval',
  },
  reportLogQueueMax: {
    name: 'VEXIL_REPORT_LOG_QUEUE_MAX',
    default: '20000',
    parse: numberIn({ min: 1, integer: true }),
    meaning:
      'reported evaluations waiting to be written, at most: reports have a queue and a writer of their own, so a flood of them cannot push served evaluations out of the log; more are dropped and counted',
  },
  reportMaxAgeSeconds: {
    name: 'VEXIL_REPORT_MAX_AGE_SECONDS',
    default: '86400',
    parse: numberIn({ min: 0, integer: true }),
    meaning: 'a reported evaluation whose `time` is older than this many seconds is refused (and counted)',
  },
  reportMaxAheadSeconds: {
    name: 'VEXIL_REPORT_MAX_AHEAD_SECONDS',
    default: '300',
    parse: numberIn({ min: 0, integer: true }),
    meaning:
      "a reported evaluation whose `time` is more than this many seconds ahead of the service's clock is refused (and counted)",
  },
  flagCacheSize: {
    name: 'VEXIL_FLAG_CACHE_SIZE',
    default: '10000',
    parse: numberIn({ min: 1, integer: true }),
    meaning: 'flags whose data is kept at most',
  },
  changePollMs: {
    name: 'VEXIL_CHANGE_POLL_MS',
    default: '250',
    parse: numberIn({ min: 10, integer: true }),
    meaning:
      'how often SQLite and Bigtable are checked for changed flags (cache drops and change-stream events), in ms',
  },
  scheduleRetentionDays: {
    name: 'VEXIL_SCHEDULE_RETENTION_DAYS',
    default: '30',
    parse: numberIn({ min: 1, integer: true }),
    meaning:
      'scheduled revisions applied, cancelled or failed are deleted after this many days (the revisions they wrote keep their ScheduleID in history)',
  },
  defaultProject: {
    name: 'VEXIL_DEFAULT_PROJECT',
    default: undefined,
    parse: projectName,
    meaning: 'project of an OFREP evaluation whose context has no `project_name`',
  },
  ofrepRateLimit: {
    name: 'VEXIL_OFREP_RATE_LIMIT',
    default: '0',
    parse: numberIn({ min: 0, integer: true }),
    meaning: 'OFREP requests per minute per client IP; past it, 429 with `Retry-After` (0: no limit)',
  },
  rateLimit: {
    name: 'VEXIL_RATE_LIMIT',
    default: '0',
    parse: numberIn({ min: 0, integer: true }),
    meaning:
      'requests per minute per caller (the API token presented, else the client address) on every route but `/healthz`, `/readyz`, `/metrics` and the evaluation reports; past it, 429 with `Retry-After` (0: no limit)',
  },
  reportRateLimit: {
    name: 'VEXIL_REPORT_RATE_LIMIT',
    default: '600',
    parse: numberIn({ min: 0, integer: true }),
    meaning:
      'evaluation reports (`POST /sdk/v1/evaluations`) per minute per caller, counted apart from other requests; past it, 429 with `Retry-After` (0: no limit)',
  },
  bodyLimitBytes: {
    name: 'VEXIL_BODY_LIMIT_BYTES',
    default: '1048576',
    parse: numberIn({ min: 1024, integer: true }),
    meaning: 'largest request body, in bytes; a larger one answers 413',
  },
  reportBodyLimitBytes: {
    name: 'VEXIL_REPORT_BODY_LIMIT_BYTES',
    default: '8388608',
    parse: numberIn({ min: 1024, integer: true }),
    meaning: 'largest evaluation report body (`POST /sdk/v1/evaluations`), in bytes; a larger one answers 413',
  },
  jsonMaxDepth: {
    name: 'VEXIL_JSON_MAX_DEPTH',
    default: '100',
    parse: numberIn({ min: MAX_JSON_DEPTH + 16, max: 10_000, integer: true }),
    meaning: `deepest nesting of a JSON request body (objects and arrays); a deeper one answers 400. At least ${MAX_JSON_DEPTH + 16}, so that JSON flag values ${MAX_JSON_DEPTH} deep fit in a revision`,
  },
  maxHeaderBytes: {
    name: 'VEXIL_MAX_HEADER_BYTES',
    default: '16384',
    parse: numberIn({ min: 1024, integer: true }),
    meaning: "largest size of a request's headers, in bytes; larger ones answer 431",
  },
  requestTimeoutMs: {
    name: 'VEXIL_REQUEST_TIMEOUT_MS',
    default: '30000',
    parse: numberIn({ min: 100, integer: true }),
    meaning:
      'a request whose headers and body have not all arrived this long after it started answers 408 and its connection is closed (looked for at least once a second)',
  },
  sseMaxPerClient: {
    name: 'VEXIL_SSE_MAX_PER_CLIENT',
    default: '100',
    parse: numberIn({ min: 1, integer: true }),
    meaning: 'open change streams per caller (today the client address); one more answers 429 with `Retry-After`',
  },
  sseMaxTotal: {
    name: 'VEXIL_SSE_MAX_TOTAL',
    default: '10000',
    parse: numberIn({ min: 1, integer: true }),
    meaning: 'open change streams in all; one more answers 503 with `Retry-After`',
  },
  sseHeartbeatMs: {
    name: 'VEXIL_SSE_HEARTBEAT_MS',
    default: String(CHANGE_STREAM_KEEP_ALIVE_MS),
    parse: numberIn({ min: 10, integer: true }),
    meaning: 'interval of the `: keep-alive` comment on open change streams, in ms',
  },
  adminToken: {
    name: 'VEXIL_ADMIN_TOKEN',
    default: undefined,
    parse: text,
    meaning:
      'an admin API token accepted as given (stored hashed, owner `bootstrap`); unset, and with no token in the store, the first start creates one and prints it once on stderr (see [Access](#access))',
  },
  adminCorsOrigins: {
    name: 'VEXIL_ADMIN_CORS_ORIGINS',
    default: undefined,
    parse: origins,
    meaning:
      'origins browsers may call the admin API (`/admin/v1`) from, with a token in a header: a comma-separated list; unset, no cross-origin call is allowed',
  },
  corsOrigins: {
    name: 'VEXIL_CORS_ORIGINS',
    default: '*',
    parse: origins,
    meaning:
      'origins browsers may call `/ofrep` and `/sdk` from: `*` or a comma-separated list (`https://app.example.com`)',
  },
  webhooks: {
    name: 'VEXIL_WEBHOOKS',
    default: undefined,
    parse: parseWebhooksVariable,
    meaning:
      'webhooks beside those added with `vexil webhook add`: a JSON list of `{"url", "secret", "project"?, "events"?}`; every change is POSTed, signed, to each (see [docs/webhooks.md](docs/webhooks.md))',
  },
  logLevel: {
    name: 'LOG_LEVEL',
    default: 'info',
    parse: oneOf(LOG_LEVELS),
    meaning: '`fatal` … `trace`, `silent`; `debug` adds a line per request',
  },
} as const satisfies Record<string, ConfigVariable<unknown>>;

export type ServiceVariables = typeof SERVICE_VARIABLES;
