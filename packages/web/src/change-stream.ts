import { CHANGE_STREAM_KEEP_ALIVE_MS } from '@vexil/core';
import { createParser } from 'eventsource-parser';
import type { StreamEvent } from './evaluation.js';
import { messageOf, projectUrl, send, type Transport } from './transport.js';
import { VexilWebError } from './web-error.js';

/**
 * The project's change stream (server-sent events, docs/sdk-protocol.md) read with
 * fetch, not EventSource: EventSource cannot send headers, and the service takes the
 * read token only as `Authorization: Bearer` (or `X-Vexil-Token`), never in the URL,
 * where it would end up in logs. eventsource-parser does the SSE parsing. The version
 * held goes in `?version=` (so a public project's stream needs no CORS preflight);
 * reconnects back off exponentially with jitter, as @vexil/sdk's do.
 */
export interface StreamHandlers {
  /** The version to resume from. */
  version(): string | undefined;
  /** An event; throwing makes the stream reconnect (resuming from `version()`). */
  event(event: StreamEvent): void;
  /** The stream is open and the service answered. */
  opened(): void;
  /** The stream failed or ended; it reconnects by itself after a delay. */
  lost(error: VexilWebError, wasOpen: boolean): void;
}

export interface StreamTiming {
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
}

/** A stream silent for three keep-alive intervals is taken as lost. */
const IDLE_MS = 3 * CHANGE_STREAM_KEEP_ALIVE_MS;

export class ChangeStream {
  private readonly stop = new AbortController();

  constructor(
    private readonly transport: Transport,
    private readonly timing: StreamTiming,
    private readonly handlers: StreamHandlers,
  ) {}

  start(): void {
    void this.loop();
  }

  close(): void {
    this.stop.abort();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stop.signal.aborted) {
      const opened = await this.once();
      if (this.stop.signal.aborted) return;
      failures = opened ? 0 : failures + 1;
      const ceiling = Math.min(
        this.timing.maxReconnectDelayMs,
        this.timing.reconnectDelayMs * 2 ** Math.min(failures, 20),
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2));
        this.stop.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** One connection, until it ends; answers whether it was open (the service answered with a stream). */
  private async once(): Promise<boolean> {
    const connection = new AbortController();
    const abort = () => connection.abort();
    this.stop.signal.addEventListener('abort', abort);
    const what = `change stream of project ${this.transport.project}`;
    const version = this.handlers.version();
    const url = `${projectUrl(this.transport, 'stream')}${version === undefined ? '' : `?version=${encodeURIComponent(version)}`}`;
    let open = false;
    let idle: ReturnType<typeof setTimeout> | undefined;
    let failure: VexilWebError | undefined;
    const fail = (error: VexilWebError) => {
      failure ??= error;
      connection.abort();
    };
    const resetIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () => fail(new VexilWebError('UNAVAILABLE', `${what}: nothing received for ${IDLE_MS} ms`)),
        IDLE_MS,
      );
    };
    try {
      const response = await send(
        this.transport,
        url,
        { headers: { accept: 'text/event-stream' } },
        what,
        connection.signal,
      );
      const body = response.body;
      if (body === null || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        throw new VexilWebError('PARSE_ERROR', `${what}: the answer is not text/event-stream (a proxy in the way?)`);
      }
      open = true;
      this.handlers.opened();
      resetIdle();
      const parser = createParser({
        onEvent: (message) => {
          if (connection.signal.aborted) return;
          try {
            this.handlers.event({ event: message.event ?? 'message', data: message.data, id: message.id });
          } catch (error) {
            fail(
              error instanceof VexilWebError ? error : new VexilWebError('PARSE_ERROR', `${what}: ${messageOf(error)}`),
            );
          }
        },
      });
      const reader = body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          resetIdle();
          parser.feed(value);
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      failure ??= new VexilWebError('UNAVAILABLE', `${what} ended; reconnecting`);
    } catch (error) {
      failure ??=
        error instanceof VexilWebError
          ? error
          : new VexilWebError('UNAVAILABLE', `${what} was lost (${messageOf(error)}); reconnecting`, undefined, error);
    } finally {
      clearTimeout(idle);
      this.stop.signal.removeEventListener('abort', abort);
    }
    if (!this.stop.signal.aborted) this.handlers.lost(failure, open);
    return open;
  }
}
