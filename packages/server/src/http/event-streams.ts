import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * Server-sent events, by hand on the raw response: the change stream needs a
 * frame serialized once and written to many responses, one heartbeat timer for
 * all of them, a bound on what a slow client may leave unread, and a way to end
 * every stream when the service stops. That is these few lines; a plugin's
 * per-connection API (e.g. @fastify/sse, 0.x) would add a layer without saving any.
 */

/** Bytes a client may leave unread before its stream is dropped; it reconnects and resumes from a snapshot. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** One event as the `text/event-stream` format writes it; `data` must be a single line (JSON is). */
export function sseFrame(event: string, data: string, id?: string): string {
  return id === undefined ? `event: ${event}\ndata: ${data}\n\n` : `event: ${event}\nid: ${id}\ndata: ${data}\n\n`;
}

const HEARTBEAT_FRAME = ': keep-alive\n\n';

export class EventStream {
  private ended = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly onEnd: (stream: EventStream) => void,
  ) {
    response.on('close', () => this.finish());
    response.on('error', () => this.finish());
  }

  get open(): boolean {
    return !this.ended;
  }

  write(frame: string): void {
    if (this.ended || this.response.destroyed) return;
    this.response.write(frame);
    if (this.response.writableLength > MAX_BUFFERED_BYTES) this.response.destroy();
  }

  /** Ends the response; the connection closes with it (the stream is sent with `Connection: close`). */
  end(): void {
    if (this.ended) return;
    this.response.end();
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this);
  }
}

/** The open event streams of a service: one heartbeat for all, and all ended at once on shutdown. */
export class EventStreams {
  private readonly streams = new Set<EventStream>();
  private heartbeat: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(private readonly heartbeatMs: number) {}

  get size(): number {
    return this.streams.size;
  }

  /**
   * Takes the response over from Fastify and starts an event stream on it, with the
   * headers Fastify's hooks set (CORS). `onEnd` runs once, however the stream ends.
   */
  start(reply: FastifyReply, onEnd: () => void): EventStream {
    reply.hijack();
    const response = reply.raw;
    const headers: Record<string, string | number | string[]> = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
    // The connection ends with the stream, so shutdown is not held up by an idle keep-alive socket.
    response.shouldKeepAlive = false;
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    const stream = new EventStream(response, (ended) => {
      this.streams.delete(ended);
      if (this.streams.size === 0) this.stopHeartbeat();
      onEnd();
    });
    if (this.closing) {
      stream.end();
      return stream;
    }
    this.streams.add(stream);
    this.heartbeat ??= setInterval(() => {
      for (const open of this.streams) open.write(HEARTBEAT_FRAME);
    }, this.heartbeatMs).unref();
    return stream;
  }

  /** Ends every stream, and any started from now on: for the service's shutdown. */
  closeAll(): void {
    this.closing = true;
    for (const stream of [...this.streams]) stream.end();
    this.stopHeartbeat();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
