import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import {
  assertProjectName,
  CHANGE_STREAM_KEEP_ALIVE_MS,
  type EvaluationReason as CoreEvaluationReason,
  type EvaluationContext,
  type EvaluationDetails,
  FLAG_TYPES,
  type FlagType,
  type FlagUpdate,
  type FlagValue,
  formatValue,
  isInstanceId,
  type JsonObject,
  type JsonValue,
  MAX_INSTANCE_ID_LENGTH,
  type ProjectSnapshot,
  parseProjectSnapshot,
  type SegmentLookup,
  snapshotFlagOf,
  snapshotVersion,
  sortSnapshotFlags,
  TargetingKeyMissingError,
  VALUE_FLAG_TYPES,
  type ValueFlagType,
} from '@vexil/core';
import { backgroundFetch } from './background-fetch.js';
import { typeMismatchMessage, VexilClientError, type VexilClientErrorCode } from './client-errors.js';
import { ClientEvents } from './client-events.js';
import { EvaluationReporter, type ReportOptions, type ReportStats } from './evaluation-reporter.js';
import { compileEntry, type FlagEntry } from './flag-entry.js';
import { requestHeaders } from './request-headers.js';
import { SERVICE_URL_VARIABLE, serviceUrl } from './service-url.js';
import { SnapshotSync } from './snapshot-sync.js';

/** Where the flag data in use came from. */
export type SnapshotSource = 'service' | 'bootstrap' | 'cache-file';

/**
 * `connecting`: not yet in sync with the service; `connected`: the change stream is
 * open (or, without streaming, the last poll succeeded); `disconnected`: the service was
 * lost, the client answers from the data it holds and keeps trying; `closed`.
 */
export type ClientState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface FeatureFlagClientOptions {
  /** The project whose flags the client holds, e.g. `csr-assistant`. */
  projectName: string;
  /** The Vexil service, e.g. `http://localhost:8080`. Default: the `VEXIL_URL` environment variable. */
  baseUrl?: string | undefined;
  /** Sent with every request (e.g. an `authorization` header). */
  headers?: Readonly<Record<string, string>> | undefined;
  /**
   * An API token (`vexil token create --scope read -p PROJECT`), sent as
   * `Authorization: Bearer …`: needed for evaluation reports, and for the snapshot and
   * stream of a project whose evaluation is not public.
   */
  token?: string | undefined;
  /** Each request (stream connect, snapshot poll, report) must answer within this. Default 5000 ms. */
  timeoutMs?: number | undefined;
  /** `ready()` resolves false when the service's snapshot has not arrived by then. Default 5000 ms. */
  readyTimeoutMs?: number | undefined;
  /** Keep the snapshot current through the change stream (true, the default) or only by polling (false). */
  streaming?: boolean | undefined;
  /** How often the snapshot is polled (ETag) while the stream is down, or always without streaming. Default 30,000 ms; 0: never. */
  pollIntervalMs?: number | undefined;
  /** First reconnect delay (doubling per failure, with jitter). Default 500 ms. */
  reconnectDelayMs?: number | undefined;
  /** Longest reconnect delay. Default 30,000 ms. */
  maxReconnectDelayMs?: number | undefined;
  /** A stream silent this long (the service sends a keep-alive every 15 s) is reconnected. Default 45,000 ms. */
  streamIdleTimeoutMs?: number | undefined;
  /**
   * A snapshot to answer from until the service's arrives: a path to a JSON file in the
   * protocol's shape (`curl $VEXIL_URL/sdk/v1/projects/<project>/snapshot > flags.json`)
   * or the object itself. Lets an application start with its flags when the service is down.
   */
  bootstrap?: string | ProjectSnapshot | undefined;
  /**
   * A file the client writes each snapshot it gets from the service to, and reads at
   * start (before `bootstrap`, which it replaces when present): restarts while the
   * service is down answer from the last flags seen.
   */
  cacheFile?: string | undefined;
  /** Never fetch flags: answer from `bootstrap` / `cacheFile` only (reports still go to `baseUrl` when it is set). */
  offline?: boolean | undefined;
  /** Report in-process evaluations to the service's evaluation log (default true), or how to. */
  reportEvaluations?: boolean | ReportOptions | undefined;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch | undefined;
}

export interface FeatureFlagClientEventMap {
  /** The client is in sync with the service for the first time. */
  ready: { version: string; source: SnapshotSource };
  /** Flags changed (names; a flag that exists as both types is named once). */
  change: { flagsChanged: string[]; version: string; source: SnapshotSource };
  /** Something went wrong; also in `lastError`. An evaluation problem is announced once per flag and snapshot. */
  error: VexilClientError;
  connected: { version: string | undefined };
  disconnected: { lastError: VexilClientError | undefined };
}

/**
 * OpenFeature's resolution reasons: nobody targeted (STATIC), control value (DEFAULT),
 * override list or rule (TARGETING_MATCH), percentage rollout or rule split (SPLIT), kill
 * switch (DISABLED), failure (ERROR).
 */
export type EvaluationReason = CoreEvaluationReason | 'ERROR';

/**
 * What a get evaluates for: an instance id (the context `{targetingKey: id}`, as
 * `/get-feature-flag` evaluates it), or a whole evaluation context whose attributes
 * targeting rules see (its `targetingKey` needed only by override lists and percentages).
 */
export type EvaluationTarget = string | EvaluationContext;

/** An evaluation with why it gave its value (what the OpenFeature provider answers). */
export interface FlagEvaluationDetails<T extends FlagValue> {
  /** The flag's value; the default on an error and where the revision gives no value (`null`). */
  value: T;
  reason: EvaluationReason;
  flagType: ValueFlagType;
  /** The rollout group (`control`, `treatment`, `override-2`, `rule-1`, `disabled`, …) when the flag was evaluated. */
  group?: string;
  /**
   * The value's name in the revision's `Variants`, where the revision names its values
   * (else the variant is the rollout group, `group`).
   */
  variant?: string;
  /** Where the revision gives no value (`null`): the caller's default was answered. */
  noValue?: boolean;
  /**
   * The revision's `Metadata` (owner, ticket, expiry, …; `{}` without), for a revision
   * that uses the flag model (`CompiledRevision.ownMetadata`); a runbook-format revision's
   * details are as before the flag model.
   */
  metadata?: Readonly<Record<string, string | number | boolean>>;
  /** The time of the revision evaluated (its WTIME), when the flag is known. */
  revision?: string;
  errorCode?: VexilClientErrorCode;
  errorMessage?: string;
}

/** Evaluation problems remembered (to announce each once); more are forgotten at once. */
const MAX_PROBLEMS = 1000;

/** The entries held, by flag type (segments included), each a map by name. */
type FlagMaps = Readonly<Record<FlagType, ReadonlyMap<string, FlagEntry>>>;

function emptyMaps(): Record<FlagType, Map<string, FlagEntry>> {
  const maps = {} as Record<FlagType, Map<string, FlagEntry>>;
  for (const type of FLAG_TYPES) maps[type] = new Map();
  return maps;
}

const NO_FLAGS: FlagMaps = emptyMaps();

/** The part of an evaluation target a get checks: a targeting key that is no usable id. */
function badTargetingKey(key: unknown): boolean {
  return key !== undefined && key !== null && key !== '' && !isInstanceId(key);
}

/**
 * Evaluates flags in process from a snapshot of the project's flags, kept current by
 * the service's change stream. Gets are synchronous and never throw: a flag that
 * cannot be answered gives the default, and the reason lands in `lastError` and an
 * `error` event. Create one per project and process, share it, and `close()` it at
 * shutdown.
 *
 * ```ts
 * const flags = new FeatureFlagClient({ projectName: 'csr-assistant', baseUrl: 'http://vexil:8080' });
 * await flags.ready(); // optional: true once in sync, false after readyTimeoutMs
 * if (flags.getFlagBoolean('multi_step_api_router', userId, false)) { … }
 * ```
 */
export class FeatureFlagClient extends ClientEvents<FeatureFlagClientEventMap> {
  readonly projectName: string;
  /** The most recent problem (kept after recovery; see `state` for the connection). */
  lastError: VexilClientError | undefined;

  private flags: FlagMaps = NO_FLAGS;
  /** The project's segments as rules look them up: the ones held now. */
  private readonly segments: SegmentLookup = (name) => this.flags.segment.get(name)?.segment;
  private held: { version: string; source: SnapshotSource } | undefined;
  private reporter: EvaluationReporter | undefined;
  private readonly sync: SnapshotSync | undefined;
  private currentState: ClientState = 'connecting';
  private synced = false;
  private readonly readyPromise: Promise<boolean>;
  private resolveReady: ((ready: boolean) => void) | undefined;
  private readonly readyTimer: NodeJS.Timeout | undefined;
  private readonly problems = new Map<string, VexilClientError>();
  /** The service's word that the project does not exist, until a snapshot of it arrives. */
  private missingProject: VexilClientError | undefined;
  private readonly announced = new WeakSet<VexilClientError>();
  private readonly cacheFile: string | undefined;
  private cacheDirty = false;
  private cacheWriting: Promise<void> | undefined;

  constructor(options: FeatureFlagClientOptions) {
    super();
    assertProjectName(options.projectName, 'projectName');
    this.projectName = options.projectName;
    this.cacheFile = options.cacheFile;
    const offline = options.offline === true;
    const baseUrl = serviceUrl(options.baseUrl);
    if (!offline && baseUrl === undefined) {
      throw new TypeError(
        `FeatureFlagClient needs the Vexil service: pass baseUrl (e.g. http://localhost:8080) or set ${SERVICE_URL_VARIABLE}; or pass offline: true with a bootstrap`,
      );
    }
    const fetchFn = options.fetch ?? globalThis.fetch;
    const headers = requestHeaders(options.headers, options.token);
    const timeoutMs = options.timeoutMs ?? 5000;

    // Flag data to start with: the cache file when there is one, else the bootstrap.
    const startup: VexilClientError[] = [];
    const loaded =
      (this.cacheFile !== undefined && this.loadFile(this.cacheFile, 'cache-file', startup)) ||
      (options.bootstrap !== undefined && this.loadBootstrap(options.bootstrap, startup));
    if (startup.length > 0) {
      // After the constructor, so listeners added right after it hear them.
      queueMicrotask(() => {
        for (const error of startup) this.announce(error);
      });
    }

    const report = options.reportEvaluations ?? true;
    if (report !== false && baseUrl !== undefined) {
      this.reporter = new EvaluationReporter(
        {
          url: `${baseUrl}/sdk/v1/evaluations`,
          project: this.projectName,
          headers,
          fetch: fetchFn,
          timeoutMs,
          onError: (error) => this.record(error),
        },
        report === true ? {} : report,
      );
    }

    this.readyPromise = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
    if (offline) {
      this.settleReady(loaded);
      this.currentState = 'disconnected';
      return;
    }
    this.readyTimer = setTimeout(() => this.settleReady(false), options.readyTimeoutMs ?? 5000);
    this.readyTimer.unref();
    this.sync = new SnapshotSync(
      {
        baseUrl: baseUrl as string,
        project: this.projectName,
        headers,
        fetch: fetchFn,
        // The stream is open for the client's life: on its own connection, which does not
        // keep the process alive, unless the caller brought a fetch of their own.
        streamFetch: options.fetch ?? backgroundFetch,
        timeoutMs,
        streaming: options.streaming ?? true,
        pollIntervalMs: options.pollIntervalMs ?? 30_000,
        reconnectDelayMs: options.reconnectDelayMs ?? 500,
        maxReconnectDelayMs: options.maxReconnectDelayMs ?? 30_000,
        // Three keep-alive intervals: one late keep-alive is not yet a lost stream.
        streamIdleTimeoutMs: options.streamIdleTimeoutMs ?? 3 * CHANGE_STREAM_KEEP_ALIVE_MS,
      },
      {
        version: () => this.held?.version,
        snapshot: (snapshot) => {
          if (this.applySnapshot(snapshot, 'service', 'snapshot')) this.inSync();
        },
        update: (update) => this.applyUpdate(update),
        current: () => {
          if (this.held !== undefined && this.held.source !== 'service') {
            // The flags held (from a bootstrap or cache file) are the service's current ones.
            this.held = { version: this.held.version, source: 'service' };
            this.writeCacheFile();
          }
          this.inSync();
        },
        error: (error) => {
          this.record(error);
          if (error.code === 'PROJECT_NOT_FOUND') {
            // Waiting out readyTimeoutMs would not help: say so at once. The client keeps
            // trying, and gets in sync if the project is created.
            this.missingProject = error;
            this.settleReady(false);
          }
        },
        disconnected: () => this.setState('disconnected'),
      },
    );
    this.sync.start();
  }

  // ------------------------------------------------------------ gets (the hot path)

  /**
   * The value of feature flag `flagName` for an instance id or an evaluation context,
   * evaluated in process; the default when the client has no such flag or data yet, or
   * the revision gives no value (never throws).
   */
  getFlagBoolean(flagName: string, target: EvaluationTarget, defaultValue: boolean): boolean {
    return this.get(this.flags.feature, 'feature', flagName, target, defaultValue) as boolean;
  }

  /** The value of data flag `flagName` (a string); see `getFlagBoolean`. */
  getFlagString(flagName: string, target: EvaluationTarget, defaultValue: string): string {
    return this.get(this.flags.data, 'data', flagName, target, defaultValue) as string;
  }

  /** The value of number flag `flagName`; see `getFlagBoolean`. */
  getFlagNumber(flagName: string, target: EvaluationTarget, defaultValue: number): number {
    return this.get(this.flags.number, 'number', flagName, target, defaultValue) as number;
  }

  /**
   * The value of json flag `flagName` (a JSON object or array, as stored: its shape is
   * the flag's, not checked against `T`); see `getFlagBoolean`.
   */
  getFlagJson<T extends JsonObject | JsonValue[]>(flagName: string, target: EvaluationTarget, defaultValue: T): T {
    return this.get(this.flags.json, 'json', flagName, target, defaultValue) as T;
  }

  /** Every get: a map lookup and the compiled revision, or the default with the reason recorded. */
  private get(
    flags: ReadonlyMap<string, FlagEntry>,
    flagType: ValueFlagType,
    flagName: string,
    target: EvaluationTarget,
    defaultValue: FlagValue,
  ): FlagValue {
    const entry = flags.get(flagName);
    if (entry !== undefined && entry.compiled !== undefined) {
      if (typeof target === 'string') {
        const length = target.length;
        if (length !== 0 && length <= MAX_INSTANCE_ID_LENGTH) {
          try {
            const result = entry.compiled.evaluate(target, undefined, this.segments);
            this.reporter?.add(entry, target, result);
            return result.value ?? defaultValue;
          } catch (error) {
            return this.failed(flagType, flagName, error, defaultValue);
          }
        }
      } else if (typeof target === 'object' && target !== null && !badTargetingKey(target.targetingKey)) {
        try {
          const result = entry.compiled.evaluateContext(target, this.segments);
          this.reporter?.add(entry, typeof target.targetingKey === 'string' ? target.targetingKey : '', result);
          return result.value ?? defaultValue;
        } catch (error) {
          return this.failed(flagType, flagName, error, defaultValue);
        }
      }
    }
    return this.miss(flagType, flagName, target, defaultValue);
  }

  /** `getFlagBoolean` with the reason, rollout group, variant, metadata and revision (or the error) of the answer. */
  getFlagBooleanDetails(
    flagName: string,
    target: EvaluationTarget,
    defaultValue: boolean,
  ): FlagEvaluationDetails<boolean> {
    return this.details('feature', flagName, target, defaultValue);
  }

  /** `getFlagString` with the reason, rollout group, variant, metadata and revision (or the error) of the answer. */
  getFlagStringDetails(
    flagName: string,
    target: EvaluationTarget,
    defaultValue: string,
  ): FlagEvaluationDetails<string> {
    return this.details('data', flagName, target, defaultValue);
  }

  /** `getFlagNumber` with the reason, rollout group, variant, metadata and revision (or the error) of the answer. */
  getFlagNumberDetails(
    flagName: string,
    target: EvaluationTarget,
    defaultValue: number,
  ): FlagEvaluationDetails<number> {
    return this.details('number', flagName, target, defaultValue);
  }

  /** `getFlagJson` with the reason, rollout group, variant, metadata and revision (or the error) of the answer. */
  getFlagJsonDetails<T extends JsonObject | JsonValue[]>(
    flagName: string,
    target: EvaluationTarget,
    defaultValue: T,
  ): FlagEvaluationDetails<T> {
    return this.details('json', flagName, target, defaultValue);
  }

  // ------------------------------------------------------------ state

  /**
   * Resolves true once the client is in sync with the service (offline: once a
   * bootstrap is loaded), or false when `readyTimeoutMs` passes first — the gets then
   * answer from the bootstrap or cache file if one was loaded, else the defaults, and
   * the client keeps trying. Never rejects; awaiting it is optional.
   */
  ready(): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    // Someone waits: hold the process open until it is answered (at most readyTimeoutMs),
    // or a script's `await flags.ready()` would end with nothing left to wait on.
    this.readyTimer?.ref();
    return this.readyPromise;
  }

  get state(): ClientState {
    return this.currentState;
  }

  /** The version of the snapshot in use (undefined: no flag data yet). */
  get version(): string | undefined {
    return this.held?.version;
  }

  /** Where the snapshot in use came from. */
  get source(): SnapshotSource | undefined {
    return this.held?.source;
  }

  /** Counts of the evaluation reports (undefined when reporting is off). */
  get reportStats(): ReportStats | undefined {
    return this.reporter?.stats;
  }

  /** The names of the flags held (of one type, or of every value type; `segment`: the segments). */
  flagNames(flagType?: FlagType): string[] {
    const names = new Set<string>();
    for (const type of flagType === undefined ? VALUE_FLAG_TYPES : [flagType]) {
      for (const name of this.flags[type].keys()) names.add(name);
    }
    return [...names];
  }

  /** The snapshot in use, in the protocol's shape (what a bootstrap file holds); undefined without flag data. */
  snapshot(): ProjectSnapshot | undefined {
    if (this.held === undefined) return undefined;
    const flags = sortSnapshotFlags(allEntries(this.flags)).map((entry) => entry.flag);
    return { project: this.projectName, version: this.held.version, flags };
  }

  /** Sends the evaluations waiting to be reported. */
  async flushReports(): Promise<void> {
    await this.reporter?.flush();
  }

  /**
   * Stops the stream, polling and timers, and sends the evaluations still queued. Gets
   * keep answering from the data held (no longer reported).
   */
  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    if (this.readyTimer !== undefined) clearTimeout(this.readyTimer);
    this.settleReady(false);
    const reporter = this.reporter;
    this.reporter = undefined;
    await this.sync?.close();
    await reporter?.close();
    await this.cacheWriting;
  }

  // ------------------------------------------------------------ evaluation helpers

  private details<T extends FlagValue>(
    flagType: ValueFlagType,
    flagName: string,
    target: EvaluationTarget,
    defaultValue: T,
  ): FlagEvaluationDetails<T> {
    let entry: FlagEntry | undefined;
    try {
      entry = this.flags[flagType].get(flagName);
      const compiled = entry?.compiled;
      if (entry !== undefined && compiled !== undefined) {
        let result: EvaluationDetails | undefined;
        let instanceId = '';
        if (typeof target === 'string') {
          if (isInstanceId(target)) {
            instanceId = target;
            result = compiled.evaluate(target, undefined, this.segments);
          }
        } else if (typeof target === 'object' && target !== null && !badTargetingKey(target.targetingKey)) {
          if (typeof target.targetingKey === 'string') instanceId = target.targetingKey;
          result = compiled.evaluateContext(target, this.segments);
        }
        if (result !== undefined) {
          this.reporter?.add(entry, instanceId, result);
          const details: FlagEvaluationDetails<T> = {
            value: result.value === null ? defaultValue : (result.value as T),
            reason: result.reason,
            flagType,
            group: result.group,
            revision: entry.wtime,
          };
          if (result.variant !== undefined && result.variant !== result.group) details.variant = result.variant;
          if (result.value === null) details.noValue = true;
          if (compiled.ownMetadata) details.metadata = compiled.metadata;
          return details;
        }
      }
      return this.errorDetails(flagType, this.problem(flagType, flagName, target), defaultValue, entry);
    } catch (error) {
      return this.errorDetails(flagType, this.unexpected(flagName, error), defaultValue, entry);
    }
  }

  private errorDetails<T extends FlagValue>(
    flagType: ValueFlagType,
    error: VexilClientError,
    defaultValue: T,
    entry: FlagEntry | undefined,
  ): FlagEvaluationDetails<T> {
    this.record(error);
    const details: FlagEvaluationDetails<T> = {
      value: defaultValue,
      reason: 'ERROR',
      flagType,
      errorCode: error.code,
      errorMessage: error.message,
    };
    if (entry !== undefined) details.revision = entry.wtime;
    return details;
  }

  private miss<T>(flagType: ValueFlagType, flagName: string, target: unknown, defaultValue: T): T {
    try {
      this.record(this.problem(flagType, flagName, target));
    } catch {
      // Recording must not make a get throw.
    }
    return defaultValue;
  }

  private failed<T>(_flagType: ValueFlagType, flagName: string, error: unknown, defaultValue: T): T {
    try {
      this.record(this.unexpected(flagName, error));
    } catch {
      // Recording must not make a get throw.
    }
    return defaultValue;
  }

  private unexpected(flagName: string, error: unknown): VexilClientError {
    if (error instanceof TargetingKeyMissingError) return this.keyMissing(flagName);
    return new VexilClientError(
      'PARSE_ERROR',
      `flag ${flagName} could not be evaluated: ${error instanceof Error ? error.message : String(error)}`,
      { operation: 'evaluate', flagName, cause: error },
    );
  }

  /** Why a flag cannot be answered; one error object per flag and cause until the flags change. */
  private problem(flagType: ValueFlagType, flagName: unknown, target: unknown): VexilClientError {
    const name = typeof flagName === 'string' ? flagName : formatValue(flagName);
    const own = typeof flagName === 'string' ? this.flags[flagType].get(flagName) : undefined;
    if (own?.problem !== undefined) return own.problem;
    let code: VexilClientErrorCode;
    let message: string;
    let cause = '';
    const isContext = typeof target === 'object' && target !== null;
    const instanceId = isContext ? (target as EvaluationContext).targetingKey : target;
    if (isContext ? badTargetingKey(instanceId) : !isInstanceId(instanceId)) {
      code = 'INVALID_ARGUMENT';
      cause = typeof instanceId !== 'string' ? typeof instanceId : instanceId === '' ? 'empty' : 'long';
      const what = isContext ? "the context's targetingKey" : 'instance id';
      message = `${what} for flag ${name} must be a string of 1 to ${MAX_INSTANCE_ID_LENGTH} characters, got ${
        typeof instanceId !== 'string'
          ? formatValue(instanceId)
          : instanceId === ''
            ? 'an empty string'
            : `${instanceId.length} characters`
      }`;
    } else if (this.held === undefined && this.missingProject !== undefined) {
      return this.missingProject;
    } else if (this.held === undefined) {
      code = 'NOT_READY';
      message = `no flag data for project ${this.projectName} yet (the service has not answered, and there is no bootstrap): flag ${name} answers its default`;
    } else if (typeof flagName === 'string' && this.otherType(flagType, flagName) !== undefined) {
      code = 'TYPE_MISMATCH';
      message = typeMismatchMessage(name, flagType, this.otherType(flagType, flagName)!);
    } else {
      code = 'FLAG_NOT_FOUND';
      message =
        typeof flagName === 'string' && this.flags.segment.has(flagName)
          ? `${name} in project ${this.projectName} is a segment, not a flag: segments are used by flags' rules, not evaluated`
          : `no ${flagType} flag ${name} with a revision in project ${this.projectName}`;
    }
    return this.problemError(`${flagType}\0${code}\0${cause}\0${name}`, code, message, name);
  }

  /** One error object per key until the flags change, so each problem is announced once. */
  private problemError(key: string, code: VexilClientErrorCode, message: string, flagName: string): VexilClientError {
    let error = this.problems.get(key);
    if (error === undefined) {
      if (this.problems.size >= MAX_PROBLEMS) this.problems.clear();
      error = new VexilClientError(code, message, { operation: 'evaluate', flagName });
      this.problems.set(key, error);
    }
    return error;
  }

  /** A flag that needs a targeting key (a percentage decides) was asked for with a context without one. */
  private keyMissing(flagName: string): VexilClientError {
    return this.problemError(
      `\0TARGETING_KEY_MISSING\0\0${flagName}`,
      'TARGETING_KEY_MISSING',
      `flag ${flagName} needs the context's targetingKey: a percentage (its rollout or a rule's split) decides for such a context; it answers the default`,
      flagName,
    );
  }

  /** The value type the flag has when it is not `flagType`, if the client holds it. */
  private otherType(flagType: ValueFlagType, flagName: string): ValueFlagType | undefined {
    return VALUE_FLAG_TYPES.find((type) => type !== flagType && this.flags[type].has(flagName));
  }

  /** Sets `lastError` and announces the error once. */
  private record(error: VexilClientError): void {
    this.lastError = error;
    this.announce(error);
  }

  private announce(error: VexilClientError): void {
    if (this.announced.has(error)) return;
    this.announced.add(error);
    this.emit('error', error);
  }

  // ------------------------------------------------------------ snapshot handling

  private loadBootstrap(bootstrap: string | ProjectSnapshot, errors: VexilClientError[]): boolean {
    if (typeof bootstrap === 'string') return this.loadFile(bootstrap, 'bootstrap', errors);
    return this.loadValue(bootstrap, 'bootstrap', 'the bootstrap snapshot', errors);
  }

  private loadFile(path: string, source: 'bootstrap' | 'cache-file', errors: VexilClientError[]): boolean {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      // A cache file that does not exist yet is the normal first start.
      if (source === 'cache-file' && (error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      errors.push(this.fileError(source, `${source} ${path} cannot be read`, error));
      return false;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      errors.push(this.fileError(source, `${source} ${path} is not JSON`, error));
      return false;
    }
    return this.loadValue(value, source, `${source} ${path}`, errors);
  }

  private loadValue(
    value: unknown,
    source: 'bootstrap' | 'cache-file',
    what: string,
    errors: VexilClientError[],
  ): boolean {
    let snapshot: ProjectSnapshot;
    try {
      snapshot = parseProjectSnapshot(value);
    } catch (error) {
      errors.push(this.fileError(source, `${what} is not a project snapshot`, error));
      return false;
    }
    return this.applySnapshot(snapshot, source, source, errors);
  }

  private fileError(source: 'bootstrap' | 'cache-file', what: string, error: unknown): VexilClientError {
    const error_ = new VexilClientError(
      'PARSE_ERROR',
      `${what}: ${error instanceof Error ? error.message : String(error)}`,
      { operation: source, cause: error },
    );
    this.lastError = error_;
    return error_;
  }

  /** Replaces the flags with a snapshot's; false when it is for another project. */
  private applySnapshot(
    snapshot: ProjectSnapshot,
    source: SnapshotSource,
    operation: 'snapshot' | 'bootstrap' | 'cache-file',
    startupErrors?: VexilClientError[],
  ): boolean {
    if (snapshot.project !== this.projectName) {
      const error = new VexilClientError(
        'PARSE_ERROR',
        `the ${operation} is for project ${snapshot.project}, not ${this.projectName}: ignored`,
        { operation },
      );
      if (startupErrors !== undefined) {
        this.lastError = error;
        startupErrors.push(error);
      } else this.record(error);
      return false;
    }
    const maps = emptyMaps();
    const changed = new Set<string>();
    const changedSegments = new Set<string>();
    for (const flag of snapshot.flags) {
      const map = maps[flag.flagType];
      const old = this.flags[flag.flagType].get(flag.name);
      // A revision never changes once written: an entry with the same time is the same flag.
      if (old !== undefined && old.wtime === flag.wtime) map.set(flag.name, old);
      else {
        map.set(flag.name, compileEntry(snapshotFlagOf(flag)));
        (flag.flagType === 'segment' ? changedSegments : changed).add(flag.name);
      }
    }
    for (const type of FLAG_TYPES) {
      for (const name of this.flags[type].keys()) {
        if (!maps[type].has(name)) (type === 'segment' ? changedSegments : changed).add(name);
      }
    }
    for (const name of usersOf(maps, changedSegments)) changed.add(name);
    const first = this.held === undefined;
    const fromElsewhere = first || this.held?.source !== 'service';
    const differs = changed.size > 0 || changedSegments.size > 0;
    this.flags = maps;
    const version = snapshotVersion(sortSnapshotFlags(allEntries(maps)));
    this.held = { version, source };
    if (differs) this.problems.clear();
    if (!first && changed.size > 0) this.emit('change', { flagsChanged: [...changed], version, source });
    if (source === 'service' && (fromElsewhere || differs)) this.writeCacheFile();
    return true;
  }

  /** Applies a change event; false when the result's version is not the update's (a change was missed). */
  private applyUpdate(update: FlagUpdate): boolean {
    if (update.project !== this.projectName) return false;
    if (this.flags === NO_FLAGS) this.flags = emptyMaps();
    const map = this.flags[update.flagType] as Map<string, FlagEntry>;
    const old = map.get(update.name);
    const changed = old === undefined || update.wtime > old.wtime;
    if (changed) map.set(update.name, compileEntry(snapshotFlagOf(update)));
    const version = snapshotVersion(sortSnapshotFlags(allEntries(this.flags)));
    this.held = { version, source: 'service' };
    if (changed) {
      this.problems.clear();
      // A segment is no flag: the flags whose rules name it are what changed.
      const flagsChanged =
        update.flagType === 'segment' ? [...usersOf(this.flags, new Set([update.name]))] : [update.name];
      if (flagsChanged.length > 0) this.emit('change', { flagsChanged, version, source: 'service' });
      this.writeCacheFile();
    }
    return version === update.version;
  }

  private inSync(): void {
    this.missingProject = undefined;
    this.setState('connected');
    if (this.synced || this.held === undefined) return;
    this.synced = true;
    this.settleReady(true);
    this.emit('ready', { version: this.held.version, source: this.held.source });
  }

  private settleReady(ready: boolean): void {
    if (this.readyTimer !== undefined) clearTimeout(this.readyTimer);
    const resolve = this.resolveReady;
    this.resolveReady = undefined;
    resolve?.(ready);
  }

  private setState(state: 'connected' | 'disconnected'): void {
    if (this.currentState === state || this.currentState === 'closed') return;
    this.currentState = state;
    if (state === 'connected') this.emit('connected', { version: this.held?.version });
    else this.emit('disconnected', { lastError: this.lastError });
  }

  /** Writes the snapshot to the cache file (atomically: a temporary file renamed), one write at a time. */
  private writeCacheFile(): void {
    const file = this.cacheFile;
    if (file === undefined) return;
    this.cacheDirty = true;
    this.cacheWriting ??= (async () => {
      while (this.cacheDirty) {
        this.cacheDirty = false;
        const snapshot = this.snapshot();
        if (snapshot === undefined) continue;
        const temporary = `${file}.${process.pid}.tmp`;
        try {
          await writeFile(temporary, JSON.stringify(snapshot));
          await rename(temporary, file);
        } catch (error) {
          this.record(
            new VexilClientError(
              'IO_ERROR',
              `cache file ${file} cannot be written: ${error instanceof Error ? error.message : String(error)}`,
              { operation: 'cache-file', cause: error },
            ),
          );
        }
      }
    })().finally(() => {
      this.cacheWriting = undefined;
    });
  }
}

/** Every entry held, segments included (in no particular order). */
function allEntries(maps: FlagMaps): FlagEntry[] {
  const entries: FlagEntry[] = [];
  for (const type of FLAG_TYPES) for (const entry of maps[type].values()) entries.push(entry);
  return entries;
}

/** The names of the flags whose rules name one of `segments`. */
function usersOf(maps: FlagMaps, segments: ReadonlySet<string>): Set<string> {
  const users = new Set<string>();
  if (segments.size === 0) return users;
  for (const type of VALUE_FLAG_TYPES) {
    for (const entry of maps[type].values()) {
      if (entry.compiled?.segmentNames.some((name) => segments.has(name))) users.add(entry.name);
    }
  }
  return users;
}
