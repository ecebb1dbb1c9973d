import { WEBHOOK_HEADERS, WEBHOOK_PING_EVENT, type WebhookPayload } from '@vexil/core';
import type { ChangeEvent, ChangeEvents } from '../change-events.js';
import { type Webhook, webhookWants } from './webhook-config.js';
import { newDeliveryId, type WebhookDelivery, type WebhookRecords } from './webhook-records.js';
import { webhookSignature } from './webhook-signature.js';

/** The timer the retries wait on; tests drive their own instead of sleeping. */
export interface RetryTimers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: RetryTimers = {
  setTimeout: (run, ms) => {
    // Unref'd: a retry waiting is no reason to keep a process alive (close() says what happens to it).
    const handle = setTimeout(run, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface DispatcherLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface WebhookDispatcherOptions {
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; Date.now by default. */
  now?: () => number;
  timers?: RetryTimers;
  /** Attempts per delivery, the first one included (6 by default). */
  maxAttempts?: number;
  /** The wait before the first retry (10 s by default); each next wait is `backoffFactor` times longer… */
  firstRetryMs?: number;
  backoffFactor?: number;
  /** …up to this (1 h by default). */
  maxRetryMs?: number;
  /** An attempt without an answer this long fails (10 s by default). */
  timeoutMs?: number;
  /** Deliveries not finished (sending or waiting to retry) at most; past it, a new one is logged failed, unsent. */
  maxPending?: number;
  logger?: DispatcherLogger;
  /** Called with each delivery once it is over (delivered, failed or abandoned). */
  onFinished?: (delivery: WebhookDelivery) => void;
}

export const WEBHOOK_DEFAULTS = {
  maxAttempts: 6,
  firstRetryMs: 10_000,
  backoffFactor: 3,
  maxRetryMs: 3_600_000,
  timeoutMs: 10_000,
  maxPending: 1000,
} as const;

const HOOKS_FRESH_MS = 1000;

/** Deliveries made between two prunings of the delivery log. */
const PRUNE_EVERY = 50;

interface Pending {
  delivery: WebhookDelivery;
  hook: Webhook;
  body: string;
  timer?: unknown;
  /** Ends the wait for the retry (it fired, or was cancelled): what drain({ retries: true }) awaits. */
  waited?: () => void;
}

const quiet: DispatcherLogger = { warn: () => {}, error: () => {} };

/** The wait before retry `retry` (1 for the first): exponential, bounded. */
export function retryDelayMs(
  retry: number,
  options: Pick<WebhookDispatcherOptions, 'firstRetryMs' | 'backoffFactor' | 'maxRetryMs'> = {},
): number {
  const first = options.firstRetryMs ?? WEBHOOK_DEFAULTS.firstRetryMs;
  const factor = options.backoffFactor ?? WEBHOOK_DEFAULTS.backoffFactor;
  return Math.min(options.maxRetryMs ?? WEBHOOK_DEFAULTS.maxRetryMs, first * factor ** (retry - 1));
}

export function payloadOf(id: string, event: ChangeEvent | PingEvent): WebhookPayload {
  const payload: WebhookPayload = {
    id,
    event: event.type,
    time: event.time,
    project: event.project,
    flagType: event.flagType,
    flag: event.flag,
    revision: event.wtime ?? null,
    actor: event.actor,
  };
  if (event.subject !== undefined) payload.subject = event.subject;
  if (event.detail !== undefined) payload.detail = event.detail;
  return payload;
}

type PingEvent = Omit<ChangeEvent, 'type'> & { type: typeof WEBHOOK_PING_EVENT };

/**
 * Sends every change event to the webhooks that want it: a signed POST per webhook,
 * retried with exponential backoff, each try recorded in the delivery log. The event
 * listener only starts the work and returns, so a write never waits for a receiver
 * nor fails because of one. Deliveries live in this process: close() marks those
 * still waiting to retry `abandoned`, and a crash leaves them `pending` (no delivery
 * survives a restart; docs/webhooks.md says what is guaranteed).
 */
export class WebhookDispatcher {
  readonly #records: WebhookRecords;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #timers: RetryTimers;
  readonly #options: Required<Omit<WebhookDispatcherOptions, 'fetch' | 'now' | 'timers' | 'logger' | 'onFinished'>>;
  readonly #onFinished: (delivery: WebhookDelivery) => void;
  /** Retries waiting for their time. */
  readonly #waits = new Set<Promise<void>>();
  readonly #logger: DispatcherLogger;
  readonly #pending = new Map<string, Pending>();
  readonly #work = new Set<Promise<unknown>>();
  #made = 0;
  #listed: { at: number; changes: number; hooks: Promise<Webhook[]> } | undefined;
  #closed = false;

  constructor(records: WebhookRecords, options: WebhookDispatcherOptions = {}) {
    this.#records = records;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? realTimers;
    this.#logger = options.logger ?? quiet;
    this.#onFinished = options.onFinished ?? (() => {});
    this.#options = {
      maxAttempts: options.maxAttempts ?? WEBHOOK_DEFAULTS.maxAttempts,
      firstRetryMs: options.firstRetryMs ?? WEBHOOK_DEFAULTS.firstRetryMs,
      backoffFactor: options.backoffFactor ?? WEBHOOK_DEFAULTS.backoffFactor,
      maxRetryMs: options.maxRetryMs ?? WEBHOOK_DEFAULTS.maxRetryMs,
      timeoutMs: options.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs,
      maxPending: options.maxPending ?? WEBHOOK_DEFAULTS.maxPending,
    };
  }

  /** Sends the events of `events` from now on; the function returned stops. */
  subscribe(events: ChangeEvents): () => void {
    return events.subscribe(this.listener);
  }

  /** The change listener: starts the deliveries of one event and returns at once. */
  readonly listener = (event: ChangeEvent): void => {
    if (this.#closed) return;
    this.#track(this.#dispatch(event));
  };

  /** Deliveries sending or waiting to retry. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Sends a `ping` to one webhook and answers its delivery after the first attempt (retries go on as for a change). */
  async ping(hook: Webhook, actor: string): Promise<WebhookDelivery> {
    const event: PingEvent = {
      type: WEBHOOK_PING_EVENT,
      time: new Date(this.#now()).toISOString(),
      project: hook.project ?? '',
      flagType: 'feature',
      flag: '',
      actor,
    };
    const entry = await this.#start(hook, event);
    return structuredClone(entry.delivery);
  }

  /**
   * Resolves once no attempt is under way; with `retries`, once no delivery waits for
   * a retry either (the CLI, before it exits).
   */
  async drain(options: { retries?: boolean } = {}): Promise<void> {
    while (this.#work.size > 0 || (options.retries === true && this.#waits.size > 0)) {
      await Promise.allSettled([...this.#work, ...(options.retries === true ? this.#waits : [])]);
    }
  }

  /**
   * Stops: no new deliveries, no more retries. Attempts under way are awaited (each
   * ends within timeoutMs); deliveries still waiting to retry are recorded `abandoned`.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#pending.values()) {
      if (entry.timer !== undefined) this.#timers.clearTimeout(entry.timer);
      entry.timer = undefined;
      entry.waited?.();
    }
    await this.drain();
    for (const entry of [...this.#pending.values()]) {
      entry.delivery.status = 'abandoned';
      delete entry.delivery.nextAttemptTime;
      this.#pending.delete(entry.delivery.id);
      await this.#save(entry.delivery);
      this.#onFinished(entry.delivery);
    }
  }

  async #dispatch(event: ChangeEvent): Promise<void> {
    let hooks: Webhook[];
    try {
      hooks = await this.#hooks();
    } catch (error) {
      this.#logger.error(
        { err: error, event: event.type },
        'webhooks: cannot read the webhooks; this change is not sent',
      );
      return;
    }
    const wanted = hooks.filter((hook) => webhookWants(hook, event.project, event.type));
    await Promise.all(wanted.map((hook) => this.#start(hook, event)));
  }

  /**
   * The webhooks, read again at most once a second: an import writing a thousand rows
   * reads them once, and a webhook added on another replica counts within a second
   * (one added or removed here, at once).
   */
  #hooks(): Promise<Webhook[]> {
    const now = this.#now();
    const listed = this.#listed;
    if (
      listed === undefined ||
      listed.changes !== this.#records.changes ||
      now - listed.at > HOOKS_FRESH_MS ||
      now < listed.at
    ) {
      const hooks = this.#records.list();
      this.#listed = { at: now, changes: this.#records.changes, hooks };
      // A failed read is not kept.
      hooks.catch(() => {
        if (this.#listed?.hooks === hooks) this.#listed = undefined;
      });
      return hooks;
    }
    return listed.hooks;
  }

  async #start(hook: Webhook, event: ChangeEvent | PingEvent): Promise<Pending> {
    const id = newDeliveryId();
    const payload = payloadOf(id, event);
    const delivery: WebhookDelivery = {
      id,
      webhookId: hook.id,
      url: hook.url,
      event: event.type,
      project: event.project,
      flagType: event.flagType,
      flag: event.flag,
      revision: payload.revision,
      createdTime: new Date(this.#now()).toISOString(),
      status: 'pending',
      attempts: [],
    };
    const entry: Pending = { delivery, hook, body: JSON.stringify(payload) };
    if (++this.#made % PRUNE_EVERY === 0) this.#track(this.#records.pruneDeliveries());
    if (this.#pending.size >= this.#options.maxPending) {
      delivery.status = 'failed';
      delivery.attempts.push({
        time: delivery.createdTime,
        error: `not sent: ${this.#options.maxPending} deliveries were already pending`,
        durationMs: 0,
      });
      this.#logger.warn({ webhook: hook.id, delivery: id }, 'webhooks: too many deliveries pending; one not sent');
      await this.#save(delivery);
      this.#onFinished(delivery);
      return entry;
    }
    this.#pending.set(id, entry);
    await this.#save(delivery);
    await this.#attempt(entry);
    return entry;
  }

  async #attempt(entry: Pending): Promise<void> {
    const { delivery, hook, body } = entry;
    const started = this.#now();
    const timestamp = Math.floor(started / 1000);
    let status: number | undefined;
    let error: string | undefined;
    try {
      const response = await this.#fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Vexil-Webhooks/1',
          [WEBHOOK_HEADERS.signature]: webhookSignature(hook.secret, timestamp, body),
          [WEBHOOK_HEADERS.event]: delivery.event,
          [WEBHOOK_HEADERS.delivery]: delivery.id,
        },
        body,
        // A redirect is a failure: following it would send the signed change somewhere nobody configured.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      status = response.status;
      await response.body?.cancel().catch(() => {});
      if (status < 200 || status > 299) {
        error = status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`;
      }
    } catch (caught) {
      error = this.#describe(caught);
    }
    const attempt: WebhookDelivery['attempts'][number] = {
      time: new Date(started).toISOString(),
      durationMs: Math.max(0, this.#now() - started),
    };
    if (status !== undefined) attempt.status = status;
    if (error !== undefined) attempt.error = error;
    delivery.attempts.push(attempt);
    delete delivery.nextAttemptTime;
    if (error === undefined) {
      delivery.status = 'delivered';
      this.#pending.delete(delivery.id);
    } else if (delivery.attempts.length >= this.#options.maxAttempts || this.#closed) {
      delivery.status = this.#closed ? 'abandoned' : 'failed';
      this.#pending.delete(delivery.id);
      this.#logger.warn(
        { webhook: hook.id, delivery: delivery.id, attempts: delivery.attempts.length, error },
        'webhooks: a delivery failed',
      );
    } else {
      const wait = retryDelayMs(delivery.attempts.length, this.#options);
      delivery.nextAttemptTime = new Date(this.#now() + wait).toISOString();
      const waiting = new Promise<void>((resolve) => {
        entry.waited = resolve;
      });
      this.#waits.add(waiting);
      void waiting.then(() => this.#waits.delete(waiting));
      entry.timer = this.#timers.setTimeout(() => {
        entry.timer = undefined;
        // The retry is tracked before the wait ends, so drain never sees neither.
        if (!this.#closed) this.#track(this.#attempt(entry));
        entry.waited?.();
      }, wait);
    }
    await this.#save(delivery);
    if (delivery.status !== 'pending') this.#onFinished(delivery);
  }

  #describe(error: unknown): string {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return `timed out after ${this.#options.timeoutMs} ms`;
    }
    const cause = error instanceof Error ? (error.cause as { message?: unknown } | undefined) : undefined;
    if (typeof cause?.message === 'string') return cause.message;
    return error instanceof Error ? error.message : String(error);
  }

  async #save(delivery: WebhookDelivery): Promise<void> {
    try {
      await this.#records.saveDelivery(delivery);
    } catch (error) {
      this.#logger.error({ err: error, delivery: delivery.id }, 'webhooks: cannot record a delivery');
    }
  }

  #track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) => this.#logger.error({ err: error }, 'webhooks: unexpected failure'))
      .finally(() => this.#work.delete(tracked));
    this.#work.add(tracked);
  }
}
