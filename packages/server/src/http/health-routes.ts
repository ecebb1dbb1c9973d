import type { FastifyPluginAsync } from 'fastify';
import { withTimeout } from '../with-timeout.js';
import type { RouteOptions } from './services.js';

/** Liveness, readiness (the store answers) and Prometheus metrics. */
export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { config, store, metrics, health, evaluator } = services;

  app.get('/healthz', { schema: { summary: 'The process is up', tags: ['operations'] } }, async () => ({
    status: 'ok',
    environment: config.environment,
  }));

  app.get(
    '/readyz',
    {
      schema: {
        summary:
          'The store answers (ready); or it does not, and flags are served from the last data read (stale, still 200); or there is nothing to serve (503)',
        tags: ['operations'],
      },
    },
    async (_request, reply) => {
      try {
        await withTimeout(store.ping(), config.storeTimeoutMs, () => `pinging the ${store.engine} store`);
        health.answered();
        return { status: 'ready', store: store.engine };
      } catch (error) {
        health.failed(error);
        const message = error instanceof Error ? error.message : String(error);
        // Serving from the last data read keeps the instance useful: it stays in rotation, marked stale.
        if (evaluator.flags.servesLastKnown) {
          return { status: 'stale', store: store.engine, staleSeconds: Math.round(health.staleSeconds), message };
        }
        reply.code(503);
        return { status: 'unavailable', store: store.engine, message };
      }
    },
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'] } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
