// Merino-style FeatureFlags.isEnabled checks per second, on the built @vexil/sdk.
// From the repository root:  npm run bench:merino   (builds, then runs this file)
import { FeatureFlags } from '../packages/sdk/dist/index.js';

const ROUNDS = 9;
const OPS_PER_ROUND = 200_000;

// The flags a service would load once from its TOML files.
const FLAGS = {
  session_flag: { enabled: 0.5, scheme: 'session' },
  random_flag: { enabled: 0.5, scheme: 'random' },
  full_flag: { enabled: 1, scheme: 'session' },
};

// Session ids like Firefox's (UUIDs), cycled so no input is special-cased.
const SIDS = Array.from(
  { length: 4096 },
  (_, i) => `${(0x10000000 + i * 7919).toString(16)}-4e3b-4c8a-9f1d-2b6c8e0a5d17`,
);
const BYTES = Array.from({ length: 4096 }, (_, i) => Uint8Array.of(i >> 8, i & 0xff, 0x5a, 0xa5));
const mask = SIDS.length - 1;
const shared = new FeatureFlags(FLAGS, { sessionId: SIDS[0] });

const contenders = {
  // A new request each time: build the per-request object, make an uncached decision (sha256 of the sid).
  'session scheme, new FeatureFlags per check': (i) =>
    new FeatureFlags(FLAGS, { sessionId: SIDS[i & mask] }).isEnabled('session_flag'),
  'random scheme, new FeatureFlags per check': () => new FeatureFlags(FLAGS).isEnabled('random_flag'),
  'bucketFor bytes, new FeatureFlags per check': (i) =>
    new FeatureFlags(FLAGS).isEnabled('session_flag', BYTES[i & mask]),
  'enabled = 1, new FeatureFlags per check': (i) =>
    new FeatureFlags(FLAGS, { sessionId: SIDS[i & mask] }).isEnabled('full_flag'),
  // The same flag checked again within one request: answered from `decisions`.
  'repeated check, same FeatureFlags (cached)': () => shared.isEnabled('session_flag'),
};

let sink = 0;

function round(fn) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < OPS_PER_ROUND; i++) if (fn(i)) sink++;
  const ns = Number(process.hrtime.bigint() - start);
  return (OPS_PER_ROUND * 1e9) / ns;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const format = (opsPerSecond) =>
  opsPerSecond >= 1e6
    ? `${(opsPerSecond / 1e6).toFixed(2)} M checks/s`
    : `${(opsPerSecond / 1e3).toFixed(0)} k checks/s`;

console.log(`node ${process.version}, median of ${ROUNDS} rounds x ${OPS_PER_ROUND} checks`);
for (const [name, fn] of Object.entries(contenders)) {
  round(fn); // warm-up
  const results = [];
  for (let r = 0; r < ROUNDS; r++) results.push(round(fn));
  console.log(`${name.padEnd(46)} ${format(median(results)).padStart(18)}`);
}
if (sink === 0.5) console.log(sink); // keep the results alive
