import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '@vexil/store';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { DASHBOARD_CSP, DEFAULT_DASHBOARD_DIR } from '../src/http/dashboard-files.js';
import { buildTestApp } from './support/test-token.js';

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-Ab12.js"></script></head><body><div id="app"></div></body></html>';
const SCRIPT = 'console.log("vexil")';

function expectSecurityHeaders(response: LightMyRequestResponse): void {
  expect(response.headers['content-security-policy']).toBe(DASHBOARD_CSP);
  expect(DASHBOARD_CSP).toContain("default-src 'self'");
  expect(DASHBOARD_CSP).toContain("frame-ancestors 'none'");
  expect(DASHBOARD_CSP).not.toContain('unsafe-inline');
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  expect(response.headers['x-frame-options']).toBe('DENY');
}

describe('the dashboard files at / and /assets/', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vexil-dashboard-'));
    app = await buildTestApp({
      config: loadConfig({ VEXIL_STORE: 'memory:' }),
      store: new MemoryStore(),
      defaultMetrics: false,
      dashboardDir: dir,
    });
  });

  afterEach(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function build(): Promise<void> {
    await mkdir(join(dir, 'assets'), { recursive: true });
    await writeFile(join(dir, 'index.html'), INDEX);
    await writeFile(join(dir, 'assets', 'index-Ab12.js'), SCRIPT);
  }

  it('answers 503 saying how to build it while the files are missing, and serves them once built, without a restart', async () => {
    const missing = await app.inject('/');
    expect(missing.statusCode).toBe(503);
    expect(missing.json()).toMatchObject({
      error: 'Unavailable',
      message: 'the dashboard is not built: run npm run build',
      hint: expect.stringContaining('/docs'),
    });
    expect((await app.inject('/assets/index-Ab12.js')).statusCode).toBe(404);

    await build();
    const page = await app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toBe(INDEX);
    expect(page.headers['cache-control']).toBe('no-cache');
    expectSecurityHeaders(page);
  });

  it('serves the assets with their types, kept for good (their names change with their content), and the security headers', async () => {
    await build();
    const script = await app.inject('/assets/index-Ab12.js');
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.body).toBe(SCRIPT);
    expect(script.headers['cache-control']).toMatch(/immutable/);
    expectSecurityHeaders(script);
    expect((await app.inject('/assets/nope.js')).statusCode).toBe(404);
    // Nothing outside the assets directory is reachable through it.
    for (const url of ['/assets/../index.html', '/assets/%2e%2e/index.html', '/assets/..%2findex.html']) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(response.body).not.toContain('<div id="app">');
    }
  });

  it('leaves every API path to its own route', async () => {
    await build();
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/docs')).statusCode).toBeLessThan(400);
    expect((await app.inject('/docs/json')).json()).toHaveProperty('openapi');
    const whoami = await app.inject({ url: '/admin/v1/whoami', headers: { authorization: null } as never });
    expect(whoami.statusCode).toBe(401);
    expect(whoami.headers['content-security-policy']).toBeUndefined();
    const unknown = await app.inject('/flags');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: 'NotFound' });
  });
});

describe('the dashboard as built by npm run build', () => {
  const index = join(DEFAULT_DASHBOARD_DIR, 'index.html');

  it.skipIf(!existsSync(index))(
    'is served from packages/server/dashboard/, every file its page names answers 200, and it has no inline script',
    async () => {
      const app = await buildTestApp({
        config: loadConfig({ VEXIL_STORE: 'memory:' }),
        store: new MemoryStore(),
        defaultMetrics: false,
      });
      try {
        const page = await app.inject('/');
        expect(page.statusCode).toBe(200);
        expect(page.body).toBe(await readFile(index, 'utf8'));
        const scripts = [...page.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
        expect(scripts.length).toBeGreaterThan(0);
        for (const [, attributes, body] of scripts) {
          expect(attributes).toMatch(/\bsrc="/);
          expect(body!.trim()).toBe('');
        }
        expect(page.body).not.toMatch(/\sstyle="|<style[\s>]|https?:\/\//);
        const files = [...page.body.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((match) => match[1]!);
        expect(files.length).toBeGreaterThan(0);
        for (const file of files) {
          expect(file.startsWith('/assets/'), file).toBe(true);
          expect((await app.inject(file)).statusCode, file).toBe(200);
        }
      } finally {
        await app.close();
      }
    },
  );
});
