// Micro-benchmark: is the instance-id hash cache worth having? Per id, one of
//   - hashing every time (core's compiled revision digest, no cache),
//   - the service's HashCache (a set-associative table in one buffer),
//   - lru-cache (the plain alternative: a Map-backed LRU with a TTL, keyed by scope and id).
// Ids are drawn at random from a pool (50,000, as bench:http does) and each lookup gets a
// fresh string, as a request's query parsing gives one. Rounds alternate between the
// contenders; medians of the rounds are printed with the ratio to hashing every time.
//
//   npm run bench:hash-cache [-- POOL [ALGORITHM]]

import { LRUCache } from 'lru-cache';
import { compileRevision } from '../packages/core/dist/index.js';
import { HashCache } from '../packages/server/dist/hash-cache.js';

const POOL = Number(process.argv[2] ?? 50_000);
const ALGORITHM = process.argv[3] ?? 'md5';
const ROUNDS = 9;
const OPS = 400_000;
const TTL_MS = 2 * 24 * 3600 * 1000;

const compiled = compileRevision({
  Name: 'new_checkout',
  Type: 'FEATURE',
  FormatVersion: 1,
  ControlValue: false,
  Treatments: [{ OverrideList: [], PercentRollout: 40, Value: true }],
  HashAlgorithm: ALGORITHM,
  Salt: 'new_checkout',
});
// Parts of ids; a lookup joins two of them, so every lookup hashes a string made just then.
const ids = Array.from({ length: POOL }, (_, i) => [`${(i * 7919) % 1000}`, `${100_000 + i}`]);
const draws = Uint32Array.from({ length: OPS }, () => Math.floor(Math.random() * POOL));

function lruDigest() {
  const lru = new LRUCache({ max: 100_000, ttl: TTL_MS, ttlAutopurge: false });
  return (id) => {
    const key = `${compiled.hashScope}|${id}`;
    const hit = lru.get(key);
    if (hit !== undefined) return hit;
    const words = compiled.digest(id).slice();
    lru.set(key, words);
    return words;
  };
}

const contenders = {
  'hash every time': () => (id) => compiled.digest(id),
  HashCache: () => new HashCache({ maxEntries: 100_000, ttlMs: TTL_MS }).digestFor(compiled),
  'lru-cache': lruDigest,
};

let sink = 0;
function round(digest) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) {
    const [a, b] = ids[draws[i]];
    sink ^= digest(`A${a}-${b}`)[0];
  }
  return Number(process.hrtime.bigint() - start) / OPS;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
};

// Each contender's cache lives across its rounds (warm, as in a running service).
const digests = Object.fromEntries(Object.entries(contenders).map(([name, make]) => [name, make()]));
for (const digest of Object.values(digests)) round(digest); // warm-up: fills the caches
const times = Object.fromEntries(Object.keys(digests).map((name) => [name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, digest] of Object.entries(digests)) times[name].push(round(digest));
}
console.log(`node ${process.version}, ${ALGORITHM}, ${POOL} ids, median of ${ROUNDS} alternating rounds x ${OPS}`);
const base = median(times['hash every time']);
for (const [name, values] of Object.entries(times)) {
  const m = median(values);
  console.log(`${name.padEnd(16)} ${m.toFixed(0).padStart(5)} ns/lookup   x${(base / m).toFixed(2)} vs hashing`);
}
if (sink === 0.5) console.log(sink);
