// Per-engine benchmark: the newest-revision read with 1, 100 and 10,000 revisions of a
// flag, and /get-feature-flag throughput with the flag-data cache on and off, on
// SQLite, PostgreSQL (a throwaway server) and Bigtable (Google's emulator).
//
//   npm run bench:stores            (builds, then runs this file)
//   node bench/stores.mjs [--reads N] [--duration S] [--connections C] [--engines sqlite,postgres,bigtable]
//
// Reads are timed one at a time (median and p95 of N reads after a warm-up); for
// Bigtable the rows read per `latest` are counted too, which is what "read in time
// independent of the history" means there. Throughput runs `vexil serve` as a child
// process on each engine (evaluation log on, as deployed) and loads it with
// autocannon, 50 connections, instance ids drawn from 50,000.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BigtableStore, PostgresStore, SqliteStore } from '@vexil/store';
import { startBigtableEmulator, startPostgres } from '@vexil/store/testing';
import autocannon from 'autocannon';
import { startVexilServe } from './vexil-serve.mjs';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}
const READS = Number(option('reads', 300));
const DURATION = Number(option('duration', 8));
const CONNECTIONS = Number(option('connections', 50));
const ENGINES = option('engines', 'sqlite,postgres,bigtable').split(',');
const HISTORIES = [1, 100, 10_000];
const BIGTABLE = { projectId: 'bench', instanceId: 'bench', flagTableId: 'bench_flags', logTableId: 'bench_log' };

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const us = (ns) => `${(Number(ns) / 1000).toFixed(0)} µs`;

function revision(name, i) {
  return {
    kind: 'REVISION',
    ref: { project: 'bench', flagType: 'feature', name },
    fields: {
      Name: name,
      Type: 'FEATURE',
      FormatVersion: 1,
      ControlValue: false,
      Comment: `revision ${i}`,
      Treatments: [{ OverrideList: ['vip'], PercentRollout: 40, Value: true }],
      Salt: name,
    },
  };
}

async function fill(store, name, count) {
  await store.append([
    { kind: 'FLAG', ref: { project: 'bench', flagType: 'feature', name }, fields: { Name: name, Type: 'FEATURE' } },
  ]);
  for (let done = 0; done < count; done += 500) {
    const batch = [];
    for (let i = done; i < Math.min(count, done + 500); i++) batch.push(revision(name, i));
    await store.append(batch);
  }
}

async function timeReads(store, name) {
  const ref = { project: 'bench', flagType: 'feature', name };
  for (let i = 0; i < 20; i++) await store.latest('REVISION', ref);
  const before = store.readStats?.rowsRead;
  const times = [];
  for (let i = 0; i < READS; i++) {
    const start = process.hrtime.bigint();
    const row = await store.latest('REVISION', ref);
    times.push(process.hrtime.bigint() - start);
    if (!row) throw new Error(`no revision for ${name}`);
  }
  times.sort((a, b) => (a < b ? -1 : 1));
  const rowsPerRead = before === undefined ? undefined : (store.readStats.rowsRead - before) / READS;
  return { median: quantile(times, 0.5), p95: quantile(times, 0.95), rowsPerRead };
}

async function load(url) {
  const ids = Array.from({ length: 50_000 }, (_, i) => `user-${i}`);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [
      {
        setupRequest: (request) => {
          const id = ids[Math.floor(Math.random() * ids.length)];
          request.path = `/get-feature-flag?project_name=bench&instance_id=${id}&flag_type=feature&flag_name=served`;
          return request;
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors,
  };
}

async function engineSetup(engine) {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(os.tmpdir(), 'vexil-bench-'));
    const path = join(dir, 'bench.db');
    return {
      open: () => SqliteStore.open(path),
      env: { VEXIL_STORE: `sqlite:${path}` },
      stop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (engine === 'postgres') {
    const server = await startPostgres();
    return { open: () => PostgresStore.open(server.url), env: { VEXIL_STORE: server.url }, stop: () => server.stop() };
  }
  if (engine === 'bigtable') {
    const emulator = await startBigtableEmulator();
    const options = { ...BIGTABLE, emulatorHost: emulator.host };
    const init = new BigtableStore(options);
    await init.init();
    await init.close();
    return {
      open: () => BigtableStore.open(options),
      env: {
        VEXIL_STORE: 'bigtable',
        BIGTABLE_EMULATOR_HOST: emulator.host,
        PROJECT_ID: BIGTABLE.projectId,
        INSTANCE_ID: BIGTABLE.instanceId,
        BT_TABLE_ID: BIGTABLE.flagTableId,
        FF_LOG_TABLE_ID: BIGTABLE.logTableId,
      },
      stop: () => emulator.stop(),
    };
  }
  throw new Error(`unknown engine ${engine}`);
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `# Vexil store benchmark — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${cpu}, node ${process.version}`,
);
console.log(`reads: ${READS} per case; load: ${CONNECTIONS} connections × ${DURATION} s per case\n`);

const readRows = [];
const loadRows = [];
for (const engine of ENGINES) {
  const setup = await engineSetup(engine);
  try {
    const store = await setup.open();
    for (const n of HISTORIES) await fill(store, `history_${n}`, n);
    await fill(store, 'served', 1);
    for (const n of HISTORIES) {
      const r = await timeReads(store, `history_${n}`);
      readRows.push([
        engine,
        n.toLocaleString('en'),
        us(r.median),
        us(r.p95),
        r.rowsPerRead === undefined ? '-' : r.rowsPerRead.toFixed(1),
      ]);
    }
    await store.close();
    for (const cache of ['on', 'off']) {
      const service = await startVexilServe({
        ...setup.env,
        FEATURE_FLAG_CACHE_TTL_MINUTES: cache === 'on' ? '5' : '0',
      });
      try {
        const r = await load(service.url);
        loadRows.push([
          engine,
          cache,
          Math.round(r.rps).toLocaleString('en'),
          `${r.p50} ms`,
          `${r.p99} ms`,
          String(r.non2xx),
        ]);
      } finally {
        service.child.kill('SIGTERM');
        await new Promise((resolve) => service.child.on('exit', resolve));
      }
    }
  } finally {
    await setup.stop();
  }
}

const table = (header, rows) =>
  [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
console.log('## Newest-revision read (`store.latest`)\n');
console.log(table(['engine', 'revisions', 'median', 'p95', 'rows read per call'], readRows));
console.log('\n## /get-feature-flag throughput (`vexil serve`, evaluation log on)\n');
console.log(table(['engine', 'flag cache', 'requests/s', 'p50', 'p99', 'non-2xx + errors'], loadRows));
