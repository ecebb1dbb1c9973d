import type { FastifyCorsOptions } from '@fastify/cors';
import type { ServiceConfig } from '../config.js';

/**
 * CORS for the routes browsers call (OFREP and the SDK protocol): `VEXIL_CORS_ORIGINS`
 * (`*` by default), preflights answered before any other hook, and the headers a
 * client must read (ETag for 304s, Retry-After for 429s) exposed. No cookies are
 * involved, so credentials stay off; an `Authorization` header is allowed by the
 * preflight when a browser asks for it.
 */
export function browserAccess(config: ServiceConfig): FastifyCorsOptions {
  return {
    origin: config.corsOrigins,
    methods: ['GET', 'HEAD', 'POST'],
    exposedHeaders: ['ETag', 'Retry-After'],
    maxAge: 600,
  };
}
