// kill -9: how many acknowledged evaluations the evaluation log loses when `vexil serve`
// is killed without warning. From the repository root:  npm run bench:kill-9
//
// Starts `vexil serve --demo` on a temporary SQLite file, evaluates from CONCURRENCY
// loops (`/get-feature-flag`, keep-alive) for LOAD_MS, then sends SIGKILL while the
// loops are still running. Every answer with status 200 counts as acknowledged; after
// the kill, the file's log rows are read and the acknowledged request ids without a
// row are the lost ones. Run twice: with the default log (rows written after the
// answer, in batches every VEXIL_LOG_FLUSH_MS) and with VEXIL_LOG_DURABLE=on (a row is
// written before its answer). Environment: LOAD_MS (3000), CONCURRENCY (16), ROUNDS (3).
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../packages/store/dist/index.js';
import { startVexilServe } from './vexil-serve.mjs';

const LOAD_MS = Number(process.env.LOAD_MS ?? 3000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

function get(agent, url) {
  return new Promise((resolve) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

async function round(durable) {
  const dir = mkdtempSync(join(tmpdir(), 'vexil-kill-'));
  const spec = `sqlite:${join(dir, 'vexil.db')}`;
  const env = { VEXIL_STORE: spec, VEXIL_LOG_DURABLE: durable ? 'on' : 'off' };
  try {
    const { child, url } = await startVexilServe(env, ['--demo']);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const acknowledged = [];
    let killed = false;
    const loop = async (n) => {
      for (let i = 0; !killed; i++) {
        const flag = i % 2 ? 'new_checkout' : 'dark_mode';
        const answer = await get(
          agent,
          `${url}/get-feature-flag?project_name=demo&flag_type=feature&flag_name=${flag}&instance_id=u${n}-${i}`,
        );
        if (answer.status === 200) acknowledged.push(JSON.parse(answer.body).request_id);
      }
    };
    const loops = Array.from({ length: CONCURRENCY }, (_, n) => loop(n));
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
    child.kill('SIGKILL');
    killed = true;
    await new Promise((resolve) => child.once('exit', resolve));
    await Promise.all(loops);
    agent.destroy();

    const store = await openStore(spec);
    try {
      const rows = await store.readLogs({ project: 'demo' });
      const logged = new Set(rows.map((row) => row.requestId));
      const lost = acknowledged.filter((id) => !logged.has(id)).length;
      return { acknowledged: acknowledged.length, lost };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const durable of [false, true]) {
  for (let i = 0; i < ROUNDS; i++) {
    const outcome = await round(durable);
    results.push({ mode: durable ? 'VEXIL_LOG_DURABLE=on' : 'default (flush every 100 ms)', ...outcome });
    console.log(JSON.stringify(results.at(-1)));
  }
}
console.table(results);
