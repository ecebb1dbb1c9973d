import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliHarness } from './cli-harness.js';

/** The runbook document's sample configs, kept as the repository's example. */
const dag = (file: string) => fileURLToPath(new URL(`../../../examples/runbook-dag/${file}`, import.meta.url));
const projects = ['csr-assistant', 'other'];
const feature = ['multi_step_api_router', '-p', 'csr-assistant', '-t', 'feature'];

/**
 * Every refused input exits non-zero, names the field at fault, and leaves the store
 * holding exactly what it held before.
 */
describe('vexil refuses bad input and changes nothing', () => {
  const cli = new CliHarness();
  const file = (name: string, text: string) => {
    const path = join(cli.dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    const applied = await cli.run('apply', dag('01-add-flag.json'), dag('02-add-revision.json'));
    expect(applied.code, applied.stderr).toBe(0);
    expect((await cli.run('add-flag', 'llm_provider', '-p', 'csr-assistant', '-t', 'data')).code).toBe(0);
  });
  afterAll(() => cli.cleanup());

  const dataRevision = JSON.stringify({
    ControlValue: 'openai',
    Treatments: [{ OverrideList: [], PercentRollout: 10, Value: true }],
  });
  const badLiteral = JSON.stringify({
    row_key_prefix_PROJECT: 'csr-assistant',
    row_key_prefix_ROWTYPE: 'REVISION',
    row_key_prefix_FLAGTYPE: 'feature',
    row_key_prefix_FLAGNAME: 'multi_step_api_router',
    row_cell_value: "{ 'Name': 'multi_step_api_router', 'Type': 'FEATURE', 'ControlValue': false, 'Treatments': [] }",
    add_new_feature_flag: false,
  });

  const cases: { name: string; args: () => string[]; field: string; message: RegExp }[] = [
    {
      name: 'a flag name with #',
      args: () => ['add-flag', 'bad#name', '-p', 'other', '-t', 'feature'],
      field: 'flag_name',
      message: /not a valid flag name/,
    },
    {
      name: 'a flag name with spaces',
      args: () => ['add-flag', 'has space', '-p', 'other', '-t', 'feature'],
      field: 'flag_name',
      message: /not a valid flag name/,
    },
    {
      name: 'an upper-case flag name',
      args: () => ['add-flag', 'Upper_Case', '-p', 'other', '-t', 'feature'],
      field: 'flag_name',
      message: /not a valid flag name/,
    },
    {
      name: 'an empty flag name',
      args: () => ['add-flag', '', '-p', 'other', '-t', 'feature'],
      field: 'flag_name',
      message: /flag_name is required/,
    },
    {
      name: 'an unknown flag type',
      args: () => ['add-flag', 'x', '-p', 'other', '-t', 'boolean'],
      field: 'flag_type',
      message: /Invalid flag type: "boolean"/,
    },
    {
      name: 'a negative percentage',
      args: () => ['add-revision', ...feature, '-c', 'false', '--treatment', '-5:true'],
      field: 'Treatments[0].PercentRollout',
      message: /Rollout percentage: -5 is invalid/,
    },
    {
      name: 'a percentage above 100',
      args: () => ['add-revision', ...feature, '-c', 'false', '--treatment', '100.5:true'],
      field: 'Treatments[0].PercentRollout',
      message: /Rollout percentage: 100.5 is invalid/,
    },
    {
      name: 'a percentage with three decimals',
      args: () => ['add-revision', ...feature, '-c', 'false', '--treatment', '12.345:true'],
      field: 'Treatments[0].PercentRollout',
      message: /more than two decimals/,
    },
    {
      name: 'a percentage that is not a number',
      args: () => ['add-revision', ...feature, '-c', 'false', '--treatment', 'forty:true'],
      field: 'Treatments[0].PercentRollout',
      message: /must be a number/,
    },
    {
      name: 'percentages summing past 100',
      args: () => ['add-revision', ...feature, '-c', 'false', '--treatment', '60:true', '--treatment', '40.01:true'],
      field: 'Treatments',
      message: /add up to 100.01, more than 100/,
    },
    {
      name: 'a control value of the wrong type',
      args: () => ['add-revision', ...feature, '-c', 'yes'],
      field: 'ControlValue',
      message: /must be true or false/,
    },
    {
      name: 'a treatment value of the wrong type (file)',
      args: () => [
        'add-revision',
        'llm_provider',
        '-p',
        'csr-assistant',
        '-t',
        'data',
        '-f',
        file('data.json', dataRevision),
      ],
      field: 'Treatments[0].Value',
      message: /must be a string for a data flag/,
    },
    {
      name: 'a malformed Python literal',
      args: () => ['apply', file('bad-literal.json', badLiteral)],
      field: 'row_cell_value',
      message: /line 1, column \d+/,
    },
    {
      name: 'an unknown hash name',
      args: () => ['add-revision', ...feature, '-c', 'false', '--treatment', '10:true', '--hash', 'crc32'],
      field: 'HashAlgorithm',
      message: /Invalid hash algorithm: "crc32"/,
    },
    {
      name: 'a revision for a flag that does not exist',
      args: () => ['add-revision', 'no_such_flag', '-p', 'csr-assistant', '-t', 'feature', '-c', 'false'],
      field: 'flag_name',
      message: /does not exist/,
    },
    {
      name: 'a data treatment with a second colon (25:gpt-4o:mini), not guessed as a value plus an override',
      args: () => [
        'add-revision',
        'llm_provider',
        '-p',
        'csr-assistant',
        '-t',
        'data',
        '-c',
        'openai',
        '--treatment',
        '25:gpt-4o:mini',
      ],
      field: 'Treatments[0]',
      message:
        /is ambiguous for a data flag: is "mini" an override list, or part of the value "gpt-4o:mini"\?\nhint: give the treatment as a JSON object: --treatment '\{"PercentRollout": 25, "Value": "gpt-4o:mini"\}' for a value holding a colon, or '\{"PercentRollout": 25, "Value": "gpt-4o", "OverrideList": \["mini"\]\}' for an override list/,
    },
    {
      name: 'a percentage written with % (40%:true)',
      args: () => ['add-revision', ...feature, '-c', 'false', '--treatment', '40%:true'],
      field: 'Treatments[0].PercentRollout',
      message: /Treatments\[0\] "40%:true": the percentage is a plain number.*\nhint: drop the %: --treatment 40:true/,
    },
    {
      name: 'a flag asked for by the type it does not have',
      args: () => ['latest', 'llm_provider', '-p', 'csr-assistant', '-t', 'feature'],
      field: 'flag_type',
      message:
        /error: No Flag Data found: flag llm_provider is a data flag, not a feature flag.*\nhint: pass -t data \(or leave -t out: the type is found by name\)/,
    },
    {
      name: 'a rollback to a revision that does not exist',
      args: () => ['rollback', ...feature, '--to', '2020-01-01 00:00:00.000000'],
      field: 'to',
      message: /has no revision at 2020-01-01 00:00:00.000000/,
    },
    {
      name: 'an unreadable config file',
      args: () => ['apply', join(cli.dir, 'missing.json')],
      field: 'file',
      message: /cannot read .*missing\.json/,
    },
    {
      name: 'a config file that is not JSON',
      args: () => ['apply', file('not-json.json', '{ "row_key_prefix_PROJECT": ')],
      field: '',
      message: /not-json\.json/,
    },
    {
      name: 'a good config followed by a bad one (all or nothing)',
      args: () => ['apply', dag('02-add-revision.json'), file('bad-literal-2.json', badLiteral)],
      field: 'row_cell_value',
      message: /bad-literal-2\.json/,
    },
  ];

  it.each(cases)('refuses $name', async ({ args, field, message }) => {
    const before = await cli.snapshot(projects);
    const result = await cli.run(...args());
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    if (field !== '') expect(result.stderr).toContain(field);
    expect(await cli.snapshot(projects)).toEqual(before);
  });

  it('answers --json errors on stderr while stdout stays empty', async () => {
    const result = await cli.run('--json', 'add-flag', 'Bad', '-p', 'other', '-t', 'feature');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
  });
});
