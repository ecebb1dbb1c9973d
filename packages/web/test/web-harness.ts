import type { FlagRef } from '@vexil/core';
import { MemoryStore } from '@vexil/store';
import { type Service, seedFlags, startService } from '../../sdk/test/service-harness.js';
import type { RevisionInput } from '../../server/src/flag-admin.js';
// Tests only: the package's sources never import server or SDK test code.
import { seedModelFlags } from '../../server/test/flag-model-harness.js';
import { TEST_ADMIN_TOKEN } from '../../server/test/support/test-token.js';
import type { VexilClient, VexilClientEvents } from '../src/index.js';

export { PROJECT } from '../../sdk/test/service-harness.js';
export type { Service };

/** A real service (in process, listening on 127.0.0.1) with the runbook flags and the flag-model flags of project shop. */
export async function webService(env: Record<string, string> = {}): Promise<Service> {
  const store = new MemoryStore();
  const service = await startService({ store, env: { VEXIL_SSE_HEARTBEAT_MS: '1000', ...env } });
  await seedFlags(service.admin);
  await seedModelFlags(store);
  return service;
}

/** A call to the service's admin API with the test admin token. */
export async function admin(service: Service, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${service.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

/** A read token for `project`, whose evaluation is then closed to callers without one. */
export async function closeProject(service: Service, project: string): Promise<string> {
  await admin(service, 'PUT', `/projects/${project}/settings`, { publicEvaluation: false });
  const created = (await admin(service, 'POST', '/tokens', { scope: 'read', projects: [project], owner: 'web' })) as {
    secret: string;
  };
  return created.secret;
}

/** Adds a revision through the service's admin API (what `vexil add-revision` does). */
export async function addRevision(service: Service, ref: FlagRef, revision: RevisionInput): Promise<void> {
  await service.admin.addRevision(ref, revision);
}

/** The service's bulk OFREP answer for a context, by key. */
export async function ofrepBulk(service: Service, context: Record<string, unknown>): Promise<Map<string, unknown>> {
  const response = await fetch(`${service.url}/ofrep/v1/evaluate/flags`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ context: { ...context, project_name: 'shop' } }),
  });
  const body = (await response.json()) as { flags?: { key: string }[]; errorCode?: string };
  if (body.flags === undefined) return new Map([['*', body.errorCode]]);
  return new Map(body.flags.map((flag) => [flag.key, flag]));
}

/** Resolves with the client's next `event`, or rejects after `ms`. */
export function next<K extends keyof VexilClientEvents>(
  client: VexilClient,
  event: K,
  ms = 5000,
): Promise<VexilClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${String(event)} event within ${ms} ms (lastError: ${client.lastError?.message})`));
    }, ms);
    const off = client.on(event, (payload) => {
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

/** Waits until `check` holds (polling), failing after `ms` with `what`. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
