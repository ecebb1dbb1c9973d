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
// A second flag targets evaluation-context attributes: three attribute rules and a rule on a
// segment (Vexil: `evaluateRevisionContext` with the segment, and `FeatureFlagClient`
// with a snapshot holding both) against flagd-core on the equivalent JSONLogic (`if`
// chain, the segment as a `$ref` evaluator), on the same contexts; the script first
// checks that both answer alike for every context.
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
import { compileSegment, evaluateRevision, evaluateRevisionContext } from '../packages/core/dist/index.js';
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

// The targeted flag: three rules on attributes, then one on a segment; else off.
const TARGETED = 'checkout_targeted';
const SEGMENT = 'beta_testers';
const COUNTRIES = ['de', 'fr', 'nl', 'us', 'gb', 'jp', 'br', 'in'];
const PLANS = ['free', 'pro', 'team'];
const DOMAINS = ['example.com', 'mail.test', 'corp.test', 'shop.test'];
const VERSIONS = ['1.9.4', '2.2.0', '2.3.0', '2.10.1', '3.0.0-beta.2'];
const TIERS = ['bronze', 'silver', 'gold', 'platinum'];
const EU = ['de', 'fr', 'nl', 'be', 'at'];

const targetedRevision = {
  Name: TARGETED,
  Type: 'FEATURE',
  FormatVersion: 2,
  ControlValue: false,
  Treatments: [],
  Salt: TARGETED,
  Variants: { on: true, off: false },
  Rules: [
    {
      Conditions: [
        { Attribute: 'country', Operator: 'in', Values: EU },
        { Attribute: 'plan', Operator: 'equals', Values: ['pro'] },
      ],
      Value: true,
    },
    { Conditions: [{ Attribute: 'email', Operator: 'ends_with', Values: ['@example.com'] }], Value: true },
    {
      Conditions: [
        { Attribute: 'app_version', Operator: 'semver_gte', Values: ['2.3.0'] },
        { Attribute: 'age', Operator: 'gte', Values: [21] },
      ],
      Value: true,
    },
    { Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: [SEGMENT] }], Value: true },
  ],
};
const segmentRevision = {
  Name: SEGMENT,
  Type: 'SEGMENT',
  FormatVersion: 2,
  Conditions: [
    { Attribute: 'beta', Operator: 'equals', Values: [true] },
    { Attribute: 'tier', Operator: 'in', Values: ['gold', 'platinum'] },
  ],
};
const compiledSegment = compileSegment(segmentRevision);
const segments = (name) => (name === SEGMENT ? compiledSegment : undefined);

const flagdTargeted = {
  state: 'ENABLED',
  variants: { on: true, off: false },
  defaultVariant: 'off',
  targeting: {
    if: [
      { and: [{ in: [{ var: 'country' }, EU] }, { '==': [{ var: 'plan' }, 'pro'] }] },
      'on',
      { ends_with: [{ var: 'email' }, '@example.com'] },
      'on',
      { and: [{ sem_ver: [{ var: 'app_version' }, '>=', '2.3.0'] }, { '>=': [{ var: 'age' }, 21] }] },
      'on',
      { $ref: SEGMENT },
      'on',
      null,
    ],
  },
};
const flagdEvaluators = {
  [SEGMENT]: { and: [{ '==': [{ var: 'beta' }, true] }, { in: [{ var: 'tier' }, ['gold', 'platinum']] }] },
};

/** Contexts like a service's requests: ids and attributes scattered over every rule and the fall-through. */
function makeContexts(prefix, count) {
  return Array.from({ length: count }, (_, i) => {
    const h = (i * 2654435761) % 4294967296;
    return {
      targetingKey: `${prefix}${h.toString(36)}-${i}`,
      country: COUNTRIES[h % COUNTRIES.length],
      plan: PLANS[(h >>> 3) % PLANS.length],
      email: `${prefix}${i}@${DOMAINS[(h >>> 5) % DOMAINS.length]}`,
      app_version: VERSIONS[(h >>> 7) % VERSIONS.length],
      age: 14 + ((h >>> 9) % 60),
      beta: ((h >>> 11) & 1) === 1,
      tier: TIERS[(h >>> 12) % TIERS.length],
    };
  });
}
const warmContexts = makeContexts('user-', ID_COUNT);
const coldContexts = (round) => makeContexts(`fresh${round}-`, ID_COUNT);

const snapshot = {
  project: 'bench',
  version: 'bench',
  flags: [{ name: FLAG, flagType: 'feature', wtime: '2026-01-01 00:00:00.000000', revision }],
};
const targetedSnapshot = {
  project: 'bench',
  version: 'bench',
  flags: [
    { name: TARGETED, flagType: 'feature', wtime: '2026-01-01 00:00:00.000000', revision: targetedRevision },
    { name: SEGMENT, flagType: 'segment', wtime: '2026-01-01 00:00:00.000000', revision: segmentRevision },
  ],
};

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

const targetedClient = new FeatureFlagClient({
  projectName: 'bench',
  offline: true,
  bootstrap: targetedSnapshot,
  reportEvaluations: false,
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
const flagdTargetedCore = new FlagdCore();
flagdTargetedCore.setConfigurations(
  JSON.stringify({ flags: { [TARGETED]: flagdTargeted }, $evaluators: flagdEvaluators }),
);

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

// The targeted flag's contenders: each loop takes contexts instead of ids.
const targetedVexil = [
  {
    name: 'Vexil evaluateRevisionContext',
    loop(contexts, start, end) {
      let on = 0;
      for (let i = start; i < end; i++)
        if (evaluateRevisionContext(targetedRevision, contexts[i], segments).value) on++;
      return on;
    },
  },
  {
    name: 'Vexil getFlagBoolean(context), reporting off',
    loop(contexts, start, end) {
      let on = 0;
      for (let i = start; i < end; i++) if (targetedClient.getFlagBoolean(TARGETED, contexts[i], false)) on++;
      return on;
    },
  },
];
const targetedFlagd = {
  name: 'flagd-core resolveBooleanEvaluation',
  loop(contexts, start, end) {
    let on = 0;
    for (let i = start; i < end; i++) {
      if (flagdTargetedCore.resolveBooleanEvaluation(TARGETED, false, contexts[i]).value) on++;
    }
    return on;
  },
};
const targetedContenders = [...targetedVexil, targetedFlagd];

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

/**
 * Runs every contender on the warm inputs (twice) and on fresh cold inputs each round,
 * taking turns in a rotating order; answers each contender's medians.
 */
async function measure(group, warmInputs, coldInputs) {
  // Warm-up: JIT every contender on both kinds of inputs.
  for (const contender of group) {
    await pass(contender, warmInputs, 1);
    await pass(contender, coldInputs(-1), 1);
  }
  const results = new Map(group.map((c) => [c.name, { warm: [], cold: [], share: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = group.map((_, i) => group[(i + round) % group.length]);
    for (const contender of order) {
      const result = results.get(contender.name);
      const warm = await pass(contender, warmInputs, 2);
      const fresh = await pass(contender, coldInputs(round), 1);
      result.warm.push(warm.opsPerSecond);
      result.cold.push(fresh.opsPerSecond);
      result.share.push(fresh.share);
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS}\r`);
  }
  return new Map(
    group.map((c) => {
      const r = results.get(c.name);
      return [c.name, { warm: median(r.warm), cold: median(r.cold), share: median(r.share) }];
    }),
  );
}

/** The results as a markdown table; Vexil rows show their ratio to `best`. */
function printTable(medians, group, vexilRows, best, bestName, coldName) {
  console.log(`| contender | warm | × ${bestName} | cold | × ${bestName} | on (${coldName}) |`);
  console.log('|---|---|---|---|---|---|');
  for (const c of group) {
    const m = medians.get(c.name);
    const ratio = (mode) => (vexilRows.includes(c) ? `${(m[mode] / best[mode]).toFixed(2)}×` : '');
    console.log(
      `| ${c.name} | ${format(m.warm)} | ${ratio('warm')} | ${format(m.cold)} | ${ratio('cold')} | ${(m.share * 100).toFixed(1)} % |`,
    );
  }
}

/** Whether every Vexil row is at least twice `best`, warm and cold. */
function meets(medians, vexilRows, best) {
  return vexilRows.every((c) => {
    const m = medians.get(c.name);
    return m.warm >= 2 * best.warm && m.cold >= 2 * best.cold;
  });
}

async function main() {
  await new Promise((resolve) => unleash.once('ready', resolve));
  // The same flag everywhere: every library answers true for every listed id.
  for (const contender of contenders) {
    const on = contender.loop(overrides, 0, overrides.length);
    if (on !== overrides.length) throw new Error(`${contender.name}: ${on} of ${overrides.length} override ids on`);
  }
  // The same targeted flag everywhere: Vexil and flagd answer alike for every context.
  for (const context of [...warmContexts, ...coldContexts(-2)]) {
    const expected = flagdTargetedCore.resolveBooleanEvaluation(TARGETED, false, context).value;
    for (const contender of targetedVexil) {
      if (contender.loop([context], 0, 1) !== (expected ? 1 : 0)) {
        throw new Error(`${contender.name} and flagd differ on ${JSON.stringify(context)}`);
      }
    }
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

  const rollout = await measure(contenders, warmIds, coldIds);
  const fastest = (mode) => Math.max(...competitors.map((c) => rollout.get(c.name)[mode]));
  const best = { warm: fastest('warm'), cold: fastest('cold') };
  printTable(rollout, contenders, vexil, best, 'fastest other', 'cold ids');
  const stats = clientOn.reportStats;
  console.log(
    `\nreporting on: ${stats.sent} evaluations sent in ${reportRequests} requests, ${stats.dropped} dropped, ${stats.queued} queued`,
  );
  const goal = meets(rollout, vexil, best);
  console.log(
    `goal (every Vexil row at least 2× the fastest other library, warm and cold): ${goal ? 'met' : 'NOT met'}`,
  );

  console.log(
    `\n${TARGETED}: three attribute rules and a segment rule; ${ID_COUNT} contexts (warm: the same, looped twice; cold: fresh per round)\n`,
  );
  const targeted = await measure(targetedContenders, warmContexts, coldContexts);
  const flagdBest = { warm: targeted.get(targetedFlagd.name).warm, cold: targeted.get(targetedFlagd.name).cold };
  printTable(targeted, targetedContenders, targetedVexil, flagdBest, 'flagd-core', 'cold contexts');
  const targetedGoal = meets(targeted, targetedVexil, flagdBest);
  console.log(`goal (every Vexil row at least 2× flagd-core, warm and cold): ${targetedGoal ? 'met' : 'NOT met'}`);

  await clientOff.close();
  await targetedClient.close();
  await clientOn.close();
  unleash.destroy();
  gbClient.destroy();
  gb.destroy();
}

await main();
