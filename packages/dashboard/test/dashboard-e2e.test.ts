import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepScreenshot, launchChromium } from '../../../test/support/chromium.js';
import { TEST_ADMIN_TOKEN } from '../../server/test/support/test-token.js';
import { startVexil, type VexilProcess } from '../../server/test/support/vexil-process.js';
import { callApi, expectAccessible, signedInContext as signedInWith } from './e2e-support.js';

/**
 * The dashboard as a person uses it: Debian's Chromium against a real `vexil serve` on a
 * SQLite store, which serves the built UI at `/` (npm run build makes it).
 */

let service: VexilProcess;
let base: string;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vexil-dashboard-'));
  service = await startVexil({ VEXIL_STORE: `sqlite:${join(dir, 'vexil.db')}` });
  base = service.url;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await service.stop();
  rmSync(dir, { recursive: true, force: true });
});

const api = (method: string, path: string, body?: unknown) => callApi(base, method, path, body);

/** Evaluations as an application asks for them (each one logged). */
async function evaluate(project: string, name: string, ids: string[]): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (const id of ids) {
    const query = new URLSearchParams({
      project_name: project,
      instance_id: id,
      flag_type: 'feature',
      flag_name: name,
    });
    answers.push(await api('GET', `/get-feature-flag?${query}`));
  }
  return answers;
}

/** A signed-in context in this file's browser (the test admin token unless another is given). */
const signedInContext = (viewport?: { width: number; height: number }, token?: string) =>
  signedInWith(browser, viewport, token);

/** The page's scroll width and visible width (a string: it runs in the page, which tsc does not type). */
const PAGE_WIDTHS = '[document.documentElement.scrollWidth, document.documentElement.clientWidth]';

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('the dashboard in a browser', () => {
  it('signs in, creates a flag, writes two revisions with an impact preview, rolls back, monitors and disables it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const csp: string[] = [];
    context.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) csp.push(message.text());
    });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    try {
      // Sign in, with the keyboard alone.
      await page.goto(base);
      await expect.poll(() => page.getByLabel('API token').isVisible()).toBe(true);
      await expectAccessible(page, 'the sign-in page');
      await keepScreenshot(page, 'dashboard-sign-in');
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.id')).toBe('token');
      await page.keyboard.type('vexil_not-a-token');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not known/);
      await page.getByLabel('API token').fill(TEST_ADMIN_TOKEN);
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByText('bootstrap').first().isVisible()).toBe(true);
      expect(await page.getByRole('banner').textContent()).toContain('admin');
      await expectAccessible(page, 'the projects page');

      // Create a flag in a new project; the form shows the API's refusal next to the field.
      await page.getByRole('link', { name: 'New flag in a new project' }).click();
      await page.getByRole('textbox', { name: 'Project' }).fill('shop');
      await page.getByLabel('Name').fill('New Checkout');
      await page.getByRole('button', { name: 'Create flag' }).click();
      const nameError = page.locator('[data-field="flag_name"] .field-error');
      await nameError.waitFor();
      expect(await nameError.textContent()).toMatch(/not a valid flag name/);
      expect(await page.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
      await expectAccessible(page, 'the new flag form with an error');
      await keepScreenshot(page, 'dashboard-new-flag-error');
      await page.getByLabel('Name').fill('new_checkout');
      await page.getByLabel('Description').fill('the new checkout');
      await page.getByRole('button', { name: 'Create flag' }).click();
      await expect
        .poll(() => page.getByRole('heading', { name: 'New revision of new_checkout' }).isVisible())
        .toBe(true);

      // Revision 1: 40 % and an override; a percentage over 100 is refused next to its input first.
      await page.getByRole('button', { name: 'Add treatment' }).click();
      await page.getByLabel('Treatment 1 percentage').fill('140');
      await page.getByLabel('Treatment 1 value').selectOption('true');
      await page.getByLabel('Treatment 1 overrides (ids)').fill('qa-1');
      await page.getByRole('button', { name: 'Publish revision' }).click();
      const percentError = page.locator('[data-field="Treatments[0].PercentRollout"] .field-error');
      await expect.poll(() => percentError.isVisible()).toBe(true);
      expect(await percentError.textContent()).toMatch(/100/);
      await expectAccessible(page, 'the revision form with an error');
      await keepScreenshot(page, 'dashboard-revision-error');
      await page.getByLabel('Treatment 1 percentage').fill('40');
      await page.getByRole('button', { name: 'Publish revision' }).click();
      const words = page.getByTestId('rules-in-words');
      await expect.poll(() => words.textContent()).toBe('1 override → true, 40 % → true, otherwise false');

      const seen = ids('user', 200);
      await evaluate('shop', 'new_checkout', seen);

      // Revision 2: a rule and 60 %; its impact on the ids seen is previewed before publishing.
      await page.getByRole('link', { name: 'New revision' }).click();
      await page.getByRole('button', { name: 'Add rule' }).click();
      await page.getByLabel('Attribute 1').fill('country');
      await page.getByLabel('Values (comma-separated)').fill('US, CA');
      await page.getByLabel('Rule 1 value').selectOption('true');
      await page.getByLabel('Treatment 1 percentage').fill('60');
      await page.getByLabel('Comment (why)').fill('more users, and North America');
      await page.getByRole('button', { name: 'Preview impact' }).click();
      const impact = page.locator('.impact');
      await expect.poll(() => impact.isVisible()).toBe(true);
      const impactText = (await impact.textContent()) ?? '';
      const changed = Number(/(\d+) of 200 instance ids/.exec(impactText)?.[1]);
      expect(changed).toBeGreaterThan(0);
      expect(impactText).toMatch(/control/);
      await expectAccessible(page, 'the revision form with its impact preview');
      await keepScreenshot(page, 'dashboard-impact-preview');
      await page.getByRole('button', { name: 'Publish revision' }).click();
      await expect
        .poll(() => words.textContent())
        .toBe('1 override → true, country in [US, CA] → true, 60 % → true, otherwise false');

      // The history and a diff between its two revisions.
      const history = page.locator('table.history tbody tr');
      await expect.poll(() => history.count()).toBe(2);
      const [newest, oldest] = [
        await history.nth(0).getAttribute('data-wtime'),
        await history.nth(1).getAttribute('data-wtime'),
      ];
      await page.getByLabel(`compare ${oldest} as A`).check();
      await page.getByLabel(`compare ${newest} as B`).check();
      const diff = page.getByRole('region', { name: 'Difference between A and B' });
      await expect.poll(() => diff.textContent()).toContain('treatment 1: percentage');
      expect(await diff.textContent()).toContain('country in [US, CA] → true');
      await expectAccessible(page, 'the flag page with a diff');
      await keepScreenshot(page, 'dashboard-flag-history-diff');

      // Roll back to revision 1 behind a confirmation showing the diff; Escape cancels it.
      const rollback = page.getByRole('button', { name: `Roll back to ${oldest}` });
      await rollback.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog');
      await expect.poll(() => dialog.isVisible()).toBe(true);
      expect(await dialog.textContent()).toContain('60');
      await expectAccessible(page, 'the rollback dialog');
      await keepScreenshot(page, 'dashboard-rollback-dialog');
      await page.keyboard.press('Escape');
      await expect.poll(() => dialog.count()).toBe(0);
      expect(await page.evaluate('document.activeElement.textContent')).toBe(`Roll back to ${oldest}`);
      await rollback.click();
      await dialog.getByRole('button', { name: 'Roll back' }).click();
      await expect.poll(() => history.count()).toBe(3);
      expect(await words.textContent()).toBe('1 override → true, 40 % → true, otherwise false');
      expect(await history.nth(0).textContent()).toContain(`rollback to ${oldest}`);

      // Monitoring: the chart's figures grow with evaluations while the page is open.
      const total = page.getByTestId('evaluation-total');
      await expect.poll(async () => Number((await total.textContent())?.match(/\d+/)?.[0])).toBeGreaterThanOrEqual(200);
      const before = Number((await total.textContent())?.match(/\d+/)?.[0]);
      expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);
      await keepScreenshot(page, 'dashboard-monitoring-before');
      await evaluate('shop', 'new_checkout', ids('later', 50));
      await expect
        .poll(async () => Number((await total.textContent())?.match(/\d+/)?.[0]), { timeout: 15_000 })
        .toBe(before + 50);
      expect(await page.locator('table.recent tbody tr').count()).toBeGreaterThan(0);
      await keepScreenshot(page, 'dashboard-monitoring-after');

      // What does an id get, and why.
      await page.getByLabel('Instance id (targetingKey)').fill('qa-1');
      await page.getByRole('button', { name: 'Evaluate' }).click();
      await expect.poll(() => page.locator('.answer').textContent()).toMatch(/true.*override/);

      // The kill switch.
      await page.getByRole('button', { name: 'Disable (kill switch)' }).click();
      await expect.poll(() => words.textContent()).toBe('disabled (kill switch): everyone gets false');
      // The service's flag cache follows the change within moments, not necessarily at once.
      await expect
        .poll(async () => (await evaluate('shop', 'new_checkout', ['qa-1']))[0], { timeout: 10_000 })
        .toMatchObject({ flag_value: false, rollout_group: 'disabled' });
      await keepScreenshot(page, 'dashboard-flag-disabled');

      // The other pages: the flags list, segments, audit.
      await page.getByRole('link', { name: 'Flags', exact: true }).click();
      await expect.poll(() => page.locator('tr[data-flag="feature/new_checkout"]').textContent()).toContain('disabled');
      await page.getByLabel('disabled only').check();
      expect(await page.locator('table.flags tbody tr').count()).toBe(1);
      await expectAccessible(page, 'the flags page');
      await keepScreenshot(page, 'dashboard-flags');
      await page.getByRole('link', { name: 'Segments' }).click();
      await page.getByRole('heading', { name: 'Segments of shop' }).waitFor();
      await expectAccessible(page, 'the segments page');
      await page.getByLabel('Name').fill('beta-testers');
      await page.getByRole('button', { name: 'Create segment' }).click();
      await expect.poll(() => page.getByRole('heading', { name: 'Segment beta-testers' }).isVisible()).toBe(true);
      await page.getByLabel('Always included ids').fill('qa-1, qa-2');
      await page.getByRole('button', { name: 'Save segment' }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toContain('Saved');
      await expectAccessible(page, 'the segment page');
      await page.getByRole('link', { name: 'Audit' }).click();
      await expect.poll(() => page.locator('table.audit tbody tr').count()).toBeGreaterThan(4);
      expect(await page.locator('table.audit').textContent()).toContain('shop/feature/new_checkout');
      await expectAccessible(page, 'the audit page');
      await keepScreenshot(page, 'dashboard-audit');
      expect(csp).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);

  it('shows a read token everything of its project and no button to change it', async () => {
    const { secret } = (await api('POST', '/admin/v1/tokens', {
      scope: 'read',
      owner: 'viewer',
      projects: ['shop'],
    })) as {
      secret: string;
    };
    const { context } = await signedInContext(undefined, secret);
    const page = await context.newPage();
    try {
      await page.goto(`${base}/#/p/shop/flags/feature/new_checkout`);
      await page.getByTestId('rules-in-words').waitFor();
      expect(await page.getByRole('banner').textContent()).toContain('viewer · read · shop');
      expect(await page.locator('table.history tbody tr').count()).toBeGreaterThan(1);
      for (const name of [/New revision/, /Disable|Enable/, /Archive/, /Roll back/]) {
        expect(await page.getByRole('button', { name }).count(), String(name)).toBe(0);
        expect(await page.getByRole('link', { name }).count(), String(name)).toBe(0);
      }
      await page.getByLabel('Instance id (targetingKey)').fill('qa-1');
      await page.getByRole('button', { name: 'Evaluate' }).click();
      await expect.poll(() => page.locator('.answer').textContent()).toMatch(/group disabled/);
      await page.goto(`${base}/#/p/shop`);
      await page.locator('tr[data-flag="feature/new_checkout"]').waitFor();
      expect(await page.getByRole('link', { name: 'New flag' }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('fits a 390-px phone and a 1280×800 screen without horizontal scrolling', async () => {
    for (const viewport of [
      { width: 390, height: 844 },
      { width: 1280, height: 800 },
    ]) {
      const { context, csp } = await signedInContext(viewport);
      const page = await context.newPage();
      try {
        await page.goto(`${base}/#/p/shop`);
        await expect.poll(() => page.locator('tr[data-flag="feature/new_checkout"]').count()).toBe(1);
        const [scrollWidth, clientWidth] = await page.evaluate<number[]>(PAGE_WIDTHS);
        expect(scrollWidth, `the flags page at ${viewport.width} px`).toBeLessThanOrEqual(clientWidth!);
        await expectAccessible(page, `the flags page at ${viewport.width} px`);
        await keepScreenshot(page, `dashboard-flags-${viewport.width}`);
        await page.goto(`${base}/#/p/shop/flags/feature/new_checkout`);
        await expect.poll(() => page.getByTestId('rules-in-words').isVisible()).toBe(true);
        const [flagScrollWidth, flagClientWidth] = await page.evaluate<number[]>(PAGE_WIDTHS);
        expect(flagScrollWidth, `the flag page at ${viewport.width} px`).toBeLessThanOrEqual(flagClientWidth!);
        await keepScreenshot(page, `dashboard-flag-${viewport.width}`);
        expect(csp).toEqual([]);
      } finally {
        await context.close();
      }
    }
  }, 60_000);

  it('renders the flags page of a project with 1,000 flags (render time printed)', async () => {
    // One apply writes them all (the runbook's configs: a FLAG and a REVISION row per flag).
    const configs = ids('flag', 1000).flatMap((id, i) => {
      const name = id.replace('-', '_');
      const key = { row_key_prefix_PROJECT: 'big', row_key_prefix_FLAGTYPE: 'feature', row_key_prefix_FLAGNAME: name };
      return [
        {
          ...key,
          row_key_prefix_ROWTYPE: 'FLAG',
          add_new_feature_flag: true,
          row_cell_value: `{'Name': '${name}', 'Type': 'FEATURE'}`,
        },
        {
          ...key,
          row_key_prefix_ROWTYPE: 'REVISION',
          add_new_feature_flag: false,
          row_cell_value: `{'Name': '${name}', 'Type': 'FEATURE', 'FormatVersion': 1, 'ControlValue': False, 'Treatments': [{'OverrideList': [], 'PercentRollout': ${i % 100}, 'Value': True}]}`,
        },
      ];
    });
    await api('POST', '/admin/v1/apply', { configs });
    const { context } = await signedInContext();
    const page = await context.newPage();
    try {
      // A full load of the page, as a person opening the link: a fresh document, the token in the tab.
      await page.goto('about:blank');
      const started = Date.now();
      await page.goto(`${base}/#/p/big`);
      await page.locator('tr[data-flag="feature/flag_999"]').waitFor();
      const elapsed = Date.now() - started;
      expect(await page.locator('table.flags tbody tr').count()).toBe(1000);
      console.log(
        `flags page of 1,000 flags: ${elapsed} ms from opening the page to its last row shown (npm run bench:dashboard: the median of several)`,
      );
      await keepScreenshot(page, 'dashboard-flags-1000');
    } finally {
      await context.close();
    }
  }, 180_000);
});
