import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SqliteStore } from '@vexil/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlagAdmin } from '../src/flag-admin.js';
import type { StaleFlag } from '../src/stale-flags.js';
import { CliHarness } from './cli-harness.js';

const run = promisify(execFile);
const DAY_MS = 86_400_000;
const TSC = join(import.meta.dirname, '../../../node_modules/typescript/bin/tsc');

/** Runs a command and answers its exit code and output, failing or not. */
async function exec(file: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { timeout: 120_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      out: `${failed.stdout ?? ''}${failed.stderr ?? ''}`,
    };
  }
}

describe('flag lifecycle commands', () => {
  let cli: CliHarness;
  const ok = async (...args: string[]) => {
    const result = await cli.run(...args);
    expect(result.code, result.stderr).toBe(0);
    return result;
  };

  beforeEach(async () => {
    cli = new CliHarness();
    await ok('add-flag', 'new_checkout', '-p', 'shop', '-t', 'feature', '-d', 'the new checkout */ "quoted"');
    await ok('add-revision', 'new_checkout', '-p', 'shop', '-c', 'false', '--treatment', '25:true');
    await ok('add-flag', 'llm-provider', '-p', 'shop', '-t', 'data');
    await ok('add-revision', 'llm-provider', '-p', 'shop', '-c', 'openai');
    await ok('add-flag', 'max.items', '-p', 'shop', '-t', 'number');
    await ok('add-revision', 'max.items', '-p', 'shop', '-c', '2.5');
    await ok('add-flag', 'limits', '-p', 'shop', '-t', 'json');
    await ok('add-revision', 'limits', '-p', 'shop', '-c', '{"daily": 10, "strict": true, "tags": null}');
    await ok('add-flag', 'no_revision_yet', '-p', 'shop', '-t', 'feature');
  });

  afterEach(() => cli.cleanup());

  describe('vexil codegen', () => {
    it('writes TypeScript that compiles, where a misspelt flag is a compile error', async () => {
      const out = join(cli.dir, 'flags.ts');
      expect((await ok('codegen', '--lang', 'ts', '-p', 'shop', '-o', out)).stdout).toContain('wrote');
      const text = readFileSync(out, 'utf8');
      expect(text).toContain("new_checkout: { name: 'new_checkout'".replaceAll("'", '"'));
      expect(text).toContain('"llm-provider": { name: "llm-provider", type: "data", defaultValue: "openai" }');
      expect(text).toContain(
        'limits: { name: "limits", type: "json", defaultValue: {"daily":10,"strict":true,"tags":null} }',
      );
      expect(text).toContain('no_revision_yet: { name: "no_revision_yet", type: "feature", defaultValue: null }');

      writeFileSync(
        join(cli.dir, 'use.ts'),
        [
          "import { VexilFlags, type VexilFlagKey, type VexilFlagValues } from './flags.js';",
          'const checkout: boolean = VexilFlags.new_checkout.defaultValue;',
          "const provider: 'openai' = VexilFlags['llm-provider'].defaultValue;",
          "const key: VexilFlagKey = 'max.items';",
          "const limit: VexilFlagValues['max.items'] = VexilFlags[key].defaultValue;",
          'export const used = [checkout, provider, limit];',
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(cli.dir, 'typo.ts'),
        [
          "import { VexilFlags, type VexilFlagKey } from './flags.js';",
          'export const checkout = VexilFlags.new_chekout.defaultValue;',
          "export const key: VexilFlagKey = 'llm_provider';",
          '',
        ].join('\n'),
      );
      const options = [
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
      ];
      // One compiler run over both files (it takes seconds): the usage compiles, each typo is an error.
      const typo = await exec(process.execPath, [TSC, ...options, join(cli.dir, 'use.ts'), join(cli.dir, 'typo.ts')]);
      expect(typo.out).not.toContain('use.ts');
      expect(typo.code).not.toBe(0);
      expect(typo.out).toMatch(/typo\.ts\(2,\d+\): error TS2\d+: Property 'new_chekout' does not exist/);
      expect(typo.out).toMatch(
        /typo\.ts\(3,\d+\): error TS\d+: Type '"llm_provider"' is not assignable to type '"limits" \| "llm-provider" \| /,
      );
    }, 180_000);

    it('writes a Python Enum with types and defaults that python3 imports; a misspelt member raises', async () => {
      const out = join(cli.dir, 'shop_flags.py');
      await ok('codegen', '--lang', 'py', '-p', 'shop', '-o', out);
      const script = [
        'import json, sys',
        `sys.path.insert(0, ${JSON.stringify(cli.dir)})`,
        'from shop_flags import Flag, FLAG_TYPES, FLAG_DEFAULTS, FLAG_VALUE_TYPES',
        'print(json.dumps({',
        '  "members": {m.name: m.value for m in Flag},',
        '  "types": {m.value: t for m, t in FLAG_TYPES.items()},',
        '  "defaults": {m.value: d for m, d in FLAG_DEFAULTS.items()},',
        '  "str": str(Flag.NEW_CHECKOUT), "format": f"{Flag.LLM_PROVIDER}",',
        '  "isStr": isinstance(Flag.MAX_ITEMS, str), "valueType": FLAG_VALUE_TYPES[Flag.NEW_CHECKOUT].__name__,',
        '}))',
      ].join('\n');
      const imported = await exec('python3', ['-c', script]);
      expect(imported.code, imported.out).toBe(0);
      expect(JSON.parse(imported.out)).toEqual({
        members: {
          LIMITS: 'limits',
          LLM_PROVIDER: 'llm-provider',
          MAX_ITEMS: 'max.items',
          NEW_CHECKOUT: 'new_checkout',
          NO_REVISION_YET: 'no_revision_yet',
        },
        types: {
          limits: 'json',
          'llm-provider': 'data',
          'max.items': 'number',
          new_checkout: 'feature',
          no_revision_yet: 'feature',
        },
        defaults: {
          limits: { daily: 10, strict: true, tags: null },
          'llm-provider': 'openai',
          'max.items': 2.5,
          new_checkout: false,
          no_revision_yet: null,
        },
        str: 'new_checkout',
        format: 'llm-provider',
        isStr: true,
        valueType: 'bool',
      });
      const typo = await exec('python3', [
        '-c',
        `import sys; sys.path.insert(0, ${JSON.stringify(cli.dir)}); from shop_flags import Flag; Flag.NEW_CHEKOUT`,
      ]);
      expect(typo.code).toBe(1);
      expect(typo.out).toMatch(/AttributeError: NEW_CHEKOUT/);
    });

    it('--check exits 0 while the file is current and 1, saying how to update, once the flags change', async () => {
      const out = join(cli.dir, 'flags.ts');
      await ok('codegen', '--lang', 'ts', '-p', 'shop', '-o', out);
      expect((await ok('codegen', '--lang', 'ts', '-p', 'shop', '-o', out, '--check')).stdout).toMatch(/up to date/);
      await ok('add-flag', 'dark_mode', '-p', 'shop', '-t', 'feature');
      const stale = await cli.run('codegen', '--lang', 'ts', '-p', 'shop', '-o', out, '--check');
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain(
        `${out} is out of date with the flags of shop: run vexil codegen --lang ts -p shop -o ${out}`,
      );
      // --check wrote nothing.
      expect(readFileSync(out, 'utf8')).not.toContain('dark_mode');
      const missing = await cli.run('codegen', '--lang', 'py', '-p', 'shop', '-o', join(cli.dir, 'none.py'), '--check');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/none\.py is missing/);
      const nowhere = await cli.run('codegen', '--lang', 'py', '-p', 'shop', '--check');
      expect(nowhere.code).toBe(1);
      expect(nowhere.stderr).toMatch(/--check compares a file: give it with -o/);
    });
  });

  it('vexil refs finds each flag in TypeScript, JavaScript and Python, skipping dependencies, and names unreferenced flags and typos', async () => {
    const code = join(cli.dir, 'app');
    const write = (path: string, text: string) => {
      mkdirSync(join(code, path, '..'), { recursive: true });
      writeFileSync(join(code, path), text);
    };
    write(
      'src/checkout.ts',
      [
        "import { VexilFlags } from './flags.js';",
        "if (flags.getFlagBoolean('new_checkout', user.id, false)) render();",
        'const provider = client.getFlagString(',
        '  "llm-provider",',
        '  id,',
        "  'openai',",
        ');',
        'const limit = VexilFlags.limits.defaultValue;',
        '',
      ].join('\n'),
    );
    write('web/banner.jsx', 'export const Banner = () => useFlag<boolean>(`new_checkout`, false) && <b>new</b>;\n');
    write(
      'service/flags.py',
      [
        'from shop_flags import Flag',
        'if ff_client.get_flag_boolean("new_checkout", instance_id, False):',
        '    pass',
        'provider = ff_client.get_flag_string(Flag.LLM_PROVIDER, instance_id, "openai")',
        'typo = ff_client.get_flag_string(flag_name="llm_provder", instance_id=i, default_value="x")',
        '',
      ].join('\n'),
    );
    write('node_modules/lib/index.js', "getFlagBoolean('max.items', 1, false);\n");
    write('dist/checkout.js', "getFlagBoolean('max.items', 1, false);\n");
    write('.venv/lib/site.py', 'get_flag_boolean("max.items", 1, False)\n');
    write('pyenv-by-another-name/pyvenv.cfg', 'home = /usr/bin\n');
    write('pyenv-by-another-name/lib/x.py', 'get_flag_boolean("max.items", 1, False)\n');

    const text = await ok('refs', code, '-p', 'shop');
    expect(text.stdout).toContain(
      [
        'data/llm-provider',
        '  service/flags.py:4',
        '  src/checkout.ts:3',
        'feature/new_checkout',
        '  service/flags.py:2',
        '  src/checkout.ts:2',
        '  web/banner.jsx:1',
        'json/limits',
        '  src/checkout.ts:8',
      ].join('\n'),
    );
    expect(text.stdout).toContain('not referenced (candidates to remove): no_revision_yet, max.items');
    expect(text.stdout).toContain(
      'not a flag of the project (a typo, or an archived flag):\n  llm_provder  service/flags.py:5',
    );

    const report = await cli.json<{ files: number; unreferenced: string[]; references: { file: string }[] }>(
      'refs',
      code,
      '-p',
      'shop',
    );
    expect(report.files).toBe(3);
    expect(report.references.some((ref) => /node_modules|dist|venv/.test(ref.file))).toBe(false);

    // Without a project: every name the code uses, nothing compared.
    const plain = await ok('refs', join(code, 'web'));
    expect(plain.stdout).toContain('new_checkout\n  banner.jsx:1');
    const missing = await cli.run('refs', join(code, 'nope'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope does not exist/);
  });

  it('vexil stale lists expired, unevaluated and one-value flags with the cleanup to do, as the admin API does', async () => {
    // A flag whose revision is 40 days old, serving one value, never evaluated; and one past its expiry.
    const path = cli.storeSpec.slice('sqlite:'.length);
    const past = await SqliteStore.open(path, { now: () => (Date.now() - 40 * DAY_MS) * 1000 });
    const admin = new FlagAdmin(past);
    await admin.addFlag({ project: 'shop', flagType: 'feature', name: 'old_banner' }, {});
    await admin.addRevision(
      { project: 'shop', flagType: 'feature', name: 'old_banner' },
      { ControlValue: true, Metadata: { owner: 'team-web' } },
    );
    await past.close();
    await ok('metadata', 'new_checkout', '-p', 'shop', '--set', 'expires=2020-01-31', '--set', 'ticket=SHOP-12');

    const report = await cli.json<{ project: string; days: number; flags: StaleFlag[] }>(
      'stale',
      '-p',
      'shop',
      '--days',
      '30',
    );
    const byName = new Map(report.flags.map((flag) => [flag.name, flag]));
    expect(byName.get('old_banner')).toMatchObject({
      owner: 'team-web',
      hints: [{ kind: 'not-evaluated' }, { kind: 'one-value' }],
      cleanup: { action: 'make-permanent' },
    });
    expect(byName.get('old_banner')!.cleanup.message).toContain(
      'make true permanent: replace the reads of old_banner in code with it',
    );
    expect(byName.get('old_banner')!.cleanup.message).toContain('vexil archive old_banner -p shop');
    expect(byName.get('new_checkout')!.hints.map((hint) => hint.kind)).toEqual(['not-evaluated', 'expired']);
    expect(byName.get('new_checkout')!.reasons).toContain('past its expiry date 2020-01-31 (ticket SHOP-12)');

    const text = await ok('stale', '-p', 'shop');
    expect(text.stdout).toContain('feature/old_banner  (owner team-web)\n  - never evaluated');
    expect(text.stdout).toContain('  cleanup: make true permanent');
    expect(text.stdout).toMatch(/\d+ stale flag\(s\) in shop \(30 days\)/);
    const bad = await cli.run('stale', '-p', 'shop', '--days', '0');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--days must be a whole number from 1 to 3650/);
  });
});
