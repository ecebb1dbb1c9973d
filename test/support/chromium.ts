import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * The one way tests start a browser: Debian's Chromium (installed by
 * scripts/ensure-engines.mjs) driven by playwright-core. Playwright's own browser
 * download is impossible on these machines, so the executable is always given.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Without the background-networking switches Chromium keeps dialling Google's hosts,
 * which this machine's closed network refuses many at a time; --no-sandbox because
 * CI runs as root.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not at ${CHROMIUM_PATH}: run "node scripts/ensure-engines.mjs" (apt-get install chromium) or set CHROMIUM`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** Where browser tests keep their screenshots (a test artifact, not tracked: .vexil-tmp is ignored). */
export const SCREENSHOT_DIR = join(process.cwd(), '.vexil-tmp', 'screenshots');

/** Saves a full-page screenshot as `.vexil-tmp/screenshots/NAME.png` and answers its path. */
export async function keepScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
