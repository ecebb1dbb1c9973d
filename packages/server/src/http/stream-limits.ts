import { TooManyRequestsError, UnavailableError } from '@vexil/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from './rate-limits.js';

/** The change stream's route: each request holds a connection (and a subscription) for as long as it stays open. */
export const STREAM_ROUTE = '/sdk/v1/projects/:project/stream';

/**
 * How long a client refused a stream is asked to wait: long enough not to hammer a
 * full service, short enough that a stream freed is used soon. SDK clients reconnect
 * with a backoff of their own on top.
 */
export const STREAM_RETRY_AFTER_SECONDS = 10;

export interface StreamLimits {
  /** Open streams per caller, at most. */
  readonly perCaller: number;
  /** Open streams in all, at most. */
  readonly total: number;
}

/**
 * Counts the open change streams, in all and per caller, and refuses one more past
 * either limit: 429 past the caller's, 503 past the service's, both with Retry-After.
 * A stream is counted from the moment its request is admitted until its response
 * closes, however it ends (an error answer, the client leaving, shutdown).
 */
export class StreamAdmission {
  private readonly byCaller = new Map<string, number>();
  private open = 0;

  constructor(private readonly limits: StreamLimits) {}

  /** Streams open now. */
  get size(): number {
    return this.open;
  }

  /** Admits the request's stream or throws the answer that refuses it. */
  admit(caller: string, reply: FastifyReply): void {
    const held = this.byCaller.get(caller) ?? 0;
    if (held >= this.limits.perCaller) {
      throw new TooManyRequestsError(
        `this caller already holds ${held} open change streams, the most one caller may (VEXIL_SSE_MAX_PER_CLIENT): close one, or share one stream per project in a process`,
        { retryAfterSeconds: STREAM_RETRY_AFTER_SECONDS },
      );
    }
    if (this.open >= this.limits.total) {
      throw new UnavailableError(
        `the service holds ${this.open} open change streams, the most it serves at once (VEXIL_SSE_MAX_TOTAL): try again later`,
        { retryAfterSeconds: STREAM_RETRY_AFTER_SECONDS },
      );
    }
    this.open++;
    this.byCaller.set(caller, held + 1);
    reply.raw.once('close', () => {
      this.open--;
      const left = (this.byCaller.get(caller) ?? 1) - 1;
      if (left === 0) this.byCaller.delete(caller);
      else this.byCaller.set(caller, left);
    });
  }
}

/** Puts the admission in front of the change-stream route, keyed by `caller`. Register before the route. */
export function limitStreams(app: FastifyInstance, admission: StreamAdmission, caller: Caller): void {
  const admit = async (request: FastifyRequest, reply: FastifyReply) => admission.admit(caller(request), reply);
  app.addHook('onRoute', (route) => {
    // Its HEAD route too: it would stream as well.
    if (route.url !== STREAM_ROUTE) return;
    const existing = route.preHandler;
    route.preHandler = existing === undefined ? [admit] : [admit, ...(Array.isArray(existing) ? existing : [existing])];
  });
}
