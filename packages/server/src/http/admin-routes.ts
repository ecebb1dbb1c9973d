import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from './services.js';

/** The admin API: every management procedure of the CLI, over HTTP. */
export const adminRoutes: FastifyPluginAsync<RouteOptions> = async (_app, _options) => {};
