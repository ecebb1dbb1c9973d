import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FlagRef } from '@vexil/core';
import { MemoryStore, type StoreEngine } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { afterEach } from 'vitest';
// Tests only: the SDK's sources never import server code.
import { buildApp } from '../../server/src/app.js';
import { type Env, loadConfig } from '../../server/src/config.js';
import { FlagAdmin } from '../../server/src/flag-admin.js';
import { checkout, provider, seedFlags as seedServerFlags } from '../../server/test/service-harness.js';
import { TEST_ADMIN_TOKEN } from '../../server/test/support/test-token.js';

export const PROJECT = 'shop';
export { checkout, provider };
export const killSwitch: FlagRef = { project: PROJECT, flagType: 'feature', name: 'kill_switch' };

/** The flags every test starts from: the server tests' two flags, and a static flag. */
export async function seedFlags(admin: FlagAdmin): Promise<void> {
  await seedServerFlags(admin);
  await admin.addFlag(killSwitch, {});
  await admin.addRevision(killSwitch, { ControlValue: true, Treatments: [] });
}

export interface Service {
  app: FastifyInstance;
  store: StoreEngine;
  admin: FlagAdmin;
  url: string;
  port: number;
  /** Stops the service (ending its streams); the store stays open for a restart. */
  stop(): Promise<void>;
}

/**
 * A real Vexil service, built as `vexil serve` builds it, listening on 127.0.0.1 —
 * on `port` when given (to restart a stopped service where clients expect it).
 */
export async function startService(
  options: { store?: StoreEngine; port?: number; env?: Env; seed?: boolean } = {},
): Promise<Service> {
  const store = options.store ?? new MemoryStore();
  const admin = new FlagAdmin(store);
  if (options.seed !== false && options.store === undefined) await seedFlags(admin);
  const app = await buildApp({
    config: loadConfig({
      VEXIL_STORE: 'memory:',
      VEXIL_LOG_FLUSH_MS: '20',
      // The token the tests that report evaluations send (reports always need one).
      VEXIL_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      ...options.env,
    }),
    store,
    defaultMetrics: false,
  });
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  let stopped = false;
  return {
    app,
    store,
    admin,
    url: `http://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // A keep-alive connection whose response was still finishing when closing began is not
      // closed as idle by Node.js; the client would hold it for its keep-alive time (4 s).
      const straggler = setTimeout(() => app.server.closeAllConnections(), 200);
      await app.close();
      clearTimeout(straggler);
    },
  };
}

/** What /get-feature-flag answers for one id. */
export async function serviceValue(service: Service, ref: FlagRef, instanceId: string): Promise<boolean | string> {
  const query = new URLSearchParams({
    project_name: ref.project,
    instance_id: instanceId,
    flag_type: ref.flagType,
    flag_name: ref.name,
  });
  const response = await fetch(`${service.url}/get-feature-flag?${query}`);
  if (response.status !== 200) throw new Error(`/get-feature-flag answered ${response.status}`);
  return ((await response.json()) as { flag_value: boolean | string }).flag_value;
}

export interface StubServer {
  url: string;
  port: number;
  requests: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

/** A plain node:http server answering with `handler` (a service that errs, hangs, or speaks the protocol by hand). */
export async function stubServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  port = 0,
): Promise<StubServer> {
  const requests: StubServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    requests.push({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers });
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (taken from the OS, then released). */
export async function freePort(): Promise<number> {
  const stub = await stubServer(() => undefined);
  await stub.close();
  return stub.port;
}

/** Resolves with the next `event` of an emitter-like object, or rejects after `ms`. */
export function nextEvent<T>(
  emitter: { once(event: never, listener: (payload: T) => void): unknown },
  event: string,
  ms = 10_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} event within ${ms} ms`)), ms);
    (emitter.once as (event: string, listener: (payload: T) => void) => unknown)(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** Polls `check` until it returns true, or fails after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `count` instance ids that look like the runbook system's (`A123456`), deterministic. */
export function instanceIds(count: number, prefix = 'A'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(100000 + ((i * 7919) % 900000))}`);
}

/**
 * Per test file: what a test opens is closed after it, newest first. `service` starts
 * a service and registers its stop; push other closers onto `cleanups`.
 */
export function testResources(): {
  cleanups: (() => Promise<unknown>)[];
  service(options?: Parameters<typeof startService>[0]): Promise<Service>;
} {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    cleanups,
    async service(options = {}) {
      const started = await startService(options);
      cleanups.push(() => started.stop());
      return started;
    },
  };
}
