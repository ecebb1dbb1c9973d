import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import type { FeatureFlags } from './feature-flags.js';
import { type FeatureFlagsMiddlewareOptions, featureFlagsForRequests } from './request-flags.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's feature flags (Merino's `request.scope[ScopeKey.FEATURE_FLAGS]`). */
    featureFlags: FeatureFlags;
  }
}

const plugin: FastifyPluginCallback<FeatureFlagsMiddlewareOptions> = (fastify, options, done) => {
  let create: ReturnType<typeof featureFlagsForRequests>;
  try {
    create = featureFlagsForRequests(options);
  } catch (error) {
    // Bad flags stop start-up: `register` / `ready` / `listen` reject with the FlagConfigError.
    done(error as Error);
    return;
  }
  // Declared with null (Fastify's advice for per-request objects), set by the hook before any handler runs.
  fastify.decorateRequest('featureFlags', null as unknown as FeatureFlags);
  fastify.addHook('onRequest', (request, _reply, next) => {
    request.featureFlags = create(request.raw.url, request.log);
    next();
  });
  done();
};

/**
 * Fastify plugin: every request gets `request.featureFlags`, a FeatureFlags built with
 * the `sid` of its query string (the last one; `?sid=` is the empty session id).
 *
 * ```ts
 * await app.register(featureFlagsPlugin, { flags: loadFlagFiles('flags') });
 * app.get('/', (request) => request.featureFlags.isEnabled('new_ui'));
 * ```
 */
export const featureFlagsPlugin = fp(plugin, { fastify: '5.x', name: '@vexil/sdk/feature-flags' });
