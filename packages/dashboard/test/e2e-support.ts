import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../../server/test/support/test-token.js';

/** What the dashboard's browser tests share: the admin API as the test calls it, axe, signed-in contexts. */

/** The admin API of the service at `base`, with `token` (the test admin token by default). */
export async function callApi(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token = TEST_ADMIN_TOKEN,
): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** No serious or critical accessibility violation on the page as it is now. */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, `axe on ${where}`).toEqual([]);
}

/** A context whose pages are signed in (the token in the tab's sessionStorage), watching for CSP refusals. */
export async function signedInContext(
  browser: Browser,
  viewport = { width: 1280, height: 800 },
  token = TEST_ADMIN_TOKEN,
): Promise<{ context: BrowserContext; csp: string[] }> {
  const context = await browser.newContext({ viewport });
  await context.addInitScript(`sessionStorage.setItem('vexil.token', ${JSON.stringify(token)})`);
  const csp: string[] = [];
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) csp.push(message.text());
  });
  return { context, csp };
}
