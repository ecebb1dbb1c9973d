// The dashboard's flags page with 1,000 flags: how long a full page load takes until
// the last flag's row is shown. From the repository root:  npm run bench:dashboard
//
// Starts `vexil serve` on a temporary SQLite file (the built dashboard at /), writes
// 1,000 feature flags with a revision each in one apply, then loads
// /#/p/big in Debian's Chromium (test/support/chromium.ts, the one launcher) LOADS
// times, each a fresh document with the token already in the tab's sessionStorage,
// and prints every load and the median. Environment: LOADS (7), FLAGS (1000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';
import { startVexilServe } from './vexil-serve.mjs';

const LOADS = Number(process.env.LOADS ?? 7);
const FLAGS = Number(process.env.FLAGS ?? 1000);
const TOKEN = 'vexil_bench-dashboard-admin-token';
const root = fileURLToPath(new URL('..', import.meta.url));

/** The runbook's Airflow configs: one request writes every flag and its revision. */
function configs(project, count) {
  const rows = [];
  for (let i = 0; i < count; i++) {
    const name = `flag_${i}`;
    const key = { row_key_prefix_PROJECT: project, row_key_prefix_FLAGTYPE: 'feature', row_key_prefix_FLAGNAME: name };
    rows.push({
      ...key,
      row_key_prefix_ROWTYPE: 'FLAG',
      add_new_feature_flag: true,
      row_cell_value: `{'Name': '${name}', 'Description': 'flag number ${i}', 'Type': 'FEATURE'}`,
    });
    rows.push({
      ...key,
      row_key_prefix_ROWTYPE: 'REVISION',
      add_new_feature_flag: false,
      row_cell_value: `{'Name': '${name}', 'Type': 'FEATURE', 'FormatVersion': 1, 'ControlValue': False, 'Treatments': [{'OverrideList': ['qa-${i}'], 'PercentRollout': ${i % 100}, 'Value': True}]}`,
    });
  }
  return rows;
}

const dir = mkdtempSync(join(tmpdir(), 'vexil-bench-dashboard-'));
const { child, url } = await startVexilServe({
  VEXIL_STORE: `sqlite:${join(dir, 'vexil.db')}`,
  VEXIL_ADMIN_TOKEN: TOKEN,
});
let browser;
try {
  const response = await fetch(`${url}/admin/v1/apply`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ configs: configs('big', FLAGS) }),
  });
  if (!response.ok) throw new Error(`apply answered ${response.status}: ${await response.text()}`);

  const { module: launcher } = await runnerImport(join(root, 'test/support/chromium.ts'));
  browser = await launcher.launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(`sessionStorage.setItem('vexil.token', ${JSON.stringify(TOKEN)})`);
  const page = await context.newPage();
  const last = page.locator(`tr[data-flag="feature/flag_${FLAGS - 1}"]`);
  const times = [];
  for (let i = 0; i < LOADS; i++) {
    await page.goto('about:blank');
    const started = performance.now();
    await page.goto(`${url}/#/p/big`);
    await last.waitFor({ timeout: 30_000 });
    times.push(performance.now() - started);
    console.log(`load ${i + 1}: ${times.at(-1).toFixed(0)} ms`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(
    `flags page, ${FLAGS} flags, full load until the last row is shown: median ${median.toFixed(0)} ms of ${LOADS} (min ${sorted[0].toFixed(0)}, max ${sorted.at(-1).toFixed(0)})`,
  );
} finally {
  await browser?.close();
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
