import { it, expect, beforeAll, afterAll } from 'vitest';
import type { FlagChange, NewRow } from '../src/index.js';
import { PostgresStore } from '../src/postgres-store.js';
import { type PostgresServer, startPostgres } from './support/postgres-server.js';
let server: PostgresServer;
beforeAll(async () => { server = await startPostgres(); });
afterAll(async () => { await server?.stop(); });
it('race', async () => {
  let fails = 0;
  for (let round = 0; round < 40; round++) {
    const url = await server.createDatabase();
    const store = await PostgresStore.open(url);
    const writer = await PostgresStore.open(url);
    const seen: FlagChange[] = [];
    const errors: unknown[] = [];
    const stop = store.watch((c) => seen.push(...c), { onError: (e) => errors.push(e) });
    const batch: NewRow[] = [];
    for (let i = 0; i < 300; i++) batch.push({ kind: 'REVISION', ref: { project: 'p', flagType: 'feature', name: `f${i % 7}` }, fields: { i } });
    const rows = await writer.append(batch);
    const deadline = Date.now() + 3000;
    while (seen.length < rows.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (seen.length !== rows.length) { fails++; console.log('round', round, 'seen', seen.length, 'errors', errors); }
    await stop(); await store.close(); await writer.close();
  }
  expect(fails).toBe(0);
});
