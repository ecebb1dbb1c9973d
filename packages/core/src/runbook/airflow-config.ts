import { formatValue, InvalidInputError, VexilError } from '../errors.js';
import { RUNBOOK_FLAG_TYPES, storedFlagType } from '../flag-types.js';
import type { RowKind } from '../key-codec.js';
import { assertFlagName, assertProjectName, parseFlagType } from '../names.js';
import type { FlagRef } from '../types.js';
import { type PyValue, parsePythonLiteral } from './python-literal.js';

/**
 * The runbook system's Airflow job config: one JSON file per row to write, which
 * `vexil apply` accepts unchanged.
 *
 *   {
 *     "row_key_prefix_PROJECT": "csr-assistant",
 *     "row_key_prefix_ROWTYPE": "REVISION",
 *     "row_key_prefix_FLAGTYPE": "feature",
 *     "row_key_prefix_FLAGNAME": "multi_step_api_router",
 *     "row_cell_value": "{ 'Name': 'multi_step_api_router', 'Type': 'FEATURE', 'ControlValue': False, … }",
 *     "add_new_feature_flag": false
 *   }
 *
 * Only the file's shape is checked here; what a revision's rules mean is validated
 * where revisions are.
 */
export interface AirflowConfig {
  ref: FlagRef;
  kind: RowKind;
  /** The parsed `row_cell_value` dict. */
  cell: Record<string, PyValue>;
  /** True exactly when `kind` is FLAG: the config adds a new flag. */
  addNewFeatureFlag: boolean;
}

export const AIRFLOW_CONFIG_KEYS = [
  'row_key_prefix_PROJECT',
  'row_key_prefix_ROWTYPE',
  'row_key_prefix_FLAGTYPE',
  'row_key_prefix_FLAGNAME',
  'row_cell_value',
  'add_new_feature_flag',
] as const;

/**
 * Parses and checks one Airflow config. Every error is a {@link VexilError} whose
 * `field` names the config key at fault and whose message starts with `source`.
 */
export function parseAirflowConfig(text: string, source?: string): AirflowConfig {
  const prefix = source === undefined || source === '' ? '' : `${source}: `;
  try {
    return parseConfig(text, prefix);
  } catch (error) {
    // Errors from the name and literal parsers know the field but not the file.
    if (error instanceof VexilError && prefix !== '' && !error.message.startsWith(prefix)) {
      error.message = prefix + error.message;
    }
    throw error;
  }
}

function parseConfig(text: string, prefix: string): AirflowConfig {
  const json = parseJson(text.startsWith('\uFEFF') ? text.slice(1) : text, prefix);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidInputError(
      `${prefix}an Airflow config must be a JSON object with the keys ${AIRFLOW_CONFIG_KEYS.join(', ')}; got ${Array.isArray(json) ? 'an array' : formatValue(json)}`,
    );
  }
  const config = json as Record<string, unknown>;

  const allowed: readonly string[] = AIRFLOW_CONFIG_KEYS;
  const unknown = Object.keys(config).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `${prefix}unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => JSON.stringify(key)).join(', ')}; the allowed keys are ${AIRFLOW_CONFIG_KEYS.join(', ')}`,
      { field: unknown[0] },
    );
  }
  const missing = AIRFLOW_CONFIG_KEYS.filter((key) => !Object.hasOwn(config, key));
  if (missing.length > 0) {
    throw new InvalidInputError(
      `${prefix}missing required key${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; an Airflow config has the keys ${AIRFLOW_CONFIG_KEYS.join(', ')}`,
      { field: missing[0] },
    );
  }

  const project = config.row_key_prefix_PROJECT;
  assertProjectName(project, 'row_key_prefix_PROJECT');

  const kind = config.row_key_prefix_ROWTYPE;
  if (kind !== 'FLAG' && kind !== 'REVISION') {
    throw new InvalidInputError(
      `${prefix}row_key_prefix_ROWTYPE must be "FLAG" or "REVISION", got ${formatValue(kind)}`,
      {
        field: 'row_key_prefix_ROWTYPE',
      },
    );
  }

  // The runbook's configs name only its two flag types; the flag model's new keys may still appear in row_cell_value.
  const flagType = parseFlagType(config.row_key_prefix_FLAGTYPE, 'row_key_prefix_FLAGTYPE', RUNBOOK_FLAG_TYPES);

  const name = config.row_key_prefix_FLAGNAME;
  assertFlagName(name, 'row_key_prefix_FLAGNAME');

  const cell = parseCell(config.row_cell_value, prefix);

  const addNewFeatureFlag = parseBoolean(config.add_new_feature_flag, prefix);
  if (addNewFeatureFlag && kind !== 'FLAG') {
    throw new InvalidInputError(
      `${prefix}add_new_feature_flag is true but row_key_prefix_ROWTYPE is "${kind}": a new flag is added with a FLAG row. ` +
        'Set row_key_prefix_ROWTYPE to "FLAG" to add the flag, or add_new_feature_flag to false to add a revision',
      { field: 'add_new_feature_flag' },
    );
  }
  if (!addNewFeatureFlag && kind === 'FLAG') {
    throw new InvalidInputError(
      `${prefix}add_new_feature_flag is false but row_key_prefix_ROWTYPE is "FLAG": a FLAG row adds a new flag. ` +
        'Set add_new_feature_flag to true to add the flag, or row_key_prefix_ROWTYPE to "REVISION" to add a revision',
      { field: 'add_new_feature_flag' },
    );
  }

  if (Object.hasOwn(cell, 'Name') && cell.Name !== name) {
    throw new InvalidInputError(
      `${prefix}row_cell_value.Name is ${formatValue(cell.Name)} but row_key_prefix_FLAGNAME is ${JSON.stringify(name)}; they must be the same flag name`,
      { field: 'row_cell_value.Name' },
    );
  }
  const storedType = storedFlagType(flagType);
  if (Object.hasOwn(cell, 'Type') && cell.Type !== storedType) {
    throw new InvalidInputError(
      `${prefix}row_cell_value.Type is ${formatValue(cell.Type)} but row_key_prefix_FLAGTYPE is "${flagType}": a ${flagType} flag's Type is "${storedType}"`,
      { field: 'row_cell_value.Type' },
    );
  }

  return { ref: { project, flagType, name }, kind, cell, addNewFeatureFlag };
}

/** A Python dict literal in a string, as the runbook system wrote it, or a JSON object. */
function parseCell(value: unknown, prefix: string): Record<string, PyValue> {
  const field = 'row_cell_value';
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return value as Record<string, PyValue>;
  }
  if (typeof value !== 'string') {
    throw new InvalidInputError(
      `${prefix}row_cell_value must be a string holding a Python dict literal ("{ 'Name': … }") or a JSON object, got ${formatValue(value)}`,
      { field },
    );
  }
  const cell = parsePythonLiteral(value, { field });
  if (typeof cell !== 'object' || cell === null || Array.isArray(cell)) {
    throw new InvalidInputError(
      `${prefix}row_cell_value must be a Python dict literal ({ 'Name': … }), got ${Array.isArray(cell) ? 'a list' : `the value ${value.trim()}`}`,
      { field },
    );
  }
  return cell;
}

/** A JSON boolean, or "true"/"false" in any case, as Airflow UIs send them. */
function parseBoolean(value: unknown, prefix: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw new InvalidInputError(
    `${prefix}add_new_feature_flag must be true (the config adds a new flag) or false (it adds a revision), got ${formatValue(value)}`,
    { field: 'add_new_feature_flag' },
  );
}

function parseJson(text: string, prefix: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const found = findJsonError(text);
    const offset = found?.offset ?? text.length;
    const what = found?.expected ?? (error instanceof Error ? error.message : String(error));
    const { line, column } = lineAndColumn(text, offset);
    throw new InvalidInputError(`${prefix}not valid JSON: line ${line}, column ${column}: ${what}`, { cause: error });
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: Array.from(before.slice(lineStart)).length + 1 };
}

interface JsonError {
  offset: number;
  expected: string;
}

/**
 * Where JSON.parse failed and what it expected there: V8's own messages often
 * carry no position. Only called on text JSON.parse rejected; `undefined` if this
 * scanner finds no fault.
 */
function findJsonError(text: string): JsonError | undefined {
  let pos = 0;
  const got = (): string => {
    const ch = text[pos];
    return ch === undefined ? 'end of input' : JSON.stringify(String.fromCodePoint(text.codePointAt(pos)!));
  };
  const fault = (expected: string): JsonError => ({ offset: pos, expected: `expected ${expected}, got ${got()}` });
  const skip = (): void => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos]!)) pos += 1;
  };
  const scanString = (): JsonError | undefined => {
    pos += 1;
    for (;;) {
      const ch = text[pos];
      if (ch === undefined || ch === '\n') return fault('a closing " for the string');
      if (ch === '"') {
        pos += 1;
        return undefined;
      }
      if (ch < ' ') return fault('no control characters inside a string (escape them, e.g. \\n)');
      if (ch === '\\') {
        const next = text[pos + 1] ?? '';
        if ('"\\/bfnrt'.includes(next) && next !== '') pos += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) pos += 6;
        else return fault('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
      } else {
        pos += 1;
      }
    }
  };
  const scanValue = (depth: number): JsonError | undefined => {
    skip();
    const ch = text[pos];
    if (ch === '"') return scanString();
    if (ch === '{' || ch === '[') {
      if (depth > 1000) return fault('less deeply nested JSON');
      const close = ch === '{' ? '}' : ']';
      pos += 1;
      skip();
      if (text[pos] === close) {
        pos += 1;
        return undefined;
      }
      for (;;) {
        skip();
        if (close === '}') {
          if (text[pos] !== '"') return fault('a property name in double quotes');
          const keyError = scanString();
          if (keyError) return keyError;
          skip();
          if (text[pos] !== ':') return fault("':' after the property name");
          pos += 1;
        }
        const valueError = scanValue(depth + 1);
        if (valueError) return valueError;
        skip();
        if (text[pos] === ',') {
          pos += 1;
          skip();
          if (text[pos] === close)
            return fault(`another ${close === '}' ? 'property' : 'item'} after ',' (JSON allows no trailing comma)`);
          continue;
        }
        if (text[pos] === close) {
          pos += 1;
          return undefined;
        }
        return fault(`',' or '${close}'`);
      }
    }
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = pos;
    const match = number.exec(text);
    if (match) {
      pos += match[0].length;
      return undefined;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return undefined;
      }
    }
    return fault('a JSON value');
  };
  const valueError = scanValue(0);
  if (valueError) return valueError;
  skip();
  return pos < text.length ? fault('end of input after the JSON object') : undefined;
}
