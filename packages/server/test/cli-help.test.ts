import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CliHarness } from './cli-harness.js';

const commands = [
  'add-flag',
  'update-flag',
  'get-flag',
  'add-revision',
  'latest',
  'history',
  'rollback',
  'archive',
  'eval',
  'list',
  'apply',
  'demo',
];
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('vexil --help', () => {
  const cli = new CliHarness();

  it('lists every command', async () => {
    const result = await cli.run('--help');
    expect(result.code).toBe(0);
    for (const command of commands) expect(result.stdout).toContain(command);
  });

  it.each(commands)('explains %s', async (command) => {
    const result = await cli.run(command, '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: vexil ${command}`);
  });

  it('names every store engine in the --store option', async () => {
    const result = await cli.run('--help');
    const store = result.stdout.slice(result.stdout.indexOf('--store'), result.stdout.indexOf('--json'));
    for (const engine of ['sqlite:', 'bigtable', 'postgres://', 'memory:']) expect(store).toContain(engine);
  });

  it('exits 2 with a hint for an unknown command', async () => {
    const result = await cli.run('frobnicate');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });
});

describe('the installed vexil binary', () => {
  const bin = `${repoRoot}node_modules/.bin/vexil`;

  it('is linked at the repository root so `npx vexil` works', () => {
    expect(existsSync(bin)).toBe(true);
  });

  it('exits non-zero with the message on stderr when input is refused', () => {
    const result = spawnSync(bin, ['add-flag', 'Bad', '-p', 'x', '-t', 'feature', '--store', 'memory:'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('is not a valid flag name');
  });

  it('runs a command end to end through the built files', () => {
    const result = spawnSync(bin, ['demo', '--store', 'memory:', '--json'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const flags = JSON.parse(result.stdout) as { name: string }[];
    expect(flags.map((f) => f.name).sort()).toEqual(['dark_mode', 'llm_provider', 'new_checkout']);
  });
});
