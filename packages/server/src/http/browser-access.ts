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

/**
 * CORS for the admin API: closed (no CORS headers, so a browser page of another
 * origin can neither read an answer nor send a token) unless `VEXIL_ADMIN_CORS_ORIGINS`
 * names the origins allowed, which then may send `Authorization` (never cookies).
 */
export function adminBrowserAccess(origins: readonly string[] | '*'): FastifyCorsOptions {
  return {
    origin: origins === '*' ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Vexil-Token'],
    exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
    credentials: false,
    maxAge: 600,
  };
}
