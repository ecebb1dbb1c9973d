import type { FastifyPluginAsync } from 'fastify';
import { withTimeout } from '../with-timeout.js';
import type { RouteOptions } from './services.js';

/** Liveness, readiness (the store answers) and Prometheus metrics. */
export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { config, store, metrics } = services;

  app.get('/healthz', { schema: { summary: 'The process is up', tags: ['operations'] } }, async () => ({
    status: 'ok',
    environment: config.environment,
  }));

  app.get('/readyz', { schema: { summary: 'The store answers', tags: ['operations'] } }, async (_request, reply) => {
    try {
      await withTimeout(store.ping(), config.storeTimeoutMs, () => `pinging the ${store.engine} store`);
      return { status: 'ready', store: store.engine };
    } catch (error) {
      reply.code(503);
      return {
        status: 'unavailable',
        store: store.engine,
        message: error instanceof Error ? error.message : String(error),
      };
    }
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'] } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
