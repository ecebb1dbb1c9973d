import { readFileSync } from 'node:fs';
import { type AirflowConfig, parseAirflowConfig } from '@vexil/core/runbook';
import { describe, expect, it } from 'vitest';
import { InvalidFlagTypeException, InvalidInputError, VexilError } from '../src/errors.js';

/** The runbook document's sample configs, kept as the repository's example. */
function sample(file: string): string {
  return readFileSync(new URL(`../../../examples/runbook-dag/${file}`, import.meta.url), 'utf8');
}

const REVISION_CONFIG = {
  row_key_prefix_PROJECT: 'csr-assistant',
  row_key_prefix_ROWTYPE: 'REVISION',
  row_key_prefix_FLAGTYPE: 'feature',
  row_key_prefix_FLAGNAME: 'multi_step_api_router',
  row_cell_value: "{ 'Name': 'multi_step_api_router', 'Type': 'FEATURE', 'ControlValue': False, 'Treatments': [] }",
  add_new_feature_flag: false,
};

/** The revision config with some keys replaced (or removed, given `undefined`), as JSON text. */
function config(changes: Record<string, unknown> = {}): string {
  const merged: Record<string, unknown> = { ...REVISION_CONFIG, ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete merged[key];
  return JSON.stringify(merged, null, 2);
}

/** `source` null: no source given. */
function errorOf(text: string, source: string | null = 'dag/02.json'): VexilError {
  try {
    parseAirflowConfig(text, source ?? undefined);
  } catch (error) {
    if (error instanceof VexilError) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('parseAirflowConfig: the sample configs', () => {
  it('parses 01-add-flag.json to a FLAG row that adds the flag', () => {
    const parsed = parseAirflowConfig(sample('01-add-flag.json'), 'dag/01-add-flag.json');
    expect(parsed).toStrictEqual<AirflowConfig>({
      ref: { project: 'csr-assistant', flagType: 'feature', name: 'multi_step_api_router' },
      kind: 'FLAG',
      cell: { Name: 'multi_step_api_router', Description: 'Enable multi step API router', Type: 'FEATURE' },
      addNewFeatureFlag: true,
    });
  });

  it('parses 02-add-revision.json to a REVISION row with its treatments', () => {
    const parsed = parseAirflowConfig(sample('02-add-revision.json'), 'dag/02-add-revision.json');
    expect(parsed).toStrictEqual<AirflowConfig>({
      ref: { project: 'csr-assistant', flagType: 'feature', name: 'multi_step_api_router' },
      kind: 'REVISION',
      cell: {
        Name: 'multi_step_api_router',
        Type: 'FEATURE',
        FormatVersion: 1,
        ControlValue: false,
        Comment: 'Rollout to 40%',
        OwnerID: 'John Smith',
        Treatments: [{ OverrideList: ['A12345'], PercentRollout: 40, Value: true }],
      },
      addNewFeatureFlag: false,
    });
    expect(Object.keys(parsed.cell)).toStrictEqual([
      'Name',
      'Type',
      'FormatVersion',
      'ControlValue',
      'Comment',
      'OwnerID',
      'Treatments',
    ]);
  });
});

describe('parseAirflowConfig: accepted variations', () => {
  it('accepts row_cell_value as a JSON object', () => {
    const cell = { Name: 'multi_step_api_router', Type: 'FEATURE', ControlValue: false, Treatments: [] };
    expect(parseAirflowConfig(config({ row_cell_value: cell })).cell).toStrictEqual(cell);
  });

  it('accepts add_new_feature_flag as the strings "true" and "false" in any case', () => {
    expect(parseAirflowConfig(config({ add_new_feature_flag: 'False' })).addNewFeatureFlag).toBe(false);
    const flag = config({
      row_key_prefix_ROWTYPE: 'FLAG',
      row_cell_value: "{'Name': 'multi_step_api_router'}",
      add_new_feature_flag: 'TRUE',
    });
    expect(parseAirflowConfig(flag).addNewFeatureFlag).toBe(true);
  });

  it('accepts a cell without Name and Type', () => {
    expect(parseAirflowConfig(config({ row_cell_value: "{'ControlValue': True}" })).cell).toStrictEqual({
      ControlValue: true,
    });
  });

  it('checks Type against a data flag as DATA', () => {
    const data = config({ row_key_prefix_FLAGTYPE: 'data', row_cell_value: "{'Type': 'DATA', 'ControlValue': 'v1'}" });
    expect(parseAirflowConfig(data).ref.flagType).toBe('data');
  });

  it('leaves revision semantics to revision validation', () => {
    const odd = "{'Treatments': [{'PercentRollout': 150, 'Value': 'not a boolean'}], 'FormatVersion': 99}";
    expect(parseAirflowConfig(config({ row_cell_value: odd })).cell.FormatVersion).toBe(99);
  });

  it('accepts a file that starts with a byte order mark', () => {
    expect(parseAirflowConfig(`\uFEFF${config()}`).kind).toBe('REVISION');
  });
});

describe('parseAirflowConfig: errors', () => {
  it('rejects invalid JSON with the source, line and column', () => {
    const error = errorOf('{\n  "row_key_prefix_PROJECT": "csr-assistant"\n  "row_key_prefix_ROWTYPE": "FLAG"\n}');
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(/^dag\/02\.json: not valid JSON: line 3, column 3: expected ',' or '}'/);
  });

  it('rejects a trailing comma in the JSON', () => {
    const error = errorOf('{"row_key_prefix_PROJECT": "x",}');
    expect(error.message).toContain('line 1, column 32');
    expect(error.message).toContain('JSON allows no trailing comma');
  });

  it('rejects JSON that is not an object', () => {
    const error = errorOf('[1, 2]');
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(/^dag\/02\.json: an Airflow config must be a JSON object .* got an array$/);
  });

  it('rejects unknown keys and lists the allowed ones', () => {
    const error = errorOf(config({ row_key_prefix_WTIME: 'x', extra: 1 }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe('row_key_prefix_WTIME');
    expect(error.message).toContain('dag/02.json: unknown keys "row_key_prefix_WTIME", "extra"');
    expect(error.message).toContain(
      'the allowed keys are row_key_prefix_PROJECT, row_key_prefix_ROWTYPE, row_key_prefix_FLAGTYPE, row_key_prefix_FLAGNAME, row_cell_value, add_new_feature_flag',
    );
  });

  it('rejects missing keys and names each', () => {
    const error = errorOf(config({ row_key_prefix_FLAGNAME: undefined, add_new_feature_flag: undefined }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe('row_key_prefix_FLAGNAME');
    expect(error.message).toContain('dag/02.json: missing required keys row_key_prefix_FLAGNAME, add_new_feature_flag');
  });

  it('rejects an invalid project name', () => {
    const error = errorOf(config({ row_key_prefix_PROJECT: 'csr#assistant' }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe('row_key_prefix_PROJECT');
    expect(error.message).toMatch(/^dag\/02\.json: row_key_prefix_PROJECT "csr#assistant" is not a valid project name/);
  });

  it('rejects a row type other than FLAG or REVISION', () => {
    const error = errorOf(config({ row_key_prefix_ROWTYPE: 'REV' }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe('row_key_prefix_ROWTYPE');
    expect(error.message).toBe('dag/02.json: row_key_prefix_ROWTYPE must be "FLAG" or "REVISION", got "REV"');
  });

  it('rejects a flag type other than feature or data as InvalidFlagTypeException', () => {
    const error = errorOf(config({ row_key_prefix_FLAGTYPE: 'FEATURE' }));
    expect(error).toBeInstanceOf(InvalidFlagTypeException);
    expect(error.field).toBe('row_key_prefix_FLAGTYPE');
    expect(error.message).toBe(
      'dag/02.json: Invalid flag type: "FEATURE". Use "feature" (boolean values) or "data" (string values).',
    );
  });

  it('rejects an invalid flag name', () => {
    const error = errorOf(config({ row_key_prefix_FLAGNAME: 'Multi-Step' }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe('row_key_prefix_FLAGNAME');
    expect(error.message).toMatch(/^dag\/02\.json: row_key_prefix_FLAGNAME "Multi-Step" is not a valid flag name/);
  });

  it('rejects a Python syntax error in row_cell_value with its line and column', () => {
    const error = errorOf(config({ row_cell_value: "{'Name': 'multi_step_api_router', 'ControlValue': false}" }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe('row_cell_value');
    expect(error.message).toMatch(/^dag\/02\.json: row_cell_value: line 1, column 51: expected a value, got false/);
    expect(error.message).toContain('use True/False/None');
  });

  it('rejects a row_cell_value that is not a dict', () => {
    const list = errorOf(config({ row_cell_value: "['Name']" }));
    expect(list).toBeInstanceOf(InvalidInputError);
    expect(list.field).toBe('row_cell_value');
    expect(list.message).toBe("dag/02.json: row_cell_value must be a Python dict literal ({ 'Name': … }), got a list");
    expect(errorOf(config({ row_cell_value: "'text'" })).message).toContain("got the value 'text'");
  });

  it('rejects a row_cell_value that is neither a string nor an object', () => {
    for (const value of [null, 40, ['Name']]) {
      const error = errorOf(config({ row_cell_value: value }));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.field).toBe('row_cell_value');
      expect(error.message).toContain('dag/02.json: row_cell_value must be a string holding a Python dict literal');
    }
  });

  it('rejects an add_new_feature_flag that is not a boolean', () => {
    for (const value of ['yes', 1, null]) {
      const error = errorOf(config({ add_new_feature_flag: value }));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.field).toBe('add_new_feature_flag');
      expect(error.message).toContain('dag/02.json: add_new_feature_flag must be true');
    }
  });

  it('rejects add_new_feature_flag true on a REVISION row and says what to change', () => {
    const error = errorOf(config({ add_new_feature_flag: true }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe('add_new_feature_flag');
    expect(error.message).toContain(
      'dag/02.json: add_new_feature_flag is true but row_key_prefix_ROWTYPE is "REVISION"',
    );
    expect(error.message).toContain('Set row_key_prefix_ROWTYPE to "FLAG"');
    expect(error.message).toContain('or add_new_feature_flag to false');
  });

  it('rejects add_new_feature_flag false on a FLAG row and says what to change', () => {
    const error = errorOf(config({ row_key_prefix_ROWTYPE: 'FLAG' }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe('add_new_feature_flag');
    expect(error.message).toContain('dag/02.json: add_new_feature_flag is false but row_key_prefix_ROWTYPE is "FLAG"');
    expect(error.message).toContain('Set add_new_feature_flag to true');
    expect(error.message).toContain('or row_key_prefix_ROWTYPE to "REVISION"');
  });

  it('rejects a cell Name that differs from row_key_prefix_FLAGNAME', () => {
    const error = errorOf(config({ row_cell_value: "{'Name': 'other_flag'}" }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe('row_cell_value.Name');
    expect(error.message).toBe(
      'dag/02.json: row_cell_value.Name is "other_flag" but row_key_prefix_FLAGNAME is "multi_step_api_router"; they must be the same flag name',
    );
  });

  it('rejects a cell Type that does not match row_key_prefix_FLAGTYPE', () => {
    const feature = errorOf(config({ row_cell_value: "{'Type': 'DATA'}" }));
    expect(feature).toBeInstanceOf(InvalidInputError);
    expect(feature.field).toBe('row_cell_value.Type');
    expect(feature.message).toBe(
      'dag/02.json: row_cell_value.Type is "DATA" but row_key_prefix_FLAGTYPE is "feature": a feature flag\'s Type is "FEATURE"',
    );
    const data = errorOf(config({ row_key_prefix_FLAGTYPE: 'data', row_cell_value: "{'Type': 'feature'}" }));
    expect(data.field).toBe('row_cell_value.Type');
    expect(data.message).toContain('a data flag\'s Type is "DATA"');
  });

  it('starts messages with the field when no source is given', () => {
    expect(errorOf(config({ row_key_prefix_ROWTYPE: 'REV' }), null).message).toBe(
      'row_key_prefix_ROWTYPE must be "FLAG" or "REVISION", got "REV"',
    );
    expect(errorOf(config({ row_cell_value: '{' }), null).message).toMatch(/^row_cell_value: line 1, column 2: /);
  });
});
