import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import {
  assertProjectName,
  CHANGE_STREAM_KEEP_ALIVE_MS,
  type FlagType,
  type FlagUpdate,
  type FlagValue,
  formatValue,
  isInstanceId,
  MAX_INSTANCE_ID_LENGTH,
  type OfrepReason,
  ofrepReason,
  type ProjectSnapshot,
  parseProjectSnapshot,
  snapshotFlagOf,
  snapshotVersion,
  sortSnapshotFlags,
} from '@vexil/core';
import { backgroundFetch } from './background-fetch.js';
import { typeMismatchMessage, VexilClientError, type VexilClientErrorCode } from './client-errors.js';
import { ClientEvents } from './client-events.js';
import { EvaluationReporter, type ReportOptions, type ReportStats } from './evaluation-reporter.js';
import { compileEntry, type FlagEntry } from './flag-entry.js';
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

/** OpenFeature's resolution reasons: override list, percentage rollout, control value, nobody targeted, failure. */
export type EvaluationReason = OfrepReason | 'ERROR';

/** An evaluation with why it gave its value (what the OpenFeature provider answers). */
export interface FlagEvaluationDetails<T extends boolean | string> {
  value: T;
  reason: EvaluationReason;
  flagType: FlagType;
  /** The rollout group (`control`, `treatment`, `override-2`, …) when the flag was evaluated. */
  group?: string;
  /** The time of the revision evaluated (its WTIME), when the flag is known. */
  revision?: string;
  errorCode?: VexilClientErrorCode;
  errorMessage?: string;
}

/** Evaluation problems remembered (to announce each once); more are forgotten at once. */
const MAX_PROBLEMS = 1000;

const NO_FLAGS: ReadonlyMap<string, FlagEntry> = new Map();

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

  private features: ReadonlyMap<string, FlagEntry> = NO_FLAGS;
  private data: ReadonlyMap<string, FlagEntry> = NO_FLAGS;
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
    const baseUrl = options.baseUrl ?? process.env.VEXIL_URL;
    if (!offline && (baseUrl === undefined || baseUrl === '')) {
      throw new TypeError(
        'FeatureFlagClient needs the Vexil service: pass baseUrl (e.g. http://localhost:8080) or set VEXIL_URL; or pass offline: true with a bootstrap',
      );
    }
    const fetchFn = options.fetch ?? globalThis.fetch;
    const headers = options.headers ?? {};
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
    if (report !== false && baseUrl !== undefined && baseUrl !== '') {
      this.reporter = new EvaluationReporter(
        {
          url: `${baseUrl.replace(/\/+$/, '')}/sdk/v1/evaluations`,
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
   * The value of feature flag `flagName` for `instanceId`, evaluated in process; the
   * default when the client has no such flag or data yet (never throws).
   */
  getFlagBoolean(flagName: string, instanceId: string, defaultValue: boolean): boolean {
    return this.get(this.features, 'feature', flagName, instanceId, defaultValue) as boolean;
  }

  /**
   * The value of data flag `flagName` for `instanceId`, evaluated in process; the
   * default when the client has no such flag or data yet (never throws).
   */
  getFlagString(flagName: string, instanceId: string, defaultValue: string): string {
    return this.get(this.data, 'data', flagName, instanceId, defaultValue) as string;
  }

  /** Both gets: a map lookup and the compiled revision, or the default with the reason recorded. */
  private get(
    flags: ReadonlyMap<string, FlagEntry>,
    flagType: FlagType,
    flagName: string,
    instanceId: string,
    defaultValue: FlagValue,
  ): FlagValue {
    const entry = flags.get(flagName);
    if (entry !== undefined && entry.compiled !== undefined && typeof instanceId === 'string') {
      const length = instanceId.length;
      if (length !== 0 && length <= MAX_INSTANCE_ID_LENGTH) {
        try {
          const result = entry.compiled.evaluate(instanceId);
          this.reporter?.add(entry, instanceId, result);
          // null: the revision gives no value, so the caller's default (docs/flag-model.md).
          return result.value ?? defaultValue;
        } catch (error) {
          return this.failed(flagType, flagName, error, defaultValue);
        }
      }
    }
    return this.miss(flagType, flagName, instanceId, defaultValue);
  }

  /** `getFlagBoolean` with the reason, rollout group and revision (or the error) of the answer. */
  getFlagBooleanDetails(flagName: string, instanceId: string, defaultValue: boolean): FlagEvaluationDetails<boolean> {
    return this.details('feature', flagName, instanceId, defaultValue);
  }

  /** `getFlagString` with the reason, rollout group and revision (or the error) of the answer. */
  getFlagStringDetails(flagName: string, instanceId: string, defaultValue: string): FlagEvaluationDetails<string> {
    return this.details('data', flagName, instanceId, defaultValue);
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

  /** The names of the flags held (of one type, or all). */
  flagNames(flagType?: FlagType): string[] {
    const names = new Set<string>();
    if (flagType !== 'data') for (const name of this.features.keys()) names.add(name);
    if (flagType !== 'feature') for (const name of this.data.keys()) names.add(name);
    return [...names];
  }

  /** The snapshot in use, in the protocol's shape (what a bootstrap file holds); undefined without flag data. */
  snapshot(): ProjectSnapshot | undefined {
    if (this.held === undefined) return undefined;
    const flags = sortSnapshotFlags([...this.features.values(), ...this.data.values()]).map((entry) => entry.flag);
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

  private details<T extends boolean | string>(
    flagType: FlagType,
    flagName: string,
    instanceId: string,
    defaultValue: T,
  ): FlagEvaluationDetails<T> {
    let entry: FlagEntry | undefined;
    try {
      entry = (flagType === 'feature' ? this.features : this.data).get(flagName);
      if (entry?.compiled !== undefined && isInstanceId(instanceId)) {
        const result = entry.compiled.evaluate(instanceId);
        this.reporter?.add(entry, instanceId, result);
        return {
          value: result.value as T,
          reason: ofrepReason(result.group, entry.isStatic),
          flagType,
          group: result.group,
          revision: entry.wtime,
        };
      }
      return this.errorDetails(flagType, this.problem(flagType, flagName, instanceId), defaultValue, entry);
    } catch (error) {
      return this.errorDetails(flagType, this.unexpected(flagName, error), defaultValue, entry);
    }
  }

  private errorDetails<T extends boolean | string>(
    flagType: FlagType,
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

  private miss<T>(flagType: FlagType, flagName: string, instanceId: unknown, defaultValue: T): T {
    try {
      this.record(this.problem(flagType, flagName, instanceId));
    } catch {
      // Recording must not make a get throw.
    }
    return defaultValue;
  }

  private failed<T>(_flagType: FlagType, flagName: string, error: unknown, defaultValue: T): T {
    try {
      this.record(this.unexpected(flagName, error));
    } catch {
      // Recording must not make a get throw.
    }
    return defaultValue;
  }

  private unexpected(flagName: string, error: unknown): VexilClientError {
    return new VexilClientError(
      'PARSE_ERROR',
      `flag ${flagName} could not be evaluated: ${error instanceof Error ? error.message : String(error)}`,
      { operation: 'evaluate', flagName, cause: error },
    );
  }

  /** Why a flag cannot be answered; one error object per flag and cause until the flags change. */
  private problem(flagType: FlagType, flagName: unknown, instanceId: unknown): VexilClientError {
    const name = typeof flagName === 'string' ? flagName : formatValue(flagName);
    const own =
      typeof flagName === 'string' ? (flagType === 'feature' ? this.features : this.data).get(flagName) : undefined;
    if (own?.problem !== undefined) return own.problem;
    let code: VexilClientErrorCode;
    let message: string;
    let cause = '';
    if (!isInstanceId(instanceId)) {
      code = 'INVALID_ARGUMENT';
      cause = typeof instanceId !== 'string' ? typeof instanceId : instanceId === '' ? 'empty' : 'long';
      message = `instance id for flag ${name} must be a string of 1 to ${MAX_INSTANCE_ID_LENGTH} characters, got ${
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
    } else if (typeof flagName === 'string' && (flagType === 'feature' ? this.data : this.features).has(flagName)) {
      code = 'TYPE_MISMATCH';
      message = typeMismatchMessage(name, flagType);
    } else {
      code = 'FLAG_NOT_FOUND';
      message = `no ${flagType} flag ${name} with a revision in project ${this.projectName}`;
    }
    const key = `${flagType}\0${code}\0${cause}\0${name}`;
    let error = this.problems.get(key);
    if (error === undefined) {
      if (this.problems.size >= MAX_PROBLEMS) this.problems.clear();
      error = new VexilClientError(code, message, { operation: 'evaluate', flagName: name });
      this.problems.set(key, error);
    }
    return error;
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
    const features = new Map<string, FlagEntry>();
    const data = new Map<string, FlagEntry>();
    const changed = new Set<string>();
    for (const flag of snapshot.flags) {
      const [map, old] =
        flag.flagType === 'feature' ? [features, this.features.get(flag.name)] : [data, this.data.get(flag.name)];
      // A revision never changes once written: an entry with the same time is the same flag.
      if (old !== undefined && old.wtime === flag.wtime) map.set(flag.name, old);
      else {
        map.set(flag.name, compileEntry(snapshotFlagOf(flag)));
        changed.add(flag.name);
      }
    }
    for (const name of this.features.keys()) if (!features.has(name)) changed.add(name);
    for (const name of this.data.keys()) if (!data.has(name)) changed.add(name);
    const first = this.held === undefined;
    const fromElsewhere = first || this.held?.source !== 'service';
    this.features = features;
    this.data = data;
    const version = snapshotVersion(sortSnapshotFlags([...features.values(), ...data.values()]));
    this.held = { version, source };
    if (changed.size > 0) this.problems.clear();
    if (!first && changed.size > 0) this.emit('change', { flagsChanged: [...changed], version, source });
    if (source === 'service' && (fromElsewhere || changed.size > 0)) this.writeCacheFile();
    return true;
  }

  /** Applies a change event; false when the result's version is not the update's (a change was missed). */
  private applyUpdate(update: FlagUpdate): boolean {
    if (update.project !== this.projectName) return false;
    const features =
      this.features === NO_FLAGS ? new Map<string, FlagEntry>() : (this.features as Map<string, FlagEntry>);
    const data = this.data === NO_FLAGS ? new Map<string, FlagEntry>() : (this.data as Map<string, FlagEntry>);
    const map = update.flagType === 'feature' ? features : data;
    const old = map.get(update.name);
    const changed = old === undefined || update.wtime > old.wtime;
    if (changed) map.set(update.name, compileEntry(snapshotFlagOf(update)));
    this.features = features;
    this.data = data;
    const version = snapshotVersion(sortSnapshotFlags([...features.values(), ...data.values()]));
    this.held = { version, source: 'service' };
    if (changed) {
      this.problems.clear();
      this.emit('change', { flagsChanged: [update.name], version, source: 'service' });
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
