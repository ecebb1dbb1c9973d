import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AsyncFeatureFlagClient, FeatureFlagClient, type VexilClientError } from '../src/index.js';
import { checkout, freePort, PROJECT, provider, testResources } from './service-harness.js';

const { cleanups, service } = testResources();
const dir = mkdtempSync(join(tmpdir(), 'vexil-sdk-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The built SDK, as an application imports it (a child process runs JavaScript, not the sources). */
const builtSdk = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Runs a script in a child node process; resolves with its exit code, output and how long it ran. */
function runScript(source: string): Promise<{ code: number | null; output: string; ms: number }> {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, source);
  const started = performance.now();
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, output, ms: performance.now() - started });
    });
  });
}

describe('FeatureFlagClient for a project that does not exist', () => {
  it('says so at once, naming the service and the known projects, and answers defaults with that reason', async () => {
    const svc = await service();
    const flags = new FeatureFlagClient({
      projectName: 'nope',
      baseUrl: svc.url,
      reportEvaluations: false,
      readyTimeoutMs: 10_000,
    });
    cleanups.push(() => flags.close());
    const errors: VexilClientError[] = [];
    flags.on('error', (error) => errors.push(error));
    const started = performance.now();
    expect(await flags.ready()).toBe(false);
    // Not the 10 s readyTimeoutMs: the service's 404 settles it.
    expect(performance.now() - started).toBeLessThan(3000);
    const message = `project nope does not exist on ${svc.url}; known projects: ${PROJECT}`;
    expect(flags.lastError).toMatchObject({ code: 'PROJECT_NOT_FOUND', status: 404, message });
    expect(errors[0]?.message).toBe(message);
    expect(flags.getFlagBoolean(checkout.name, 'A1', true)).toBe(true);
    expect(flags.getFlagBooleanDetails(checkout.name, 'A1', false)).toMatchObject({
      value: false,
      reason: 'ERROR',
      errorCode: 'PROJECT_NOT_FOUND',
      errorMessage: message,
    });
  });
});

describe('both clients say a flag has the other type the same way', () => {
  it('answers the default with TYPE_MISMATCH and one message naming the type it has and how to read it', async () => {
    const svc = await service();
    const inProcess = new FeatureFlagClient({ projectName: PROJECT, baseUrl: svc.url, reportEvaluations: false });
    const remote = new AsyncFeatureFlagClient({ projectName: PROJECT, baseUrl: svc.url });
    cleanups.push(
      () => inProcess.close(),
      () => remote.close(),
    );
    expect(await inProcess.ready()).toBe(true);

    expect(inProcess.getFlagString(checkout.name, 'A1', 'fallback')).toBe('fallback');
    const local = inProcess.lastError;
    expect(await remote.getFlagString(checkout.name, 'A1', 'fallback')).toBe('fallback');
    expect(remote.lastError?.code).toBe('TYPE_MISMATCH');
    expect(local?.code).toBe('TYPE_MISMATCH');
    expect(local?.message).toBe('flag new_checkout is a feature flag, not a data flag: read it with getFlagBoolean');
    expect(remote.lastError?.message).toBe(local?.message);

    expect(inProcess.getFlagBoolean(provider.name, 'A1', true)).toBe(true);
    expect(await remote.getFlagBoolean(provider.name, 'A1', true)).toBe(true);
    expect(inProcess.lastError?.message).toBe(
      'flag llm_provider is a data flag, not a feature flag: read it with getFlagString',
    );
    expect(remote.lastError?.message).toBe(inProcess.lastError?.message);
  });
});

describe('a script that never calls close()', () => {
  it('exits on its own once it has evaluated (the change stream does not hold the process)', async () => {
    const svc = await service();
    const result = await runScript(`
      import { FeatureFlagClient } from ${JSON.stringify(builtSdk)};
      const flags = new FeatureFlagClient({ projectName: ${JSON.stringify(PROJECT)}, baseUrl: ${JSON.stringify(svc.url)} });
      console.log('ready', await flags.ready());
      console.log('value', flags.getFlagBoolean(${JSON.stringify(checkout.name)}, 'qa-1', false));
    `);
    expect(result.output).toBe('ready true\nvalue true\n');
    expect(result.code).toBe(0);
    expect(result.ms).toBeLessThan(4000);
  });

  it('still waits for ready() when the service is down, then exits (no unsettled top-level await)', async () => {
    const port = await freePort();
    const result = await runScript(`
      import { FeatureFlagClient } from ${JSON.stringify(builtSdk)};
      const flags = new FeatureFlagClient({ projectName: 'shop', baseUrl: 'http://127.0.0.1:${port}', readyTimeoutMs: 700 });
      console.log('ready', await flags.ready());
    `);
    expect(result.output).toBe('ready false\n');
    expect(result.code).toBe(0);
    expect(result.ms).toBeGreaterThan(600);
    expect(result.ms).toBeLessThan(4000);
  });
});
