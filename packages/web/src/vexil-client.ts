import type { EvaluationContext, FlagValue } from '@vexil/core';
import { ChangeStream } from './change-stream.js';
import { ClientEvents } from './client-events.js';
import type { Evaluation, EvaluationFactory, StreamEvent } from './evaluation.js';
import { type FlagAnswers, type FlagDetails, type JsonFlagValue, readAnswer, sameAnswer } from './flag-answers.js';
import { ofrepEvaluation } from './ofrep-evaluation.js';
import { messageOf, type Transport } from './transport.js';
import { VexilWebError } from './web-error.js';

export interface VexilClientOptions {
  /** The Vexil service, e.g. `https://flags.example.com` (it must allow this page's origin: VEXIL_CORS_ORIGINS). */
  baseUrl: string;
  /** The project whose flags the client reads. */
  project: string;
  /**
   * A read token for the project (`vexil token create --scope read -p PROJECT`), sent as
   * `Authorization: Bearer …`; needed unless the project's evaluation is public. Shipped
   * to a browser it is public: see docs/in-the-browser.md.
   */
  token?: string | undefined;
  /** Who the flags are evaluated for: `targetingKey` (the id rollouts hash) and the attributes rules see. */
  context?: EvaluationContext | undefined;
  /** Where answers come from: `ofrepEvaluation` (the default) or `localEvaluation` from `@vexil/web/local`. */
  evaluation?: EvaluationFactory | undefined;
  /** Follow the change stream (true, the default) or only poll (false). */
  streaming?: boolean | undefined;
  /** How often answers are polled while the stream is down, or always without streaming. Default 30,000 ms; 0: never. */
  pollIntervalMs?: number | undefined;
  /** Each request must answer within this. Default 5000 ms. */
  timeoutMs?: number | undefined;
  /** `ready()` resolves false when no answers arrived by then. Default 5000 ms. */
  readyTimeoutMs?: number | undefined;
  /** The first reconnect delay of the stream, doubling per failure (with jitter) up to `maxReconnectDelayMs`. Default 500 ms. */
  reconnectDelayMs?: number | undefined;
  /** Default 30,000 ms. */
  maxReconnectDelayMs?: number | undefined;
  /** Sent with every request. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch | undefined;
}

/** `connecting`: no answers yet; `connected`: in touch with the service; `stale`: it was lost, answers are the last known; `closed`. */
export type VexilClientState = 'connecting' | 'connected' | 'stale' | 'closed';

export interface VexilClientEvents {
  /** The first answers arrived. */
  ready: { flags: string[] };
  /** Answers changed (a flag's change, or a new context): the keys whose answer differs. */
  change: { flagsChanged: string[] };
  /** Something went wrong (also in `lastError`); the client carries on by itself. */
  error: VexilWebError;
  /** The service was lost: answers are the last known. */
  stale: { lastError: VexilWebError | undefined };
  /** In touch with the service again after `stale`. */
  connected: Record<string, never>;
}

/**
 * Reads a project's flags in the browser for one evaluation context (the user of the
 * page): answers from the service's bulk OFREP evaluation, or evaluated in the browser
 * from the project snapshot with `@vexil/core` (`evaluation: localEvaluation` from
 * `@vexil/web/local`), kept current by the change stream. Gets are synchronous and
 * never throw: until the answers arrive, and for a flag that cannot be answered, they
 * give the default (`getFlagDetails` says why).
 */
export class VexilClient extends ClientEvents<VexilClientEvents> {
  readonly project: string;
  /** The most recent problem (kept after recovery; `state` says whether the service is reachable). */
  lastError: VexilWebError | undefined;

  private context: EvaluationContext;
  private answers: FlagAnswers | undefined;
  /** The service's word that the context cannot be evaluated (no targeting key where every flag needs one). */
  private contextError: VexilWebError | undefined;
  private currentState: VexilClientState = 'connecting';
  private readonly evaluation: Evaluation;
  private readonly stream: ChangeStream | undefined;
  private readonly closing = new AbortController();
  private readonly pollIntervalMs: number;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private refreshing: Promise<void> | undefined;
  private pending: { fresh: boolean } | undefined;
  private readonly readyPromise: Promise<boolean>;
  private settle: ((ready: boolean) => void) | undefined;

  constructor(options: VexilClientOptions) {
    super();
    if (typeof options.baseUrl !== 'string' || options.baseUrl === '') {
      throw new TypeError('VexilClient needs baseUrl: the Vexil service, e.g. https://flags.example.com');
    }
    if (typeof options.project !== 'string' || options.project === '') {
      throw new TypeError('VexilClient needs project: the project whose flags it reads');
    }
    this.project = options.project;
    this.context = options.context ?? {};
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined && options.token !== '') headers.authorization = `Bearer ${options.token}`;
    const transport: Transport = {
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      project: options.project,
      headers,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      timeoutMs: options.timeoutMs ?? 5000,
    };
    this.evaluation = (options.evaluation ?? ofrepEvaluation)(transport);
    this.pollIntervalMs = options.pollIntervalMs ?? 30_000;
    this.readyPromise = new Promise((resolve) => {
      this.settle = resolve;
    });
    const readyTimer = setTimeout(() => this.settleReady(false), options.readyTimeoutMs ?? 5000);
    void this.readyPromise.then(() => clearTimeout(readyTimer));

    if (options.streaming === false) {
      this.startPolling();
      void this.poll();
      return;
    }
    this.stream = new ChangeStream(
      transport,
      { reconnectDelayMs: options.reconnectDelayMs ?? 500, maxReconnectDelayMs: options.maxReconnectDelayMs ?? 30_000 },
      {
        version: () => this.evaluation.version(),
        event: (event) => this.onStreamEvent(event),
        opened: () => {
          this.stopPolling();
          this.setState('connected');
        },
        lost: (error, wasOpen) => {
          this.record(error);
          // The stream's word on the project and the token holds (OFREP answers an unknown project's flags as not found).
          if (refusal(error)) this.settleReady(false);
          // A stream that was open is resumed at once; one that cannot be had is replaced by polling meanwhile.
          if (!wasOpen) {
            void this.poll();
            this.startPolling();
          }
        },
      },
    );
    this.stream.start();
  }

  // ------------------------------------------------------------ gets

  /** The value of boolean (feature) flag `key`; the default when it cannot be answered. */
  getFlagBoolean(key: string, defaultValue: boolean): boolean {
    return this.getFlagDetails(key, defaultValue).value;
  }

  /** The value of string (data) flag `key`. */
  getFlagString(key: string, defaultValue: string): string {
    return this.getFlagDetails(key, defaultValue).value;
  }

  /** The value of number flag `key`. */
  getFlagNumber(key: string, defaultValue: number): number {
    return this.getFlagDetails(key, defaultValue).value;
  }

  /** The value of json flag `key` (an object or array, as stored: its shape is not checked against `T`). */
  getFlagJson<T extends JsonFlagValue>(key: string, defaultValue: T): T {
    return this.getFlagDetails(key, defaultValue).value;
  }

  /** A get with its reason, variant and metadata, or why the default was answered. The default's type picks the flag type read. */
  getFlagDetails<T extends FlagValue>(key: string, defaultValue: T): FlagDetails<T> {
    const answers = this.answers;
    let missing: { code: VexilWebError['code']; message: string };
    if (this.contextError !== undefined) missing = { code: this.contextError.code, message: this.contextError.message };
    else if (answers === undefined) {
      missing = {
        code: 'NOT_READY',
        message: `no answers from project ${this.project} yet: flag ${key} answers its default`,
      };
    } else missing = { code: 'FLAG_NOT_FOUND', message: `no flag ${key} in project ${this.project}` };
    return readAnswer(key, answers?.get(key), defaultValue, missing);
  }

  // ------------------------------------------------------------ state

  /** Resolves true once answers arrived, false after `readyTimeoutMs` (or at once when the project or token is refused). Never rejects. */
  ready(): Promise<boolean> {
    return this.readyPromise;
  }

  get state(): VexilClientState {
    return this.currentState;
  }

  /** The context the answers are for. */
  getContext(): EvaluationContext {
    return this.context;
  }

  /** Evaluates for another context (the user signed in); resolves once its answers are in (or failed: see `lastError`). */
  setContext(context: EvaluationContext): Promise<void> {
    this.context = context;
    return this.refresh(false);
  }

  /** Stops the stream and the polling. */
  close(): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.closing.abort();
    this.stream?.close();
    this.stopPolling();
    this.settleReady(false);
  }

  // ------------------------------------------------------------ keeping current

  private onStreamEvent(event: StreamEvent): void {
    if (this.evaluation.streamEvent(event)) void this.refresh(false);
  }

  private async poll(): Promise<void> {
    await this.refresh(true);
  }

  /** Brings the answers up to date; one refresh at a time, a request made meanwhile runs once after it. */
  private refresh(fresh: boolean): Promise<void> {
    if (this.refreshing !== undefined) {
      this.pending = { fresh: fresh || this.pending?.fresh === true };
      return this.refreshing;
    }
    this.refreshing = (async () => {
      let next: { fresh: boolean } | undefined = { fresh };
      while (next !== undefined && this.currentState !== 'closed') {
        this.pending = undefined;
        await this.refreshOnce(next.fresh);
        next = this.pending;
      }
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshOnce(fresh: boolean): Promise<void> {
    try {
      const answers = await this.evaluation.answers(
        { ...this.context, project_name: this.project },
        fresh,
        this.closing.signal,
      );
      this.contextError = undefined;
      if (answers !== undefined) this.apply(answers);
      if (fresh) this.setState('connected');
    } catch (error) {
      if (this.currentState === 'closed') return;
      const failure =
        error instanceof VexilWebError
          ? error
          : new VexilWebError('GENERAL', `project ${this.project}: ${messageOf(error)}`, undefined, error);
      this.record(failure);
      if (failure.code === 'TARGETING_KEY_MISSING' || failure.code === 'INVALID_CONTEXT') {
        // The service answered: for this context every flag gives its default.
        this.contextError = failure;
        this.apply(new Map());
      } else if (refusal(failure)) {
        this.settleReady(false);
      } else if (fresh) this.setState('stale');
    }
  }

  private apply(answers: FlagAnswers): void {
    const old = this.answers;
    this.answers = answers;
    if (old === undefined) {
      this.settleReady(true);
      this.emit('ready', { flags: [...answers.keys()] });
      return;
    }
    const changed = new Set<string>();
    for (const [key, answer] of answers) if (!sameAnswer(answer, old.get(key))) changed.add(key);
    for (const key of old.keys()) if (!answers.has(key)) changed.add(key);
    if (changed.size > 0) this.emit('change', { flagsChanged: [...changed] });
  }

  private startPolling(): void {
    if (this.pollTimer !== undefined || this.pollIntervalMs <= 0 || this.currentState === 'closed') return;
    this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
  }

  private stopPolling(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private setState(state: 'connected' | 'stale'): void {
    if (this.currentState === state || this.currentState === 'closed') return;
    const was = this.currentState;
    this.currentState = state;
    if (state === 'stale') this.emit('stale', { lastError: this.lastError });
    else if (was === 'stale') this.emit('connected', {});
  }

  private settleReady(ready: boolean): void {
    this.settle?.(ready);
    this.settle = undefined;
  }

  private record(error: VexilWebError): void {
    this.lastError = error;
    this.emit('error', error);
  }
}

/** The service refused the project or the token: waiting longer for answers would not help. */
function refusal(error: VexilWebError): boolean {
  return error.code === 'PROJECT_NOT_FOUND' || error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN';
}
