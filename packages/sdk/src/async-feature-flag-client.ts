import {
  assertProjectName,
  FLAG_TYPE_VALUES,
  type FlagValue,
  formatValue,
  isInstanceId,
  isValueOfType,
  type JsonObject,
  type JsonValue,
  MAX_INSTANCE_ID_LENGTH,
  type ResultValue,
  type ValueFlagType,
} from '@vexil/core';
import { requestError, statusError, VexilClientError } from './client-errors.js';
import { ClientEvents } from './client-events.js';
import { requestHeaders } from './request-headers.js';
import { SERVICE_URL_VARIABLE, serviceUrl } from './service-url.js';
import { TtlCache } from './ttl-cache.js';

export interface AsyncFeatureFlagClientOptions {
  /** The project of the flags, e.g. `csr-assistant`. */
  projectName: string;
  /** The Vexil service, e.g. `http://localhost:8080`. Default: the `VEXIL_URL` environment variable. */
  baseUrl?: string | undefined;
  /** Sent with every request (e.g. an `authorization` header). */
  headers?: Readonly<Record<string, string>> | undefined;
  /** An API token, sent as `Authorization: Bearer …`: needed where the project's evaluation is not public. */
  token?: string | undefined;
  /** A get whose request has not answered within this gives the last known value or the default. Default 5000 ms. */
  timeoutMs?: number | undefined;
  /** Values kept in memory, at most (least recently used go first). Default 100; 0 turns the cache off. */
  cacheSize?: number | undefined;
  /** How long a value is served from memory before it is asked for again. Default 300,000 ms (300 s). */
  cacheTtlMs?: number | undefined;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch | undefined;
}

export interface AsyncFeatureFlagClientEventMap {
  /** A request failed or its answer could not be used; also in `lastError`. */
  error: VexilClientError;
}

/** A request's outcome: the value (`null`: the revision gives none, the caller's default), or why not. */
type Outcome = { value: ResultValue } | { error: VexilClientError; authoritative: boolean };

/**
 * The runbook system's `AsyncFeatureFlagClient`: each get asks the service's
 * `/get-feature-flag` (which evaluates and logs it), with an in-memory TTL cache (100
 * values, 300 s) and a 5 s timeout by default. Identical gets in flight share one
 * request. Gets never reject: when the service is down, slow or answers a server
 * error, they give the last known value for that flag and id if there is one, else
 * the default; when it answers that the flag does not exist or the request is wrong
 * (404, 400), the default. Either way the reason is in `lastError` and an `error` event.
 */
export class AsyncFeatureFlagClient extends ClientEvents<AsyncFeatureFlagClientEventMap> {
  readonly projectName: string;
  /** The most recent problem (kept after recovery). */
  lastError: VexilClientError | undefined;

  private readonly url: string;
  private readonly baseUrl: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly cache: TtlCache<ResultValue>;
  private readonly inflight = new Map<string, Promise<Outcome>>();
  private readonly closing = new AbortController();
  private readonly announced = new WeakSet<VexilClientError>();
  private closed = false;

  constructor(options: AsyncFeatureFlagClientOptions) {
    super();
    assertProjectName(options.projectName, 'projectName');
    this.projectName = options.projectName;
    const baseUrl = serviceUrl(options.baseUrl);
    if (baseUrl === undefined) {
      throw new TypeError(
        `AsyncFeatureFlagClient needs the Vexil service: pass baseUrl (e.g. http://localhost:8080) or set ${SERVICE_URL_VARIABLE}`,
      );
    }
    this.baseUrl = baseUrl;
    this.url = `${this.baseUrl}/get-feature-flag`;
    this.headers = requestHeaders(options.headers, options.token);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.cache = new TtlCache(options.cacheSize ?? 100, options.cacheTtlMs ?? 300_000);
  }

  /** The value of feature flag `flagName` for `instanceId` (never rejects; see the class). */
  getFlagBoolean(flagName: string, instanceId: string, defaultValue: boolean): Promise<boolean> {
    return this.get('feature', flagName, instanceId, defaultValue);
  }

  /** The value of data flag `flagName` for `instanceId` (never rejects; see the class). */
  getFlagString(flagName: string, instanceId: string, defaultValue: string): Promise<string> {
    return this.get('data', flagName, instanceId, defaultValue);
  }

  /** The value of number flag `flagName` for `instanceId` (never rejects; see the class). */
  getFlagNumber(flagName: string, instanceId: string, defaultValue: number): Promise<number> {
    return this.get('number', flagName, instanceId, defaultValue);
  }

  /**
   * The value of json flag `flagName` for `instanceId`: a JSON object or array, as
   * stored (its shape is the flag's, not checked against `T`; never rejects).
   */
  getFlagJson<T extends JsonObject | JsonValue[]>(flagName: string, instanceId: string, defaultValue: T): Promise<T> {
    return this.get('json', flagName, instanceId, defaultValue);
  }

  /** Values in the cache (fresh or kept for failures). */
  get cacheSize(): number {
    return this.cache.size;
  }

  clearCache(): void {
    this.cache.clear();
  }

  /** Aborts the requests in flight (their gets give the default) and empties the cache. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    await Promise.allSettled([...this.inflight.values()]);
    this.cache.clear();
  }

  /** A value the service answered, or the default where it gave none (`null`). */
  private async get<T extends FlagValue>(
    flagType: ValueFlagType,
    flagName: string,
    instanceId: string,
    defaultValue: T,
  ): Promise<T> {
    try {
      if (this.closed) {
        this.record(
          new VexilClientError('CLOSED', 'the client is closed', { operation: 'get-feature-flag', flagName }),
        );
        return defaultValue;
      }
      if (typeof flagName !== 'string' || flagName === '') {
        this.record(
          new VexilClientError('INVALID_ARGUMENT', `flag name must be a string, got ${formatValue(flagName)}`, {
            operation: 'get-feature-flag',
          }),
        );
        return defaultValue;
      }
      if (!isInstanceId(instanceId)) {
        this.record(
          new VexilClientError(
            'INVALID_ARGUMENT',
            `instance id for flag ${flagName} must be a string of 1 to ${MAX_INSTANCE_ID_LENGTH} characters, got ${formatValue(instanceId)}`,
            { operation: 'get-feature-flag', flagName },
          ),
        );
        return defaultValue;
      }
      const key = `${flagType}\n${flagName}\n${instanceId}`;
      const cached = this.cache.get(key);
      if (cached?.fresh === true && usable(cached.value, defaultValue)) return (cached.value ?? defaultValue) as T;
      let pending = this.inflight.get(key);
      if (pending === undefined) {
        pending = this.request(key, flagType, flagName, instanceId).finally(() => this.inflight.delete(key));
        this.inflight.set(key, pending);
      }
      const outcome = await pending;
      if ('value' in outcome) return (outcome.value ?? defaultValue) as T;
      this.record(outcome.error);
      if (!outcome.authoritative && cached !== undefined && usable(cached.value, defaultValue)) {
        return (cached.value ?? defaultValue) as T;
      }
      return defaultValue;
    } catch {
      return defaultValue;
    }
  }

  private async request(key: string, flagType: ValueFlagType, flagName: string, instanceId: string): Promise<Outcome> {
    const what = `${flagType} flag ${flagName} of project ${this.projectName}`;
    const query = new URLSearchParams({
      project_name: this.projectName,
      instance_id: instanceId,
      flag_type: flagType,
      flag_name: flagName,
    });
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.closing.signal]);
      const response = await this.fetchFn(`${this.url}?${query}`, {
        headers: { accept: 'application/json', ...this.headers },
        signal,
      });
      if (!response.ok) {
        const error = await statusError(response, 'get-feature-flag', what, flagName, {
          project: this.projectName,
          baseUrl: this.baseUrl,
          flagType,
        });
        // 4xx: the service's word on this flag (it does not exist, the request is wrong); 5xx: a failure.
        const authoritative =
          response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
        if (authoritative) this.cache.delete(key);
        return { error, authoritative };
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch (error) {
        if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) throw error;
        return { error: this.unreadable(what, flagName, error), authoritative: false };
      }
      const value = (body as { flag_value?: unknown } | null)?.flag_value;
      if (value !== null && !isValueOfType(value, flagType)) {
        return {
          error: this.unreadable(
            what,
            flagName,
            `flag_value is ${formatValue(value)}, but a ${flagType} flag holds ${FLAG_TYPE_VALUES[flagType]}`,
          ),
          authoritative: false,
        };
      }
      this.cache.set(key, value);
      return { value };
    } catch (error) {
      if (this.closed) {
        return {
          error: new VexilClientError('CLOSED', `${what}: the client was closed`, {
            operation: 'get-feature-flag',
            flagName,
          }),
          authoritative: false,
        };
      }
      return { error: requestError(error, 'get-feature-flag', what, this.timeoutMs, flagName), authoritative: false };
    }
  }

  private unreadable(what: string, flagName: string, cause: unknown): VexilClientError {
    return new VexilClientError(
      'PARSE_ERROR',
      `${what}: the answer cannot be read (${cause instanceof Error ? cause.message : String(cause)})`,
      { operation: 'get-feature-flag', flagName, cause },
    );
  }

  /** Sets `lastError`; announces each error once (gets that shared a request share its error). */
  private record(error: VexilClientError): void {
    this.lastError = error;
    if (this.announced.has(error)) return;
    this.announced.add(error);
    this.emit('error', error);
  }
}

/** Whether a cached value answers a get with this default: no value (`null`), or one of the default's kind. */
function usable(value: ResultValue, defaultValue: unknown): boolean {
  return value === null || typeof value === typeof defaultValue;
}
