import { type FlagRef, TimeoutError, UnavailableError } from '@vexil/core';
import { MemoryStore, type NewRow } from '@vexil/store';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { HIDDEN_ADDRESS, storeAddressRedactor } from '../src/store-address.js';
import { checkout, flagUrl, seedFlags } from './service-harness.js';
import { buildTestApp } from './support/test-token.js';

/** A memory store that fails, once `failure` is set, the way a remote engine's driver does. */
class DownStore extends MemoryStore {
  failure: (() => Error) | undefined;

  private check(): void {
    if (this.failure !== undefined) throw this.failure();
  }
  override async latest(...args: Parameters<MemoryStore['latest']>) {
    this.check();
    return super.latest(...args);
  }
  override async get(...args: Parameters<MemoryStore['get']>) {
    this.check();
    return super.get(...args);
  }
  override async history(...args: Parameters<MemoryStore['history']>) {
    this.check();
    return super.history(...args);
  }
  override async listFlags(project: string) {
    this.check();
    return super.listFlags(project);
  }
  override async listProjects() {
    this.check();
    return super.listProjects();
  }
  override async append(rows: readonly NewRow[]) {
    this.check();
    return super.append(rows);
  }
  override async ping() {
    this.check();
    return super.ping();
  }
}

/** Each engine's failure in its own driver's words, and what of it must not reach a client. */
const FAILURES = [
  {
    store: 'postgres://vexil:s3cret@db.internal.example:5432/flags',
    failure: () =>
      new UnavailableError(
        'PostgreSQL store postgres://vexil:***@db.internal.example:5432/flags is unavailable: connect ECONNREFUSED 10.20.30.40:5432',
        {
          hint: 'check that VEXIL_STORE names a reachable PostgreSQL database (postgres://USER:PASSWORD@HOST:PORT/DATABASE)',
        },
      ),
    secrets: ['db.internal.example', '10.20.30.40', '5432', 's3cret'],
  },
  {
    store: 'postgres://vexil@pg:6432/flags',
    failure: () =>
      new TimeoutError(
        'PostgreSQL store postgres://vexil@pg:6432/flags did not answer in time: getaddrinfo EAI_AGAIN pg',
      ),
    secrets: ['pg:6432', 'EAI_AGAIN pg', '6432'],
  },
  {
    store: 'bigtable',
    emulator: 'bigtable-emulator:8086',
    failure: () =>
      new UnavailableError(
        'Bigtable is unavailable (table vexil_feature_flag_bigtable): 14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED [fd00::17]:8086 (bigtable-emulator:8086)',
      ),
    secrets: ['fd00::17', '8086', 'bigtable-emulator'],
  },
  {
    store: 'sqlite:/srv/vexil/flags.db',
    failure: () => new UnavailableError('SQLite store /srv/vexil/flags.db is unavailable: SQLITE_CANTOPEN'),
    secrets: ['/srv/vexil', 'flags.db'],
  },
];

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const json = { 'content-type': 'application/json' };
const context = { targetingKey: 'u', project_name: 'shop' };

/** Every route that reads or writes the store, as a client calls it. */
const REQUESTS: readonly (InjectOptions & { method: string; url: string })[] = [
  { method: 'GET', url: flagUrl(checkout, 'u') },
  { method: 'POST', url: '/ofrep/v1/evaluate/flags/new_checkout', headers: json, payload: { context } },
  { method: 'POST', url: '/ofrep/v1/evaluate/flags', headers: json, payload: { context } },
  { method: 'GET', url: '/sdk/v1/projects/shop/snapshot' },
  { method: 'GET', url: '/sdk/v1/projects/shop/stream' },
  { method: 'GET', url: '/admin/v1/projects/shop/flags' },
  { method: 'GET', url: '/admin/v1/projects/shop/flags/feature/new_checkout/revisions' },
  { method: 'POST', url: '/admin/v1/projects/shop/flags', headers: json, payload: { name: 'x', type: 'feature' } },
  {
    method: 'POST',
    url: '/admin/v1/projects/shop/flags/feature/new_checkout/revisions',
    headers: json,
    payload: { ControlValue: true, Treatments: [] },
  },
  { method: 'GET', url: '/readyz' },
];

describe('a store that fails', () => {
  it.each(FAILURES)('never shows where the store is ($store) in any answer; the log does', async (fault) => {
    const store = new DownStore();
    await seedFlags(new FlagAdmin(store));
    const lines: string[] = [];
    app = await buildTestApp({
      config: loadConfig({
        VEXIL_STORE: fault.store,
        LOG_LEVEL: 'error',
        ...(fault.emulator === undefined ? {} : { BIGTABLE_EMULATOR_HOST: fault.emulator }),
      }),
      store,
      defaultMetrics: false,
      logger: true,
      logStream: { write: (line) => lines.push(line) },
    });
    store.failure = fault.failure;
    for (const request of REQUESTS) {
      const response = await app.inject(request);
      const where = `${request.method} ${request.url}`;
      // Bulk OFREP answers 200 with each flag's error, or fails as a whole: either way, no address.
      if (!request.url.startsWith('/ofrep/v1/evaluate/flags'))
        expect(response.statusCode, where).toBeGreaterThanOrEqual(500);
      for (const secret of fault.secrets) expect(response.body, where).not.toContain(secret);
    }
    const first = await app.inject(flagUrl(checkout, 'u'));
    expect(first.json().message).toContain(HIDDEN_ADDRESS);
    // The operator still finds the cause, address included, in the log.
    expect(lines.join('')).toContain(fault.secrets[0]);
  });
});

describe('storeAddressRedactor', () => {
  it('hides URLs, addresses with ports and the configured host and path; leaves times and names alone', () => {
    const redact = storeAddressRedactor({ store: 'postgres://u:p@flagdb:5432/vexil', bigtableEmulatorHost: undefined });
    expect(redact('connect ECONNREFUSED 10.0.0.1:5432 and ::1:5432 to flagdb')).toBe(
      `connect ECONNREFUSED ${HIDDEN_ADDRESS} and ${HIDDEN_ADDRESS} to ${HIDDEN_ADDRESS}`,
    );
    expect(redact('getaddrinfo ENOTFOUND db.example.com:5432 via https://proxy.example/x')).toBe(
      `getaddrinfo ENOTFOUND ${HIDDEN_ADDRESS} via ${HIDDEN_ADDRESS}`,
    );
    const kept =
      'the newest revision of feature flag flagdb_switch (2024-01-02 12:30:45.123456) does not validate at Treatments[0].Value';
    expect(redact(kept)).toBe(kept);
    const ref: FlagRef = { project: 'shop', flagType: 'feature', name: 'new_checkout' };
    expect(redact(`Timeout error occurred for : reading ${ref.project}/${ref.flagType}/${ref.name}`)).toBe(
      'Timeout error occurred for : reading shop/feature/new_checkout',
    );
  });
});
