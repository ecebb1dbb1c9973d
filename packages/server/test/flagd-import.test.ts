import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlagdImportOutcome } from '../src/flagd/flagd-import.js';
import type { RevisionView } from '../src/index.js';
import { CliHarness } from './cli-harness.js';
import { bool, shop } from './support/flagd-shop.js';

describe('vexil import flagd', () => {
  const cli = new CliHarness();
  afterAll(() => cli.cleanup());
  const file = (name: string, content: unknown) => {
    const path = join(cli.dir, name);
    writeFileSync(path, JSON.stringify(content));
    return path;
  };

  it('writes every flag with its type, variants, rules and metadata, and the evaluator as a segment', async () => {
    const outcome = await cli.json<FlagdImportOutcome>('import', 'flagd', file('shop.json', shop), '-p', 'shop');
    expect(outcome.flags).toEqual([
      { name: 'new-checkout', flagType: 'feature', action: 'add' },
      { name: 'banner.text', flagType: 'data', action: 'add' },
      { name: 'page-size', flagType: 'number', action: 'add' },
      { name: 'theme', flagType: 'json', action: 'add' },
      { name: 'code-default', flagType: 'feature', action: 'add' },
    ]);
    expect(outcome.segments).toEqual([{ name: 'staff', action: 'add' }]);
    expect(outcome.notes.join('\n')).toContain('users land in different buckets than under flagd');

    const latest = await cli.json<RevisionView>('latest', 'new-checkout', '-p', 'shop');
    expect(latest.revision).toMatchObject({
      Type: 'FEATURE',
      FormatVersion: 2,
      ControlValue: false,
      Variants: bool,
      Metadata: { owner: 'checkout-team', ticket: 'SHOP-12' },
      Salt: 'new-checkout',
      Rules: [
        { Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['staff'] }], Value: true },
        {
          Conditions: [
            { Attribute: 'country', Operator: 'in', Values: ['de', 'fr'] },
            { Attribute: 'app', Operator: 'semver_gte', Values: ['2.1.0'] },
          ],
          Split: [
            { Percent: 50, Value: true },
            { Percent: 50, Value: false },
          ],
        },
      ],
    });
    expect((await cli.json<RevisionView>('latest', 'theme', '-p', 'shop')).revision).toMatchObject({ Disabled: true });
    expect((await cli.json<RevisionView>('latest', 'code-default', '-p', 'shop')).revision.ControlValue).toBeNull();
  });

  it('says in plain text what it did and where Vexil answers differently', async () => {
    const result = await cli.run('import', 'flagd', file('again.json', shop), '-p', 'shop');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('imported 5 flags and 1 segment into project shop from again.json:');
    expect(result.stdout).toContain('update feature  new-checkout');
    expect(result.stdout).toContain('where Vexil will answer differently from flagd:');
  });

  it('refuses a file with a construct that cannot be mapped, naming flag and construct, and writes nothing', async () => {
    const before = await cli.snapshot(['shop']);
    const refused = {
      flags: {
        ...shop.flags,
        'fresh-flag': { state: 'ENABLED', variants: bool, defaultVariant: 'on' },
        'timestamp-flag': {
          state: 'ENABLED',
          variants: bool,
          defaultVariant: 'on',
          targeting: { if: [{ '>': [{ var: '$flagd.timestamp' }, 1700000000] }, 'off'] },
        },
      },
      $evaluators: shop.$evaluators,
    };
    const result = await cli.run('import', 'flagd', file('refused.json', refused), '-p', 'shop');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'cannot import refused.json: one construct cannot be mapped to Vexil, so nothing was written',
    );
    expect(result.stderr).toContain(
      'flag "timestamp-flag": targeting.if[0].>.var: flagd\'s own property "$flagd.timestamp"',
    );
    expect(await cli.snapshot(['shop'])).toEqual(before);
    expect((await cli.run('latest', 'fresh-flag', '-p', 'shop')).code).toBe(1);
  });

  it('refuses a flag that exists with another type, and writes none of the others', async () => {
    const before = await cli.snapshot(['shop']);
    const clash = {
      flags: {
        'brand-new': { state: 'ENABLED', variants: bool, defaultVariant: 'on' },
        'page-size': { state: 'ENABLED', variants: { s: 's', l: 'l' }, defaultVariant: 's' },
      },
    };
    const result = await cli.run('import', 'flagd', file('clash.json', clash), '-p', 'shop');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "page-size exists in project shop as a number flag; the flagd file makes it a data: a flag's type cannot change",
    );
    expect(await cli.snapshot(['shop'])).toEqual(before);
  });

  it('with --dry-run shows the plan and writes nothing', async () => {
    const before = await cli.snapshot(['shop']);
    const result = await cli.run(
      'import',
      'flagd',
      file('dry.json', { flags: { 'dry-flag': { state: 'ENABLED', variants: bool, defaultVariant: 'on' } } }),
      '-p',
      'shop',
      '--dry-run',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'would import 1 flag and 0 segments into project shop from dry.json (dry run: nothing written):',
    );
    expect(await cli.snapshot(['shop'])).toEqual(before);
  });

  it('is listed in vexil --help and explains itself', async () => {
    expect((await cli.run('--help')).stdout).toContain('import');
    const help = await cli.run('import', 'flagd', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: vexil import flagd [options] <file>');
    expect(help.stdout).toContain('--dry-run');
  });

  it('refuses a file that is not JSON, naming it', async () => {
    const path = join(cli.dir, 'flags.yaml');
    writeFileSync(path, 'flags:\n  a: {}\n');
    const result = await cli.run('import', 'flagd', path, '-p', 'shop');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path} is not JSON`);
  });
});
