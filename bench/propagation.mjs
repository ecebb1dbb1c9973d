// Propagation: how long a revision applied with `vexil apply` takes to reach a running
// FeatureFlagClient. From the repository root:  npm run bench:propagation
//
// Starts `vexil serve` as a child process on a temporary SQLite file (every setting at
// its default, VEXIL_CHANGE_POLL_MS included: the service polls SQLite's change marker,
// because another process, `vexil apply`, writes the file), and a
// FeatureFlagClient on project csr-assistant (change stream). Then CHANGES times: after a
// random pause (0–1 s, so writes land at every phase of the service's poll), it writes
// a runbook Airflow JSON config with a new revision of `multi_step_api_router` that adds
// or removes the probe id from the override list, and runs `vexil apply` on it. The
// latency is measured from when `vexil apply` exits (the revision is committed) to when
// the client answers the new value for the probe id (its `change` event); also given
// from just before `vexil apply` is spawned (Node.js start-up included).
// Environment: CHANGES (100), VEXIL_CHANGE_POLL_MS (the service default when unset).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inRollout } from '../packages/core/dist/index.js';
import { FeatureFlagClient } from '../packages/sdk/dist/index.js';
import { SERVICE_VARIABLES } from '../packages/server/dist/config-variables.js';
import { startVexilServe } from './vexil-serve.mjs';

const CHANGES = Number(process.env.CHANGES ?? 100);
const CLI = fileURLToPath(new URL('../packages/server/dist/cli.js', import.meta.url));
const PROJECT = 'csr-assistant';
const FLAG = 'multi_step_api_router';
// An id outside the 40 % rollout (runbook configs are not salted: md5 of the bare id), so only the list decides.
const PROBE = Array.from({ length: 100 }, (_, i) => `probe-A${700000 + i}`).find((id) => !inRollout('md5', id, 40));
const SEEN_TIMEOUT_MS = 15_000;

const dir = mkdtempSync(join(tmpdir(), 'vexil-propagation-'));
const env = { ...process.env, VEXIL_STORE: `sqlite:${join(dir, 'vexil.db')}` };

/** A runbook Airflow config, as its DAG took it: row_cell_value is a Python dict literal. */
function airflowConfig(rowType, rowCellValue, addNew) {
  return JSON.stringify(
    {
      row_key_prefix_PROJECT: PROJECT,
      row_key_prefix_ROWTYPE: rowType,
      row_key_prefix_FLAGTYPE: 'feature',
      row_key_prefix_FLAGNAME: FLAG,
      row_cell_value: rowCellValue,
      add_new_feature_flag: addNew,
    },
    null,
    2,
  );
}

function revisionConfig(n, probeIn) {
  const overrides = probeIn ? `['A12345', '${PROBE}']` : `['A12345']`;
  return airflowConfig(
    'REVISION',
    `{ 'Name': '${FLAG}', 'Type': 'FEATURE', 'FormatVersion': 1, 'ControlValue': False, 'Comment': 'bench change ${n}', 'OwnerID': 'bench', 'Treatments': [{ 'OverrideList': ${overrides}, 'PercentRollout': 40, 'Value': True }] }`,
    false,
  );
}

/** Runs `vexil apply <files>`; resolves with when it was spawned and when it exited. */
function apply(files) {
  return new Promise((resolve, reject) => {
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, [CLI, 'apply', ...files], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => {
      const exitedAt = performance.now();
      if (code === 0) resolve({ spawnedAt, exitedAt });
      else reject(new Error(`vexil apply exited ${code}: ${stderr}`));
    });
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const addFlag = join(dir, 'add-flag.json');
  writeFileSync(
    addFlag,
    airflowConfig(
      'FLAG',
      `{ 'Name': '${FLAG}', 'Description': 'Enable multi step API router', 'Type': 'FEATURE' }`,
      true,
    ),
  );
  const first = join(dir, 'revision-0.json');
  writeFileSync(first, revisionConfig(0, false));
  await apply([addFlag, first]);
  // A project Vexil creates is evaluated only with a read token; the runbook's projects are
  // evaluated without one (README, Access), as this bench's client is.
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'project', 'set', PROJECT, '--public-evaluation', 'on'], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vexil project set exited ${code}`))));
  });

  const service = await startVexilServe(env);
  const client = new FeatureFlagClient({ projectName: PROJECT, baseUrl: service.url, reportEvaluations: false });
  if (!(await client.ready())) throw new Error(`the client did not get in sync: ${client.lastError?.message}`);
  if (client.getFlagBoolean(FLAG, PROBE, true) !== false) throw new Error('the probe id should start off');

  console.log(
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model}), ${new Date().toISOString().slice(0, 10)}`,
  );
  console.log(
    `vexil serve on SQLite, VEXIL_CHANGE_POLL_MS ${process.env.VEXIL_CHANGE_POLL_MS ?? `default (${SERVICE_VARIABLES.changePollMs.default})`}; ${CHANGES} changes\n`,
  );

  const fromExit = [];
  const fromSpawn = [];
  let missed = 0;
  for (let n = 1; n <= CHANGES; n++) {
    const expected = n % 2 === 1;
    const file = join(dir, `revision-${n}.json`);
    writeFileSync(file, revisionConfig(n, expected));
    await sleep(Math.random() * 1000);
    let seenAt;
    let onSeen;
    const seen = new Promise((resolve) => {
      onSeen = resolve;
    });
    const listener = () => {
      if (seenAt === undefined && client.getFlagBoolean(FLAG, PROBE, !expected) === expected) {
        seenAt = performance.now();
        onSeen();
      }
    };
    client.on('change', listener);
    const { spawnedAt, exitedAt } = await apply([file]);
    listener(); // already there?
    const timer = setTimeout(onSeen, SEEN_TIMEOUT_MS);
    await seen;
    clearTimeout(timer);
    client.off('change', listener);
    if (seenAt === undefined) {
      missed++;
      continue;
    }
    fromExit.push(Math.max(0, seenAt - exitedAt));
    fromSpawn.push(seenAt - spawnedAt);
    process.stderr.write(`change ${n}/${CHANGES}\r`);
  }

  const report = (label, values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const f = (ms) => `${ms.toFixed(0)} ms`;
    console.log(
      `| ${label} | ${f(percentile(sorted, 50))} | ${f(percentile(sorted, 95))} | ${f(percentile(sorted, 99))} | ${f(sorted[sorted.length - 1])} |`,
    );
    return percentile(sorted, 99);
  };
  console.log('| measured from | p50 | p95 | p99 | max |');
  console.log('|---|---|---|---|---|');
  const p99 = report('`vexil apply` exit', fromExit);
  report('`vexil apply` spawn', fromSpawn);
  console.log(`\n${fromExit.length} changes seen, ${missed} not seen within ${SEEN_TIMEOUT_MS} ms`);
  console.log(`goal (p99 from apply exit under 1 s): ${p99 < 1000 && missed === 0 ? 'met' : 'NOT met'}`);

  await client.close();
  service.child.kill('SIGTERM');
  await new Promise((resolve) => service.child.once('exit', resolve));
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
