// In-process flag evaluations per second: Vexil beside GrowthBook, Unleash and flagd,
// on the same flag (a 40 % rollout plus an override list of 100 ids) and the same ids.
// From the repository root:  npm run bench:in-process   (builds, then runs this file)
//
// Each library evaluates its idiomatic form of the flag, set up offline (no network):
//   - Vexil: `evaluateRevision(revision, id)` on a plain revision object (@vexil/core), and
//     `FeatureFlagClient.getFlagBoolean(name, id, false)` from a bootstrap snapshot
//     (@vexil/sdk), with evaluation reporting off and on (on: reports are queued, batched,
//     serialized and handed to a fetch that answers 202 at once — the SDK's whole cost,
//     without a network);
//   - GrowthBook: a force rule with `condition: { id: { $in: overrides } }`, then a
//     force rule with `coverage: 0.4` hashed on `id`; `isOn` on one `GrowthBook`
//     instance after `setAttributes({ id })`, and on a `GrowthBookClient` (its
//     multi-user, server-side API) with the user context passed to `isOn`;
//   - Unleash (unleash-client): strategies `userWithId` (the override list) and
//     `flexibleRollout` (40 %, stickiness userId), bootstrapped, refreshInterval 0,
//     metrics off; `isEnabled(name, { userId })`;
//   - flagd (@openfeature/flagd-core): targeting `if in(targetingKey, overrides) then
//     on else fractional(on 40, off 60)`; `resolveBooleanEvaluation(name, false, { targetingKey })`.
//
// Warm: the same 50,000 ids each round (looped twice), so strings and caches are hot.
// Cold: 50,000 ids never seen before, made fresh for every round and library (the same
// ids for every library, as new strings, made before the clock starts). Libraries take turns within each round (the order rotates), so drift in a
// shared machine's speed hits all of them; the result is the median round. Every loop
// yields to the event loop each 1,000 evaluations (as a server would), which lets the
// Vexil reporter flush; the yields are timed for everyone.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { GrowthBook, GrowthBookClient } from '@growthbook/growthbook';
import { FlagdCore } from '@openfeature/flagd-core';
import unleashClient from 'unleash-client';
import { evaluateRevision } from '../packages/core/dist/index.js';
import { FeatureFlagClient } from '../packages/sdk/dist/index.js';

const { Unleash, InMemStorageProvider } = unleashClient;

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const ID_COUNT = 50_000;
const CHUNK = 1000;
const FLAG = 'new_checkout';
const PERCENT = 40;

// ---------------------------------------------------------------- the ids and the flag

/** Ids like a service's user ids: a prefix and a number, scattered. */
function makeIds(prefix, count) {
  return Array.from({ length: count }, (_, i) => `${prefix}${((i * 2654435761) % 4294967296).toString(36)}-${i}`);
}

const warmIds = makeIds('user-', ID_COUNT);
const overrides = warmIds.filter((_, i) => i % 500 === 7); // 100 ids spread over the set
/** Round `round`'s fresh ids: the same text for every library, but new strings for each (a string caches its hash once hashed). */
const coldIds = (round) => makeIds(`fresh${round}-`, ID_COUNT);

// Vexil: a revision as `vexil` writes it (salted with the flag name).
const revision = {
  Name: FLAG,
  Type: 'FEATURE',
  FormatVersion: 1,
  ControlValue: false,
  Treatments: [{ OverrideList: overrides, PercentRollout: PERCENT, Value: true }],
  Salt: FLAG,
};
const snapshot = {
  project: 'bench',
  version: 'bench',
  flags: [{ name: FLAG, flagType: 'feature', wtime: '2026-01-01 00:00:00.000000', revision }],
};

const growthbookFeatures = {
  [FLAG]: {
    defaultValue: false,
    rules: [
      { condition: { id: { $in: overrides } }, force: true },
      { force: true, coverage: PERCENT / 100, hashAttribute: 'id' },
    ],
  },
};

const unleashFeatures = [
  {
    name: FLAG,
    enabled: true,
    strategies: [
      { name: 'userWithId', parameters: { userIds: overrides.join(',') } },
      { name: 'flexibleRollout', parameters: { rollout: String(PERCENT), stickiness: 'userId', groupId: FLAG } },
    ],
  },
];

const flagdConfig = JSON.stringify({
  flags: {
    [FLAG]: {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: {
        if: [
          { in: [{ var: 'targetingKey' }, overrides] },
          'on',
          {
            fractional: [
              ['on', PERCENT],
              ['off', 100 - PERCENT],
            ],
          },
        ],
      },
    },
  },
});

// ---------------------------------------------------------------- the contenders

// Each loop is written out, not made by a shared factory, so every call site stays
// monomorphic for its own library. Each returns how many ids were on.

const clientOff = new FeatureFlagClient({
  projectName: 'bench',
  offline: true,
  bootstrap: snapshot,
  reportEvaluations: false,
});
let reportRequests = 0;
const clientOn = new FeatureFlagClient({
  projectName: 'bench',
  offline: true,
  bootstrap: snapshot,
  baseUrl: 'http://127.0.0.1:9',
  fetch: async () => {
    reportRequests++;
    return new Response(null, { status: 202 });
  },
});

const gb = new GrowthBook({ features: growthbookFeatures });
const gbClient = new GrowthBookClient({});
gbClient.initSync({ payload: { features: growthbookFeatures } });

const unleash = new Unleash({
  appName: 'vexil-bench',
  url: 'http://127.0.0.1:9/api/',
  refreshInterval: 0,
  disableMetrics: true,
  storageProvider: new InMemStorageProvider(),
  bootstrap: { data: unleashFeatures },
  skipInstanceCountWarning: true,
});
unleash.on('error', () => undefined);
unleash.on('warn', () => undefined);

const flagd = new FlagdCore();
flagd.setConfigurations(flagdConfig);

const vexil = [
  {
    name: 'Vexil evaluateRevision',
    loop(ids, start, end) {
      let on = 0;
      for (let i = start; i < end; i++) if (evaluateRevision(revision, ids[i]).value) on++;
      return on;
    },
  },
  {
    name: 'Vexil getFlagBoolean, reporting off',
    loop(ids, start, end) {
      let on = 0;
      for (let i = start; i < end; i++) if (clientOff.getFlagBoolean(FLAG, ids[i], false)) on++;
      return on;
    },
  },
  {
    name: 'Vexil getFlagBoolean, reporting on',
    loop(ids, start, end) {
      let on = 0;
      for (let i = start; i < end; i++) if (clientOn.getFlagBoolean(FLAG, ids[i], false)) on++;
      return on;
    },
  },
];

const competitors = [
  {
    name: 'GrowthBook setAttributes + isOn',
    loop(ids, start, end) {
      let on = 0;
      for (let i = start; i < end; i++) {
        gb.setAttributes({ id: ids[i] });
        if (gb.isOn(FLAG)) on++;
      }
      return on;
    },
  },
  {
    name: 'GrowthBookClient isOn(user)',
    loop(ids, start, end) {
      let on = 0;
      for (let i = start; i < end; i++) if (gbClient.isOn(FLAG, { attributes: { id: ids[i] } })) on++;
      return on;
    },
  },
  {
    name: 'Unleash isEnabled',
    loop(ids, start, end) {
      let on = 0;
      for (let i = start; i < end; i++) if (unleash.isEnabled(FLAG, { userId: ids[i] })) on++;
      return on;
    },
  },
  {
    name: 'flagd-core resolveBooleanEvaluation',
    loop(ids, start, end) {
      let on = 0;
      for (let i = start; i < end; i++) {
        if (flagd.resolveBooleanEvaluation(FLAG, false, { targetingKey: ids[i] }).value) on++;
      }
      return on;
    },
  },
];

const contenders = [...vexil, ...competitors];

// ---------------------------------------------------------------- running

/** Evaluates `ids` `times` times, yielding every CHUNK; answers evaluations per second and the share on. */
async function pass(contender, ids, times) {
  let on = 0;
  const started = process.hrtime.bigint();
  for (let t = 0; t < times; t++) {
    for (let start = 0; start < ids.length; start += CHUNK) {
      on += contender.loop(ids, start, Math.min(ids.length, start + CHUNK));
      await yieldNow();
    }
  }
  const ns = Number(process.hrtime.bigint() - started);
  return { opsPerSecond: (ids.length * times * 1e9) / ns, share: on / (ids.length * times) };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const format = (ops) => (ops >= 1e6 ? `${(ops / 1e6).toFixed(2)} M/s` : `${(ops / 1e3).toFixed(0)} k/s`);

function versionOf(name) {
  try {
    return JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
  } catch {
    return '?';
  }
}

async function main() {
  await new Promise((resolve) => unleash.once('ready', resolve));
  // The same flag everywhere: every library answers true for every listed id.
  for (const contender of contenders) {
    const on = contender.loop(overrides, 0, overrides.length);
    if (on !== overrides.length) throw new Error(`${contender.name}: ${on} of ${overrides.length} override ids on`);
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let nproc = String(cpus().length);
  try {
    nproc = execSync('nproc', { encoding: 'utf8' }).trim();
  } catch {}
  console.log(`node ${process.version}, ${nproc} CPUs (${cpu}), ${new Date().toISOString().slice(0, 10)}`);
  console.log(
    `versions: @growthbook/growthbook ${versionOf('@growthbook/growthbook')}, unleash-client ${versionOf('unleash-client')}, @openfeature/flagd-core ${versionOf('@openfeature/flagd-core')}`,
  );
  console.log(
    `${ID_COUNT} ids; warm: the same ids, looped twice per round; cold: fresh ids per round; median of ${ROUNDS} rounds\n`,
  );

  // Warm-up: JIT every contender on both kinds of ids.
  for (const contender of contenders) {
    await pass(contender, warmIds, 1);
    await pass(contender, coldIds(-1), 1);
  }

  const results = new Map(contenders.map((c) => [c.name, { warm: [], cold: [], share: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
    for (const contender of order) {
      const result = results.get(contender.name);
      const warm = await pass(contender, warmIds, 2);
      const fresh = await pass(contender, coldIds(round), 1);
      result.warm.push(warm.opsPerSecond);
      result.cold.push(fresh.opsPerSecond);
      result.share.push(fresh.share);
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS}\r`);
  }

  const medians = new Map(
    contenders.map((c) => {
      const r = results.get(c.name);
      return [c.name, { warm: median(r.warm), cold: median(r.cold), share: median(r.share) }];
    }),
  );
  const fastest = (mode) => Math.max(...competitors.map((c) => medians.get(c.name)[mode]));
  const best = { warm: fastest('warm'), cold: fastest('cold') };
  const rows = contenders.map((c) => {
    const m = medians.get(c.name);
    const isVexil = vexil.includes(c);
    const ratio = (mode) => (isVexil ? `${(m[mode] / best[mode]).toFixed(2)}×` : '');
    return `| ${c.name} | ${format(m.warm)} | ${ratio('warm')} | ${format(m.cold)} | ${ratio('cold')} | ${(m.share * 100).toFixed(1)} % |`;
  });
  console.log('| contender | warm | × fastest other | cold | × fastest other | on (cold ids) |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  const stats = clientOn.reportStats;
  console.log(
    `\nreporting on: ${stats.sent} evaluations sent in ${reportRequests} requests, ${stats.dropped} dropped, ${stats.queued} queued`,
  );
  const goal = vexil.every((c) => {
    const m = medians.get(c.name);
    return m.warm >= 2 * best.warm && m.cold >= 2 * best.cold;
  });
  console.log(
    `goal (every Vexil row at least 2× the fastest other library, warm and cold): ${goal ? 'met' : 'NOT met'}`,
  );

  await clientOff.close();
  await clientOn.close();
  unleash.destroy();
  gbClient.destroy();
  gb.destroy();
}

await main();
