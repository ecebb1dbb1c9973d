import {
  CHANGE_STREAM_EVENTS,
  type FlagUpdate,
  type ProjectSnapshot,
  parseFlagUpdate,
  parseProjectSnapshot,
  snapshotETag,
} from '@vexil/core';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { type AskedFor, requestError, statusError, VexilClientError } from './client-errors.js';

/**
 * Keeps a project snapshot current (docs/sdk-protocol.md): the change stream over
 * fetch (server-sent events), resumed with `Last-Event-ID` = the version held, and
 * reconnected with exponential backoff and jitter; while it is down, the snapshot is
 * polled with `If-None-Match` (once after each failed reconnect, and every
 * `pollIntervalMs`).
 *
 * SSE parsing is eventsource-parser's (3.x: it supports Node.js 18+; 4.x needs 22.12,
 * and the `eventsource` package, which would also do the connecting, needs Node.js
 * 22). The connecting is ours because the reconnect policy (backoff, the version to
 * resume from, polling while down, an idle timeout) is the protocol's, not
 * EventSource's fixed retry.
 */

export interface SyncOptions {
  /** The service, without trailing slashes (as `serviceUrl` gives it). */
  baseUrl: string;
  project: string;
  headers: Readonly<Record<string, string>>;
  fetch: typeof fetch;
  /** The fetch of the long-lived change stream (one whose connection does not hold the process open). */
  streamFetch: typeof fetch;
  /** Connecting to the stream, and each snapshot poll, must answer within this. */
  timeoutMs: number;
  /** false: no stream, only polling. */
  streaming: boolean;
  /** How often the snapshot is polled while the stream is down (or always, without streaming). 0: never. */
  pollIntervalMs: number;
  /** The first reconnect delay; it doubles per failed attempt, up to `maxReconnectDelayMs`, with jitter. */
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
  /** A stream that sends nothing (no event, no keep-alive) this long is taken as dead. */
  streamIdleTimeoutMs: number;
}

export interface SyncHandlers {
  /** The version of the snapshot the client holds (undefined: none). */
  version(): string | undefined;
  /** A full snapshot arrived. */
  snapshot(snapshot: ProjectSnapshot, via: 'stream' | 'poll'): void;
  /** A flag changed; answers false when the result does not match the update's version (a missed change). */
  update(update: FlagUpdate): boolean;
  /** The service said the client's version is current (stream `ready`, or a poll's 304). */
  current(via: 'stream' | 'poll'): void;
  /** Something failed; the sync carries on by itself. */
  error(error: VexilClientError): void;
  /** Neither the stream nor the snapshot can be had (the client answers from what it holds). */
  disconnected(): void;
}

/** Stream events larger than this (a snapshot of many flags is one event) are refused. */
const MAX_EVENT_CHARS = 64 * 1024 * 1024;

export class SnapshotSync {
  private closed = false;
  private connection: AbortController | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<boolean> | undefined;
  private wake: (() => void) | undefined;
  private readonly closeController = new AbortController();
  private readonly snapshotUrl: string;
  private readonly streamUrl: string;
  private running: Promise<void> | undefined;
  /** Lets a 404 for a project that does not exist be said as such. */
  private readonly asked: AskedFor;

  constructor(
    private readonly options: SyncOptions,
    private readonly handlers: SyncHandlers,
  ) {
    const base = `${options.baseUrl}/sdk/v1/projects/${encodeURIComponent(options.project)}`;
    this.snapshotUrl = `${base}/snapshot`;
    this.asked = { project: options.project, baseUrl: options.baseUrl };
    this.streamUrl = `${base}/stream`;
  }

  start(): void {
    if (this.running !== undefined || this.closed) return;
    if (this.options.streaming) {
      this.running = this.streamLoop();
    } else {
      void this.poll();
      this.startPolling();
      this.running = Promise.resolve();
    }
  }

  /** Stops the stream, the polling and any pending request. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopPolling();
    this.closeController.abort();
    this.connection?.abort();
    this.wake?.();
    await this.running;
    await this.polling;
  }

  // ------------------------------------------------------------ stream

  private async streamLoop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const { synced, error } = await this.streamOnce();
      if (this.closed) break;
      if (error !== undefined) this.handlers.error(error);
      if (synced) {
        // A stream that was in sync ended (the service stopped, a proxy cut it): reconnect
        // soon; the client is only declared disconnected if that fails too.
        failures = 0;
      } else {
        failures++;
        // The stream cannot be had: the snapshot may still be (a proxy that does not pass
        // server-sent events). Disconnected only when neither answers.
        if (!(await this.poll())) this.handlers.disconnected();
        this.startPolling();
      }
      await this.sleep(backoff(failures, this.options.reconnectDelayMs, this.options.maxReconnectDelayMs));
    }
  }

  /** One connection: resolves when it ends, with whether it got in sync and what went wrong. */
  private async streamOnce(): Promise<{ synced: boolean; error?: VexilClientError | undefined }> {
    const controller = new AbortController();
    this.connection = controller;
    let synced = false;
    let failure: VexilClientError | undefined;
    const fail = (error: VexilClientError) => {
      failure ??= error;
      controller.abort(error);
    };
    const headers: Record<string, string> = { accept: 'text/event-stream', ...this.options.headers };
    const held = this.handlers.version();
    if (held !== undefined) headers['last-event-id'] = held;

    const connectTimer = setTimeout(
      () =>
        fail(
          new VexilClientError(
            'TIMEOUT',
            `change stream of project ${this.options.project}: no answer within ${this.options.timeoutMs} ms`,
            { operation: 'stream' },
          ),
        ),
      this.options.timeoutMs,
    );
    connectTimer.unref();
    let idleTimer: NodeJS.Timeout | undefined;
    const resetIdle = () => {
      if (idleTimer !== undefined) idleTimer.refresh();
      else {
        idleTimer = setTimeout(
          () =>
            fail(
              new VexilClientError(
                'UNAVAILABLE',
                `change stream of project ${this.options.project}: nothing received for ${this.options.streamIdleTimeoutMs} ms (not even a keep-alive); reconnecting`,
                { operation: 'stream' },
              ),
            ),
          this.options.streamIdleTimeoutMs,
        );
        idleTimer.unref();
      }
    };

    try {
      const response = await this.options.streamFetch(this.streamUrl, { headers, signal: controller.signal });
      if (!response.ok) {
        failure ??= await statusError(
          response,
          'stream',
          `change stream of project ${this.options.project}`,
          undefined,
          this.asked,
        );
        return { synced, error: failure };
      }
      clearTimeout(connectTimer);
      const type = response.headers.get('content-type') ?? '';
      if (!type.startsWith('text/event-stream') || response.body === null) {
        await response.body?.cancel().catch(() => undefined);
        return {
          synced,
          error: new VexilClientError(
            'PARSE_ERROR',
            `change stream of project ${this.options.project}: the answer is ${type || 'not typed'}, not text/event-stream (a proxy in the way?)`,
            { operation: 'stream' },
          ),
        };
      }
      resetIdle();
      const parser = createParser({
        maxBufferSize: MAX_EVENT_CHARS,
        onEvent: (event) => {
          if (controller.signal.aborted) return;
          const outcome = this.onEvent(event);
          if (outcome === 'synced') synced = true;
          else if (outcome !== 'ok') fail(outcome);
        },
        onError: (error) => {
          if (error.type === 'max-buffer-size-exceeded') {
            fail(
              new VexilClientError('PARSE_ERROR', `change stream: ${error.message}`, {
                operation: 'stream',
                cause: error,
              }),
            );
          }
        },
      });
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          resetIdle();
          parser.feed(decoder.decode(value, { stream: true }));
          if (controller.signal.aborted) break;
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      if (failure === undefined && !this.closed) {
        // The service ended the stream (it is stopping, or the connection was cut).
        failure = new VexilClientError(
          'UNAVAILABLE',
          `change stream of project ${this.options.project} ended; reconnecting`,
          { operation: 'stream' },
        );
      }
      return { synced, error: failure };
    } catch (error) {
      if (this.closed) return { synced };
      const lost = synced && failure === undefined;
      return {
        synced,
        error:
          failure ??
          (lost
            ? new VexilClientError(
                'UNAVAILABLE',
                `change stream of project ${this.options.project} was lost (${messageWithCause(error)}); reconnecting`,
                { operation: 'stream', cause: error },
              )
            : requestError(
                error,
                'stream',
                `change stream of project ${this.options.project}`,
                this.options.timeoutMs,
              )),
      };
    } finally {
      clearTimeout(connectTimer);
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      if (this.connection === controller) this.connection = undefined;
    }
  }

  /** Applies one event: 'synced' once the client holds the service's version. */
  private onEvent(event: EventSourceMessage): 'ok' | 'synced' | VexilClientError {
    const parseError = (what: string, error: unknown) =>
      new VexilClientError(
        'PARSE_ERROR',
        `change stream of project ${this.options.project}: ${what} cannot be read (${messageWithCause(error)}); reconnecting`,
        { operation: 'stream', cause: error },
      );
    switch (event.event) {
      case CHANGE_STREAM_EVENTS.snapshot: {
        let snapshot: ProjectSnapshot;
        try {
          snapshot = parseProjectSnapshot(JSON.parse(event.data));
        } catch (error) {
          return parseError('the snapshot event', error);
        }
        this.stopPolling();
        this.handlers.snapshot(snapshot, 'stream');
        return 'synced';
      }
      case CHANGE_STREAM_EVENTS.ready:
        this.stopPolling();
        this.handlers.current('stream');
        return 'synced';
      case CHANGE_STREAM_EVENTS.change: {
        let update: FlagUpdate;
        try {
          update = parseFlagUpdate(JSON.parse(event.data));
        } catch (error) {
          return parseError('a change event', error);
        }
        if (this.handlers.update(update)) return 'ok';
        // A missed change: reconnect, resuming from the version really held, to get a full snapshot.
        return new VexilClientError(
          'PARSE_ERROR',
          `change stream of project ${this.options.project}: a change did not lead to its version (a change was missed); resynchronizing`,
          { operation: 'stream' },
        );
      }
      default:
        return 'ok';
    }
  }

  // ------------------------------------------------------------ polling

  private startPolling(): void {
    if (this.pollTimer !== undefined || this.closed || this.options.pollIntervalMs <= 0) return;
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollIntervalMs);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** One conditional GET of the snapshot (one at a time); true when the client is in sync after it. */
  poll(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<boolean> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers };
    const held = this.handlers.version();
    if (held !== undefined) headers['if-none-match'] = snapshotETag(held);
    const what = `snapshot of project ${this.options.project}`;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.closeController.signal]);
      const response = await this.options.fetch(this.snapshotUrl, { headers, signal });
      if (response.status === 304) {
        await response.body?.cancel().catch(() => undefined);
        this.handlers.current('poll');
        return true;
      }
      if (!response.ok) throw await statusError(response, 'snapshot', what, undefined, this.asked);
      let snapshot: ProjectSnapshot;
      try {
        snapshot = parseProjectSnapshot(await response.json());
      } catch (error) {
        if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) throw error;
        throw new VexilClientError('PARSE_ERROR', `${what} cannot be read (${messageWithCause(error)})`, {
          operation: 'snapshot',
          cause: error,
        });
      }
      if (this.closed) return false;
      this.handlers.snapshot(snapshot, 'poll');
      return true;
    } catch (error) {
      if (this.closed) return false;
      this.handlers.error(requestError(error, 'snapshot', what, this.options.timeoutMs));
      this.handlers.disconnected();
      return false;
    }
  }

  // ------------------------------------------------------------ helpers

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = undefined;
    });
  }
}

/** The delay before reconnect attempt `failures` (0 after a healthy stream): exponential, with full jitter on its upper half. */
export function backoff(failures: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** An error's message followed by its cause's, which names the network failure behind a fetch error. */
function messageWithCause(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
