import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServiceConfig } from '../config.js';

/**
 * Who is asking, for the limits kept per caller (rate limits, open change streams):
 * buildApp's default is the presented token's id, else the client's address.
 */
export type Caller = (request: FastifyRequest) => string;

/** The client's address as the connection shows it (no proxy headers are trusted). */
export const clientAddress: Caller = (request) => request.ip;

/** Routes no rate limit applies to: probes and scrapes come often, from one address, and cost nothing. */
const UNLIMITED_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** Evaluation reports write to the log: they get a limit (and a body limit) of their own. */
export const REPORT_ROUTE = '/sdk/v1/evaluations';

const MINUTE_MS = 60_000;

/**
 * The service's per-caller rate limits, with @fastify/rate-limit: `VEXIL_RATE_LIMIT`
 * on every route but the unlimited ones, and `VEXIL_REPORT_RATE_LIMIT` on evaluation
 * reports, counted apart. Past a limit: 429 with `Retry-After` in seconds. Register
 * before any route: each route's limit is chosen as it is added.
 * (`VEXIL_OFREP_RATE_LIMIT` is the OFREP routes' own, on top of these.)
 */
export async function registerRateLimits(app: FastifyInstance, config: ServiceConfig, caller: Caller): Promise<void> {
  // Runs before the plugin's own onRoute hook (added below), so it sees each route's choice.
  app.addHook('onRoute', (route) => {
    if (route.url === REPORT_ROUTE && route.method === 'POST') {
      route.bodyLimit = config.reportBodyLimitBytes;
      route.config = {
        ...route.config,
        rateLimit: config.reportRateLimit > 0 ? { max: config.reportRateLimit, timeWindow: MINUTE_MS } : false,
      };
    } else if (UNLIMITED_ROUTES.has(route.url)) {
      route.config = { ...route.config, rateLimit: false };
    }
  });
  await app.register(rateLimit, {
    global: config.rateLimit > 0,
    max: config.rateLimit,
    timeWindow: MINUTE_MS,
    keyGenerator: caller,
    errorResponseBuilder: (request, context) =>
      Object.assign(
        new Error(
          `rate limit exceeded: at most ${context.max} ${request.routeOptions.url === REPORT_ROUTE ? 'evaluation reports' : 'requests'} per minute from one caller; retry in ${context.after}`,
        ),
        { statusCode: context.statusCode },
      ),
  });
}
