import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepScreenshot, launchChromium } from '../../../test/support/chromium.js';
import { startVexil, type VexilProcess } from '../../server/test/support/vexil-process.js';
import { callApi, expectAccessible, signedInContext } from './e2e-support.js';

/**
 * Issue 18 in the dashboard (docs/dashboard.md): scheduled revisions, ramps and approvals,
 * in Debian's Chromium against a real `vexil serve`. The service runs in its own process,
 * so its clock cannot be injected, and no test waits for a schedule's time: the schedule
 * made here is an hour ahead and is cancelled. Applying schedules at their time is tested
 * in the server's tests with the clock injected, and how history names a scheduled
 * revision in the words' unit tests.
 */

let service: VexilProcess;
let base: string;
let browser: Browser;
let dir: string;
const api = (method: string, path: string, body?: unknown, token?: string) => callApi(base, method, path, body, token);

async function flagWithRevision(project: string, name: string, revision: Record<string, unknown>): Promise<void> {
  await api('POST', `/admin/v1/projects/${project}/flags`, { name, type: 'feature' });
  await api('POST', `/admin/v1/projects/${project}/flags/feature/${name}/revisions`, revision);
}

async function writeToken(owner: string, project: string): Promise<string> {
  const { secret } = (await api('POST', '/admin/v1/tokens', { scope: 'write', owner, projects: [project] })) as {
    secret: string;
  };
  return secret;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vexil-dashboard-changes-'));
  service = await startVexil({ VEXIL_STORE: `sqlite:${join(dir, 'vexil.db')}` });
  base = service.url;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await service.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('changes that run themselves, in the dashboard', () => {
  it('schedules a revision an hour ahead, refusing a past time next to its input, lists it while pending, and cancels it', async () => {
    await flagWithRevision('ops', 'dark_mode', { ControlValue: false, Comment: 'off to start' });
    const { context, csp } = await signedInContext(browser);
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    try {
      await page.goto(`${base}/#/p/ops/flags/feature/dark_mode/edit`);
      await page.getByLabel('Otherwise (control value)').selectOption('true');
      await page.getByLabel(/Schedule this revision/).check();
      await page.getByLabel('Time zone').selectOption('utc');
      // A time in the past is refused next to the input, and nothing is written.
      await page.getByLabel('Takes effect at').fill('2020-01-01T09:00:00');
      expect(await page.getByTestId('schedule-at').textContent()).toContain('2020-01-01T09:00:00+00:00');
      await page.getByRole('button', { name: 'Schedule revision' }).click();
      const atError = page.locator('[data-field="at"] .field-error');
      await expect.poll(() => atError.isVisible()).toBe(true);
      expect(await atError.textContent()).toMatch(/future/);
      await expectAccessible(page, 'the revision editor with a schedule');
      await keepScreenshot(page, 'dashboard-schedule-error');

      const due = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
      await page.getByLabel('Takes effect at').fill(due.toISOString().slice(0, 19));
      await page.getByRole('button', { name: 'Schedule revision' }).click();
      const row = page.locator('[data-testid="pending-schedules"] tbody tr');
      await expect.poll(() => row.count()).toBe(1);
      expect(await row.textContent()).toMatch(/everyone: true/);
      expect(await row.textContent()).toContain('bootstrap');
      const scheduleId = await row.getAttribute('data-schedule');
      expect(scheduleId).toMatch(/^sch_/);
      const listed = (await api('GET', '/admin/v1/projects/ops/flags/feature/dark_mode/schedules')) as unknown;
      expect(JSON.stringify(listed)).toContain(due.toISOString().slice(0, 19));
      await expectAccessible(page, 'the flag page with a pending schedule');
      await keepScreenshot(page, 'dashboard-schedule-pending');

      await page.getByRole('button', { name: `Cancel schedule ${scheduleId}` }).click();
      await expect.poll(() => row.count()).toBe(0);
      await page.reload();
      await page.getByTestId('rules-in-words').waitFor();
      expect(await page.locator('[data-testid="pending-schedules"] tbody tr').count()).toBe(0);
      // The revision in force is still the one before: nothing was applied.
      expect(await page.getByTestId('rules-in-words').textContent()).not.toMatch(/everyone: true/);
      expect(csp).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('starts a ramp, shows its step and next step time, pauses it, and aborts it after a warning that it rolls back', async () => {
    await flagWithRevision('ops', 'new_search', { ControlValue: false });
    const { context } = await signedInContext(browser);
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    try {
      await page.goto(`${base}/#/p/ops/flags/feature/new_search`);
      await page.getByLabel('Steps (percent, in order)').fill('10, 5');
      await page.getByLabel('Hours between steps').fill('2');
      await page.getByRole('button', { name: 'Start ramp' }).click();
      const stepsError = page.locator('[data-field="steps"] .field-error');
      await expect.poll(() => stepsError.isVisible()).toBe(true);
      expect(await stepsError.textContent()).toMatch(/steps\[1\]/);

      await page.getByLabel('Steps (percent, in order)').fill('10, 50, 100');
      await page.getByRole('button', { name: 'Start ramp' }).click();
      const status = page.getByTestId('ramp-status');
      await expect.poll(() => status.textContent()).toMatch(/running, at 10 %/);
      expect(await status.textContent()).toMatch(/Next step50 % at/);
      expect(await page.getByTestId('rules-in-words').textContent()).toMatch(/10 %/);
      expect(
        await page.locator('section[aria-labelledby="history-title"] table tbody tr').first().textContent(),
      ).toMatch(/ramp rmp_/);
      await expectAccessible(page, 'the flag page with a running ramp');
      await keepScreenshot(page, 'dashboard-ramp-running');

      await page.getByRole('button', { name: 'Pause ramp' }).click();
      await expect.poll(() => status.textContent()).toMatch(/paused, at 10 %/);
      expect(await page.getByRole('button', { name: 'Resume ramp' }).isVisible()).toBe(true);
      const rampPending = (await api('GET', '/admin/v1/projects/ops/schedules?status=pending')) as unknown[];
      expect(rampPending).toEqual([]);

      await page.getByRole('button', { name: 'Abort ramp…' }).click();
      const dialog = page.getByRole('dialog');
      expect(await dialog.textContent()).toMatch(/rolled back/);
      await expectAccessible(page, 'the abort confirmation');
      await keepScreenshot(page, 'dashboard-ramp-abort');
      await dialog.getByRole('button', { name: 'Abort and roll back' }).click();
      await expect.poll(() => status.textContent()).toMatch(/aborted/);
      expect(await page.getByTestId('rules-in-words').textContent()).toBe('everyone: false');
    } finally {
      await context.close();
    }
  }, 90_000);

  it('proposes a revision where approval is required and another owner approves it; the proposer cannot', async () => {
    await flagWithRevision('gated', 'checkout_v2', { ControlValue: false });
    await api('PUT', '/admin/v1/projects/gated/approval-settings', { required: true });
    const alice = await writeToken('alice', 'gated');
    const bob = await writeToken('bob', 'gated');

    const asAlice = await signedInContext(browser, undefined, alice);
    asAlice.context.setDefaultTimeout(10_000);
    const page = await asAlice.context.newPage();
    let proposalId: string | null;
    try {
      await page.goto(`${base}/#/p/gated/flags/feature/checkout_v2/edit`);
      await page.getByLabel('Otherwise (control value)').selectOption('true');
      await page.getByLabel('Comment (why)').fill('launch');
      // The first try writes nothing: the API says the project requires approval, and the button says so.
      await page.getByRole('button', { name: 'Publish revision' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/requires approvals/);
      await page.getByRole('button', { name: 'Propose revision (needs approval)' }).click();
      await expect.poll(() => page.getByRole('heading', { name: 'Proposals in gated' }).isVisible()).toBe(true);
      const card = page.locator('article[data-proposal]');
      await expect.poll(() => card.count()).toBe(1);
      proposalId = await card.getAttribute('data-proposal');
      expect(await card.textContent()).toContain('Proposed by alice');
      expect(await card.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
      expect(await card.getByRole('button', { name: /^Reject/ }).count()).toBe(0);
      expect(await card.getByRole('button', { name: /^Withdraw/ }).count()).toBe(1);
      // The editor remembers: the next revision is proposed from the start.
      await page.goto(`${base}/#/p/gated/flags/feature/checkout_v2/edit`);
      await expect
        .poll(() => page.getByRole('button', { name: 'Propose revision (needs approval)' }).isVisible())
        .toBe(true);
    } finally {
      await asAlice.context.close();
    }

    const asBob = await signedInContext(browser, undefined, bob);
    asBob.context.setDefaultTimeout(10_000);
    const bobPage = await asBob.context.newPage();
    try {
      await bobPage.goto(`${base}/#/p/gated/proposals`);
      const card = bobPage.locator(`article[data-proposal="${proposalId!}"]`);
      await card.waitFor();
      expect(await card.locator('.diff').textContent()).toMatch(/true/);
      await expectAccessible(bobPage, 'the proposals page');
      await keepScreenshot(bobPage, 'dashboard-proposals');
      await card.getByRole('button', { name: `Approve ${proposalId!}` }).click();
      await expect.poll(() => bobPage.getByRole('status').textContent()).toContain(`Approved ${proposalId!}`);
      await expect.poll(() => bobPage.locator('article[data-proposal]').count()).toBe(0);

      await bobPage.goto(`${base}/#/p/gated/flags/feature/checkout_v2`);
      await bobPage.getByTestId('rules-in-words').waitFor();
      expect(await bobPage.getByTestId('rules-in-words').textContent()).toBe('everyone: true');
      const first = await bobPage
        .locator('section[aria-labelledby="history-title"] table tbody tr')
        .first()
        .textContent();
      expect(first).toContain(`proposal ${proposalId!}`);
      expect(first).toContain('approved by bob');
      expect(first).toContain('alice');
    } finally {
      await asBob.context.close();
    }
  }, 90_000);

  it('adds a webhook for an admin, shows its secret once, and logs a delivery a local receiver took', async () => {
    const received: { event: string; signature: string | undefined }[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        received.push({
          event: (JSON.parse(body) as { event: string }).event,
          signature: request.headers['vexil-signature'] as string | undefined,
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const { context } = await signedInContext(browser);
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    try {
      await page.goto(`${base}/#/p/ops`);
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByLabel('URL (http or https)').fill('ftp://example.com/hook');
      await page.getByRole('button', { name: 'Add webhook' }).click();
      const urlError = page.locator('[data-field="url"] .field-error');
      await expect.poll(() => urlError.isVisible()).toBe(true);
      expect(await urlError.textContent()).toMatch(/http/);
      expect(await page.locator('tr[data-webhook]').count()).toBe(0);

      await page.getByLabel('URL (http or https)').fill(url);
      await page.getByLabel('Only this project (empty: every project)').fill('ops');
      await page.getByRole('button', { name: 'Add webhook' }).click();
      await expect.poll(() => page.getByTestId('webhook-secret').textContent()).toMatch(/whsec_/);
      await expect.poll(() => page.locator('tr[data-webhook]').count()).toBe(1);
      await expectAccessible(page, 'the webhooks page');

      await api('POST', '/admin/v1/projects/ops/flags/feature/dark_mode/revisions', { ControlValue: false });
      await expect.poll(() => received.map((r) => r.event), { timeout: 10_000 }).toContain('revision.created');
      expect(received[0]!.signature).toMatch(/^t=\d+,v1=/);
      await expect
        .poll(
          async () => {
            await page.getByRole('button', { name: 'Refresh' }).click();
            return page.getByTestId('deliveries').textContent();
          },
          { timeout: 10_000 },
        )
        .toMatch(/revision\.created.*delivered.*HTTP 204/);
      await keepScreenshot(page, 'dashboard-webhooks');
    } finally {
      await context.close();
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 60_000);
});
