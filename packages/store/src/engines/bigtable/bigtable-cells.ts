import type { ResultValue } from '@vexil/core';
import { parsePythonLiteral } from '@vexil/core/runbook';

/**
 * How field values become Bigtable cells and back, in the runbook system's layout:
 * one column per top-level field of a row, in the `metadata` family.
 *
 * Written: strings as they are (UTF-8), everything else as JSON (`false`, `1`,
 * `[{"OverrideList":…}]`), so Bigtable Studio shows `Name`, `Comment`, … as plain
 * text. Read: whatever the runbook system's own tools wrote as well — Python's
 * `str()` of a value (`False`, `[{'OverrideList': ['A1'], …, 'Value': True}]`) or
 * JSON — decoded field-aware for the fields the runbook system defines. A cell that
 * cannot be decoded is left as its text, so that validation above the store reports
 * it for that flag only.
 *
 * The flag model's fields (docs/flag-model.md) are columns like the others:
 * `Variants`, `Rules` and `Metadata` JSON, `Disabled` `true`/`false`.
 *
 * Exactness: every value Vexil writes reads back equal (JSON-wise). Known fields
 * hold their own types; a string in an unknown column that would read back as
 * something else (`"1.5"`, `"true"`, `"[1]"`, `"'x'"`) is written JSON-quoted
 * (`"1.5"` with its quotes), every other string as it is. A data flag's
 * `ControlValue` is text as it stands in the runbook's rows, so no spelling is left
 * for `null` ("the caller's default") there; in a row of `FormatVersion` 2 or more,
 * which only Vexil writes, the cell `null` is `null` and a string that would read
 * back as something else is written JSON-quoted, the rule of unknown columns.
 * (A data flag's `null` in a row claiming FormatVersion 1 would read back as the
 * string "null": Vexil's writers set FormatVersion 2 whenever a value is null.)
 *
 * Internal to the package.
 */

/** Fields whose cells are text as they stand, whatever they look like. */
const STRING_FIELDS: ReadonlySet<string> = new Set([
  'Name',
  'Description',
  'Type',
  'Comment',
  'OwnerID',
  'CreatedTime',
  'Salt',
  'HashAlgorithm',
  'RollbackOf',
]);

const BOOLEAN_TEXT: Readonly<Record<string, boolean>> = { True: true, true: true, False: false, false: false };

/** The flag type from a row key: `feature`, `data`, or whatever another tool wrote there. */
export type KeyFlagType = string;

/** Parses a cell as JSON, else as a Python literal; `undefined` when it is neither. */
function parseLiteral(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    // not JSON: try Python's spelling below
  }
  try {
    return { value: parsePythonLiteral(text, { field: 'cell' }) };
  } catch {
    return undefined;
  }
}

/** A value of a flag of `flagType`: `True`/`False`/`true`/`false` are booleans for `feature` flags. */
function flagValue(value: unknown, flagType: KeyFlagType): unknown {
  if (flagType === 'feature' && typeof value === 'string' && value in BOOLEAN_TEXT) return BOOLEAN_TEXT[value];
  return value;
}

/**
 * A cell that holds a bare value of the flag's type (ControlValue). `null` is the
 * flag model's "no value"; a feature flag's cell never held it (the runbook's values
 * are booleans), a data flag's only from FormatVersion 2 on (see above).
 */
function decodeFlagValue(text: string, flagType: KeyFlagType, formatVersion: number): unknown {
  if (flagType === 'data') return formatVersion >= 2 ? decodeModelString(text) : text;
  if (flagType === 'feature') {
    if (text in BOOLEAN_TEXT) return BOOLEAN_TEXT[text];
    return text === 'null' ? null : text;
  }
  return decodeUnknown(text);
}

/** A data flag's ControlValue in a FormatVersion 2 row: `null`, a JSON-quoted string, or the text itself. */
function decodeModelString(text: string): unknown {
  if (text === 'null') return null;
  if (text.startsWith('"')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'string') return parsed;
    } catch {
      // not a JSON string: the text itself
    }
  }
  return text;
}

/** A boolean field (Archived, Disabled), read as the runbook tools spell booleans. */
function decodeBoolean(text: string): unknown {
  return text in BOOLEAN_TEXT ? BOOLEAN_TEXT[text] : text;
}

/** A JSON-valued field of the flag model (Variants, Rules, Metadata): JSON, or a Python literal. */
function decodeStructured(text: string): unknown {
  const parsed = parseLiteral(text);
  return parsed === undefined ? text : parsed.value;
}

/** Fields of the flag model whose cells are always JSON, so any value reads back as written. */
const JSON_FIELDS: ReadonlySet<string> = new Set(['Treatments', 'Variants', 'Rules', 'Metadata', 'Disabled']);

function decodeUnknown(text: string): unknown {
  const parsed = parseLiteral(text);
  return parsed === undefined ? text : parsed.value;
}

/**
 * Decodes one cell of the `metadata` family of a flag row. `formatVersion` is the
 * row's (decoded first; 1 when it has none), which decides how a data flag's
 * ControlValue is spelt.
 */
export function decodeFieldCell(field: string, text: string, flagType: KeyFlagType, formatVersion = 1): unknown {
  if (STRING_FIELDS.has(field)) return text;
  switch (field) {
    case 'FormatVersion': {
      const parsed = parseLiteral(text);
      return parsed !== undefined && typeof parsed.value === 'number' ? parsed.value : text;
    }
    case 'ControlValue':
      return decodeFlagValue(text, flagType, formatVersion);
    case 'Archived':
      return decodeBoolean(text);
    case 'Disabled':
      return text in BOOLEAN_TEXT ? BOOLEAN_TEXT[text] : decodeStructured(text);
    case 'Variants':
    case 'Rules':
    case 'Metadata':
      return decodeStructured(text);
    case 'Treatments': {
      const parsed = parseLiteral(text);
      if (parsed === undefined) return text;
      if (!Array.isArray(parsed.value)) return parsed.value;
      return parsed.value.map((treatment: unknown) => {
        if (typeof treatment !== 'object' || treatment === null || Array.isArray(treatment)) return treatment;
        const record = treatment as Record<string, unknown>;
        if (!('Value' in record)) return record;
        const value = flagValue(record.Value, flagType);
        return value === record.Value ? record : { ...record, Value: value };
      });
    }
    default:
      return decodeUnknown(text);
  }
}

/**
 * Encodes one field of a flag row (a JSON value, as `JSON.parse` gives it) as its
 * cell text; `formatVersion` is the row's (see decodeFieldCell).
 */
export function encodeFieldCell(field: string, value: unknown, formatVersion = 1): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  if (field === 'ControlValue' && formatVersion >= 2) {
    // A flag-model row: `null` has a spelling, so a string that reads as something else is quoted.
    return decodeModelString(value) === value ? value : JSON.stringify(value);
  }
  if (STRING_FIELDS.has(field) || field === 'ControlValue' || field === 'FormatVersion' || field === 'Archived') {
    // Known fields: the runbook system's spelling. (A string where a number or a
    // boolean belongs is refused by validation before it gets here.)
    return value;
  }
  if (JSON_FIELDS.has(field)) return JSON.stringify(value);
  // An unknown column is decoded by its look: keep strings that read back as themselves.
  return decodeUnknown(value) === value ? value : JSON.stringify(value);
}

/** A row's FormatVersion as the cells spell it: a whole number, else 1. */
function formatVersionOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 1;
}

/** The columns of a flag row: one per top-level field, each as cell text. */
export function encodeColumns(fields: Readonly<Record<string, unknown>>): [string, string][] {
  const formatVersion = formatVersionOf(fields.FormatVersion);
  const columns: [string, string][] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    columns.push([field, encodeFieldCell(field, value, formatVersion)]);
  }
  return columns;
}

/** The fields of a flag row from its cells. */
export function decodeColumns(
  cells: Iterable<readonly [string, string]>,
  flagType: KeyFlagType,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const list = [...cells];
  const version = list.find(([field]) => field === 'FormatVersion');
  const formatVersion = formatVersionOf(version && decodeFieldCell('FormatVersion', version[1], flagType));
  for (const [field, text] of list) {
    // defineProperty: a column named `__proto__` is data like any other.
    Object.defineProperty(fields, field, {
      value: decodeFieldCell(field, text, flagType, formatVersion),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return fields;
}

// ── evaluation log ────────────────────────────────────────────────────────────

/**
 * `AssignedValue` as the runbook service wrote it (`True`, `gpt-4o`) or as JSON
 * (`true`, `"gpt-4o"`). A feature flag's value is a boolean when it reads as one; a
 * data flag's value is the text, unless the text is a JSON string literal; a number
 * or json flag's value is JSON. A data flag's text `null` is the string "null" (the
 * caller's default, `null`, is written as no cell at all: see logColumns).
 */
export function decodeLogValue(text: string, flagType: KeyFlagType): ResultValue {
  if (text.startsWith('"')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'string') return parsed;
    } catch {
      // not a JSON string: the text itself below
    }
  }
  if (flagType === 'data') return text;
  if (text in BOOLEAN_TEXT) return BOOLEAN_TEXT[text]!;
  if (flagType !== 'number' && flagType !== 'json') return text === 'null' && flagType === 'feature' ? null : text;
  const parsed = parseLiteral(text);
  return parsed === undefined ? text : (parsed.value as ResultValue);
}

/** `AssignedValue` as written: JSON, except strings, written as they are unless they would read back as something else. */
export function encodeLogValue(value: ResultValue, flagType: KeyFlagType): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  return decodeLogValue(value, flagType) === value ? value : JSON.stringify(value);
}

/** `CacheFlag`: `True`/`False` (the runbook service), `true`/`false` (JSON), `1`/`0`. */
export function decodeCacheFlag(text: string): boolean {
  const trimmed = text.trim();
  return trimmed === 'True' || trimmed === 'true' || trimmed === '1';
}
