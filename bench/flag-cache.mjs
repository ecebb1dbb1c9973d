// The per-request cost of a flag-cache hit (FlagEvaluator.evaluate) in this checkout against
// another checkout of the repository, both built: `node bench/flag-cache.mjs <other checkout>`.
// Rounds alternate between the two, and the medians are compared: the machine may be shared.
import { resolve } from 'node:path';

const other = process.argv[2];
if (other === undefined) {
  console.error('usage: node bench/flag-cache.mjs <path of another built checkout, e.g. a git worktree of main>');
  process.exit(2);
}
const checkouts = { this: resolve(import.meta.dirname, '..'), other: resolve(other) };
const ref = { project: 'bench', flagType: 'feature', name: 'bench_checkout' };
const ROUNDS = 9;
const EVALUATIONS = 1_000_000;

async function evaluatorIn(dir) {
  const { MemoryStore } = await import(`${dir}/packages/store/dist/index.js`);
  const { FlagAdmin } = await import(`${dir}/packages/server/dist/flag-admin.js`);
  const { FlagEvaluator } = await import(`${dir}/packages/server/dist/flag-evaluator.js`);
  const store = new MemoryStore();
  const admin = new FlagAdmin(store);
  await admin.addFlag(ref, {});
  await admin.addRevision(ref, {
    ControlValue: false,
    Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 40, Value: true }],
  });
  const evaluator = new FlagEvaluator(store, {
    flagCacheTtlMs: 600_000,
    flagCacheSize: 10_000,
    storeTimeoutMs: 1000,
  });
  await evaluator.evaluate(ref, 'warm-up');
  return evaluator;
}

const ids = Array.from({ length: 1000 }, (_, i) => `A${100000 + i}`);

/** Nanoseconds per evaluation, each with a fresh ref object as a request would have. */
function round(evaluator) {
  let treated = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < EVALUATIONS; i++) {
    const request = { project: ref.project, flagType: ref.flagType, name: ref.name };
    if (evaluator.evaluate(request, ids[i % ids.length]).value) treated++;
  }
  const ns = Number(process.hrtime.bigint() - started) / EVALUATIONS;
  if (treated === 0) throw new Error('no evaluation was treated: the flag is not the one seeded');
  return ns;
}

const evaluators = { this: await evaluatorIn(checkouts.this), other: await evaluatorIn(checkouts.other) };
const times = { this: [], other: [] };
for (let i = 0; i < ROUNDS; i++) {
  for (const label of i % 2 === 0 ? ['this', 'other'] : ['other', 'this']) times[label].push(round(evaluators[label]));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const label of ['this', 'other']) {
  console.log(
    `${label.padEnd(5)} ${checkouts[label]}: median ${median(times[label]).toFixed(1)} ns per evaluation (rounds: ${times[label].map((t) => t.toFixed(0)).join(' ')})`,
  );
}
console.log(`ratio this/other: ${(median(times.this) / median(times.other)).toFixed(3)}`);
