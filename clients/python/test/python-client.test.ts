import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../../../packages/server/test/support/test-token.js';
import { startVexil, type VexilProcess } from '../../../packages/server/test/support/vexil-process.js';

/**
 * The Python client's own tests (`python3 -m unittest`, clients/python/tests/) against a
 * real `vexil serve`: one vitest case per test module, each failing with the Python
 * output. The service runs on SQLite with a 100 ms change poll, so a change reaches the
 * stream well within the 1 s the propagation test allows.
 */

const clientDir = fileURLToPath(new URL('..', import.meta.url));
const modules = readdirSync(join(clientDir, 'tests'))
  .filter((name) => /^test_.*\.py$/.test(name))
  .map((name) => `tests.${name.slice(0, -3)}`)
  .sort();

function runPython(
  args: string[],
  env: Record<string, string>,
  cwd = clientDir,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', args, { cwd, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('the Python client (clients/python) against vexil serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vexil-python-'));
  let service: VexilProcess;

  beforeAll(async () => {
    // --demo: examples/python runs against the demo project.
    service = await startVexil({ VEXIL_STORE: `sqlite:${join(dir, 'vexil.db')}`, VEXIL_CHANGE_POLL_MS: '100' }, [
      '--demo',
    ]);
  });
  afterAll(async () => {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has test modules to run', () => {
    expect(modules).toEqual(expect.arrayContaining(['tests.test_conformance_vectors', 'tests.test_service_local']));
  });

  it.each(['app.py', 'app_async.py'])('examples/python/%s prints the demo flags for qa-1 and A123456', async (file) => {
    const examples = fileURLToPath(new URL('../../../examples/python/', import.meta.url));
    const { code, output } = await runPython(
      [file],
      { VEXIL_URL: service.url, PYTHONPATH: clientDir, PYTHONDONTWRITEBYTECODE: '1' },
      examples,
    );
    expect(code, output).toBe(0);
    expect(output.trim().split('\n').sort()).toEqual([
      'llm_provider for A123456: claude',
      'llm_provider for qa-1: openai',
      'new_checkout is disabled for A123456.',
      'new_checkout is enabled for qa-1.',
    ]);
  });

  it.each(modules)('%s passes, with no test skipped', { timeout: 180_000 }, async (module) => {
    const { code, output } = await runPython(['-m', 'unittest', '-v', module], {
      VEXIL_URL: service.url,
      VEXIL_TEST_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      VEXIL_TEST_REQUIRE_SERVICE: '1',
      PYTHONDONTWRITEBYTECODE: '1',
    });
    // The measurements the Python tests print (delays, timeouts), for the record.
    for (const line of output.split('\n'))
      if (/ (ms|s)\b.*|agree$/.test(line) && !/^(test_|Ran )/.test(line)) console.log(line);
    expect(code, output).toBe(0);
    expect(output).toMatch(/\nOK\s*$/);
  });
});
