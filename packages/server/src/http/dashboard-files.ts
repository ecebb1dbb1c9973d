import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { UnavailableError } from '@vexil/core';
import type { FastifyInstance, onSendHookHandler } from 'fastify';

/**
 * The dashboard's built files (packages/dashboard, built by `npm run build` into the
 * server package's `dashboard/` directory): `index.html` at `/`, everything else under
 * `/assets/`. The UI routes by the URL's hash, so no other path needs index.html, and
 * every API path keeps its own route.
 */

/** Where the build puts the files: `packages/server/dashboard/`, beside `src/` and `dist/`. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/**
 * The page loads only its own files and talks only to this service: no inline script
 * or style, no other origin, never inside a frame.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

const securityHeaders: onSendHookHandler = (_request, reply, payload, done) => {
  reply.header('content-security-policy', DASHBOARD_CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-opener-policy', 'same-origin');
  done(null, payload);
};

export async function registerDashboard(app: FastifyInstance, dir: string = DEFAULT_DASHBOARD_DIR): Promise<void> {
  await app.register(async (ui) => {
    ui.addHook('onSend', securityHeaders);
    // Asset names carry a hash of their content (Vite): a browser may keep them for good.
    await ui.register(fastifyStatic, {
      root: join(dir, 'assets'),
      prefix: '/assets/',
      index: false,
      wildcard: true,
      immutable: true,
      maxAge: '365d',
      schemaHide: true,
    });
    ui.get('/', { schema: { hide: true } }, async (_request, reply) => {
      // Looked for on each request, so a build made while the service runs is served without a restart.
      const built = await access(join(dir, 'index.html')).then(
        () => true,
        () => false,
      );
      if (!built) {
        throw new UnavailableError('the dashboard is not built: run npm run build', {
          hint: `it builds packages/dashboard into ${dir}; the API is described at /docs`,
        });
      }
      // index.html names the assets of the build in force: never kept by a browser.
      return reply.header('cache-control', 'no-cache').sendFile('index.html', dir, { cacheControl: false });
    });
  });
}
