// Soak: the service under load for minutes, with 2,000 open change streams and a flood
// of made-up evaluation reports from a stranger, while its store (PostgreSQL) is shut
// down and started again twice. From the repository root:  npm run bench:soak
//
// Starts a throwaway PostgreSQL server and `vexil serve --demo` on it as a child
// process. For SOAK_SECONDS it runs: EVAL_LOOPS clients evaluating (`/get-feature-flag`
// and OFREP, keep-alive), STREAMS open change streams (reopened when one ends, as the SDK
// does), and REPORT_LOOPS strangers posting reports of 1,000 made-up evaluations each.
// Twice (at 25 % and 60 % of the run) PostgreSQL is shut down for OUTAGE_SECONDS and
// started again. Checks, printed at the end (exit 1 when one fails):
// - every evaluation answered 2xx has its row in the evaluation log;
// - no request outside the outages fails (the strangers' refused reports aside);
// - RSS stays bounded: its peak in the last quarter of the run is at most 1.5 times its
//   peak in the first quarter after warm-up.
// Environment: SOAK_SECONDS (300), OUTAGE_SECONDS (15), STREAMS (2000), EVAL_LOOPS (8),
// REPORT_LOOPS (2).
import { Agent, request } from 'node:http';
import { openStore } from '../packages/store/dist/index.js';
import { startPostgres } from '../packages/store/dist/testing/index.js';
import { startVexilServe } from './vexil-serve.mjs';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const OUTAGE_SECONDS = Number(process.env.OUTAGE_SECONDS ?? 15);
const STREAMS = Number(process.env.STREAMS ?? 2000);
const EVAL_LOOPS = Number(process.env.EVAL_LOOPS ?? 8);
const REPORT_LOOPS = Number(process.env.REPORT_LOOPS ?? 2);
// Around an outage, requests are counted as the outage's: those in flight when the
// store stops, and those until the service has seen it back.
const OUTAGE_GRACE_MS = 2000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function call(agent, url, { method = 'GET', body } = {}) {
  return new Promise((resolve) => {
    const req = request(
      url,
      { agent, method, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode, text }));
        res.on('error', () => resolve({ status: 0, text: '' }));
      },
    );
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.end(body);
  });
}

async function main() {
  const postgres = await startPostgres();
  // Interrupted: stop the service; exiting stops PostgreSQL (startPostgres's exit handler).
  let child;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      child?.kill('SIGKILL');
      process.exit(130);
    });
  }
  const service = await startVexilServe(
    {
      VEXIL_STORE: postgres.url,
      // One load generator holds every stream: the per-caller stream limit is raised for it.
      VEXIL_SSE_MAX_PER_CLIENT: String(STREAMS + 100),
      VEXIL_SSE_MAX_TOTAL: String(STREAMS + 100),
      // A short flag-data TTL, so that the outages outlast the cache and last-known data serves.
      FEATURE_FLAG_CACHE_TTL_MINUTES: '0.1',
      VEXIL_STORE_TIMEOUT_MS: '1000',
    },
    ['--demo'],
  );
  child = service.child;
  const started = Date.now();
  const deadline = started + SOAK_SECONDS * 1000;
  const outages = [];
  const evaluations = []; // { at, status, requestId }
  const reports = { sent: 0, refusedOrLimited: 0, failedOutsideOutages: 0 };
  const rss = []; // { at, bytes }
  const streamStats = { opened: 0, ended: 0, refused: 0, open: 0 };
  let running = true;

  // ------------------------------------------------------------------ change streams
  const streamAgent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const openStream = () =>
    new Promise((resolve) => {
      const req = request(`${service.url}/sdk/v1/projects/demo/stream`, { agent: streamAgent }, (res) => {
        if (res.statusCode !== 200) {
          streamStats.refused++;
          res.resume();
          res.on('end', () => resolve(false));
          return;
        }
        streamStats.opened++;
        streamStats.open++;
        res.on('data', () => {});
        const ended = () => {
          streamStats.open--;
          streamStats.ended++;
          resolve(true);
        };
        res.once('end', ended);
        res.once('error', ended);
      });
      req.on('error', () => {
        streamStats.refused++;
        resolve(false);
      });
      req.end();
    });
  const keepStreamOpen = async () => {
    while (running) {
      await openStream();
      if (running) await sleep(500);
    }
  };
  const streams = [];
  for (let i = 0; i < STREAMS; i++) {
    streams.push(keepStreamOpen());
    if (i % 100 === 99) await sleep(50);
  }

  // ------------------------------------------------------------------ evaluations
  const agent = new Agent({ keepAlive: true, maxSockets: EVAL_LOOPS * 2 });
  const evaluate = async (n) => {
    for (let i = 0; running; i++) {
      const at = Date.now();
      if (i % 4 === 3) {
        const answer = await call(agent, `${service.url}/ofrep/v1/evaluate/flags/new_checkout`, {
          method: 'POST',
          body: JSON.stringify({ context: { targetingKey: `u${n}-${i}`, project_name: 'demo' } }),
        });
        evaluations.push({ at, status: answer.status, requestId: undefined });
      } else {
        const flag = i % 2 ? 'new_checkout' : 'dark_mode';
        const answer = await call(
          agent,
          `${service.url}/get-feature-flag?project_name=demo&flag_type=feature&flag_name=${flag}&instance_id=u${n}-${i}`,
        );
        let requestId;
        if (answer.status === 200) requestId = JSON.parse(answer.text).request_id;
        evaluations.push({ at, status: answer.status, requestId });
      }
    }
  };

  // ------------------------------------------------------------------ the stranger's reports
  const made = Array.from({ length: 1000 }, (_, i) => ({
    flagType: 'feature',
    flagName: `made_up_${i}`,
    instanceId: `x${i}`,
    value: true,
    group: `group_${i}`,
    time: '2099-01-01 00:00:00.000000',
  }));
  const flood = JSON.stringify({ project: 'demo', evaluations: made });
  const reportAgent = new Agent({ keepAlive: true, maxSockets: REPORT_LOOPS });
  const strange = async () => {
    while (running) {
      const at = Date.now();
      const answer = await call(reportAgent, `${service.url}/sdk/v1/evaluations`, { method: 'POST', body: flood });
      reports.sent++;
      // Refused: 401 (a stranger has no read token), 429 (rate-limited), or 202 with every row refused.
      if (answer.status === 202 || answer.status === 429 || answer.status === 401) {
        reports.refusedOrLimited++;
        if (answer.status === 202 && JSON.parse(answer.text).accepted !== 0) reports.acceptedLies = true;
      } else if (!inOutage(at)) reports.failedOutsideOutages++;
    }
  };

  // ------------------------------------------------------------------ memory
  const sampleRss = async () => {
    while (running) {
      const answer = await call(agent, `${service.url}/metrics`);
      const match = /^vexil_process_resident_memory_bytes (\d+)/m.exec(answer.text);
      if (match) rss.push({ at: Date.now(), bytes: Number(match[1]) });
      await sleep(2000);
    }
  };

  const inOutage = (at) =>
    outages.some((o) => at >= o.from - OUTAGE_GRACE_MS && at <= (o.to ?? Number.POSITIVE_INFINITY) + OUTAGE_GRACE_MS);

  // ------------------------------------------------------------------ the outages
  const outagesDone = (async () => {
    for (const share of [0.25, 0.6]) {
      await sleep(Math.max(0, started + share * SOAK_SECONDS * 1000 - Date.now()));
      if (!running) return;
      const outage = { from: Date.now(), to: undefined };
      outages.push(outage);
      console.log(`${Math.round((Date.now() - started) / 1000)} s: PostgreSQL down`);
      await postgres.halt();
      await sleep(OUTAGE_SECONDS * 1000);
      await postgres.restart();
      // Until the service has seen the store back.
      for (let tries = 0; tries < 100; tries++) {
        const ready = await call(agent, `${service.url}/readyz`);
        if (ready.status === 200 && JSON.parse(ready.text).status === 'ready') break;
        await sleep(200);
      }
      outage.to = Date.now();
      console.log(`${Math.round((Date.now() - started) / 1000)} s: PostgreSQL back`);
    }
  })();

  const loops = [
    ...Array.from({ length: EVAL_LOOPS }, (_, n) => evaluate(n)),
    ...Array.from({ length: REPORT_LOOPS }, () => strange()),
    sampleRss(),
  ];
  while (Date.now() < deadline) {
    await sleep(Math.min(10_000, deadline - Date.now()));
    console.log(
      `${Math.round((Date.now() - started) / 1000)} s: ${evaluations.length} evaluations, ${streamStats.open} streams open, ${reports.sent} reports, RSS ${Math.round((rss.at(-1)?.bytes ?? 0) / 2 ** 20)} MiB`,
    );
  }
  running = false;
  await outagesDone;
  await Promise.all(loops);
  // SIGTERM: the service ends the streams, finishes requests and writes its log queue.
  service.child.kill('SIGTERM');
  await service.exited;
  await Promise.all(streams);
  agent.destroy();
  reportAgent.destroy();
  streamAgent.destroy();

  // ------------------------------------------------------------------ checks
  const store = await openStore(postgres.url);
  let logged;
  try {
    logged = new Set((await store.readLogs({ project: 'demo' })).map((row) => row.requestId));
  } finally {
    await store.close();
  }
  await postgres.stop();

  const answered = evaluations.filter((e) => e.status >= 200 && e.status < 300);
  const withId = answered.filter((e) => e.requestId !== undefined);
  const unlogged = withId.filter((e) => !logged.has(e.requestId)).length;
  const failedOutside = evaluations.filter((e) => (e.status < 200 || e.status >= 400) && !inOutage(e.at)).length;
  const failedDuring = evaluations.filter((e) => (e.status < 200 || e.status >= 400) && inOutage(e.at)).length;
  const warm = rss.filter((s) => s.at - started > SOAK_SECONDS * 1000 * 0.05);
  const quarter = Math.max(1, Math.floor(warm.length / 4));
  const firstPeak = Math.max(...warm.slice(0, quarter).map((s) => s.bytes));
  const lastPeak = Math.max(...warm.slice(-quarter).map((s) => s.bytes));
  const summary = {
    seconds: SOAK_SECONDS,
    outages: outages.map((o) => ({ from: Math.round((o.from - started) / 1000), seconds: (o.to - o.from) / 1000 })),
    evaluations: evaluations.length,
    answered2xx: answered.length,
    checkedInLog: withId.length,
    unlogged,
    failedOutsideOutages: failedOutside,
    failedDuringOutages: failedDuring,
    streams: streamStats,
    strangerReports: reports,
    rssMiB: {
      firstQuarterPeak: Math.round(firstPeak / 2 ** 20),
      lastQuarterPeak: Math.round(lastPeak / 2 ** 20),
      max: Math.round(Math.max(...rss.map((s) => s.bytes)) / 2 ** 20),
    },
  };
  const checks = {
    'every served 2xx has its log row': unlogged === 0,
    'no request outside the outages fails': failedOutside === 0 && reports.failedOutsideOutages === 0,
    'no made-up report accepted': reports.acceptedLies !== true,
    'RSS bounded (last-quarter peak ≤ 1.5 × first-quarter peak)': lastPeak <= 1.5 * firstPeak,
  };
  console.log(JSON.stringify(summary, null, 2));
  for (const [check, ok] of Object.entries(checks)) console.log(`${ok ? 'ok  ' : 'FAIL'} ${check}`);
  if (Object.values(checks).some((ok) => !ok)) process.exitCode = 1;
}

await main();
