import type { FastifyInstance, InjectOptions } from 'fastify';
import { expect } from 'vitest';
import { type AppOptions, buildApp } from '../../src/app.js';

/**
 * The admin token every test service accepts (VEXIL_ADMIN_TOKEN): harnesses pass it
 * where they write, once, here; auth stays on. Tests of access control itself send
 * their own `authorization` (or `null` for none).
 */
export const TEST_ADMIN_TOKEN = 'vexil_test-admin-token-of-the-test-harnesses';

export const ADMIN_HEADERS = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } as const;

type Injectable = Pick<FastifyInstance, 'inject'>;

/**
 * `app.inject` sends the test admin token unless the request names its own
 * `authorization` or `x-vexil-token` header; a header given as `null` is left out
 * (a request without a token).
 */
export function injectingTestToken<A extends Injectable>(app: A): A {
  const inject = app.inject.bind(app) as (options: InjectOptions | string) => ReturnType<FastifyInstance['inject']>;
  const withToken = (options: InjectOptions | string) => {
    const request: InjectOptions = typeof options === 'string' ? { url: options } : { ...options };
    const headers: Record<string, unknown> = { ...(request.headers as Record<string, unknown> | undefined) };
    if (!('authorization' in headers) && !('x-vexil-token' in headers)) Object.assign(headers, ADMIN_HEADERS);
    for (const [name, value] of Object.entries(headers)) if (value === null) delete headers[name];
    request.headers = headers as NonNullable<InjectOptions['headers']>;
    return inject(request);
  };
  (app as { inject: unknown }).inject = withToken;
  return app;
}

/** buildApp, accepting the test admin token (VEXIL_ADMIN_TOKEN) and sending it on every inject. */
export async function buildTestApp(options: AppOptions): Promise<FastifyInstance> {
  const config = { ...options.config, adminToken: options.config.adminToken ?? TEST_ADMIN_TOKEN };
  return injectingTestToken(await buildApp({ ...options, config }));
}

/** What a change made with the test admin token through inject records: its owner, address and token. */
export const TEST_ACTOR = {
  OwnerID: 'bootstrap',
  ActorAddress: '127.0.0.1',
  TokenID: expect.stringMatching(/^tok_/),
} as const;
