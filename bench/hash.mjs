// Micro-benchmark: @vexil/core's hand-written digests vs node:crypto on short instance ids.
// Build first, then run:  npx tsc -b packages/core && node bench/hash.mjs [keyLength]
import { createHash } from 'node:crypto';
import { digestWords } from '../packages/core/dist/hash/index.js';

const KEY_LENGTH = Number(process.argv[2] ?? 12);
const ROUNDS = 9;
const OPS_PER_ROUND = 300_000;
const ALGORITHMS = ['md5', 'sha1', 'sha256'];

// Distinct keys like "user-1234567" (12 chars), cycled so no single input is special-cased.
const KEYS = Array.from({ length: 4096 }, (_, i) => {
  const key = `user-${String(1_000_000 + i * 7919)}`;
  return key.length >= KEY_LENGTH ? key.slice(0, KEY_LENGTH) : key.padEnd(KEY_LENGTH, 'x');
});

const contenders = {
  'vexil digestWords': (alg, key) => digestWords(alg, key)[0],
  'node createHash': (alg, key) => createHash(alg).update(key).digest()[0],
};

let sink = 0;

function round(fn, alg) {
  const mask = KEYS.length - 1;
  const start = process.hrtime.bigint();
  for (let i = 0; i < OPS_PER_ROUND; i++) sink ^= fn(alg, KEYS[i & mask]);
  const ns = Number(process.hrtime.bigint() - start);
  return (OPS_PER_ROUND * 1e9) / ns;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const format = (opsPerSecond) => `${(opsPerSecond / 1e6).toFixed(2)} M ops/s`.padStart(15);

console.log(`node ${process.version}, ${KEY_LENGTH}-char keys, median of ${ROUNDS} rounds x ${OPS_PER_ROUND} ops`);
for (const alg of ALGORITHMS) {
  const medians = {};
  for (const [name, fn] of Object.entries(contenders)) {
    round(fn, alg); // warm-up
    const results = [];
    for (let r = 0; r < ROUNDS; r++) results.push(round(fn, alg));
    medians[name] = median(results);
  }
  const [ours, node] = Object.values(medians);
  const cells = Object.entries(medians).map(([name, ops]) => `${name} ${format(ops)}`);
  console.log(`${alg.padEnd(7)} ${cells.join('   ')}   x${(ours / node).toFixed(2)}`);
}
if (sink === 0.5) console.log(sink); // keep the results alive
