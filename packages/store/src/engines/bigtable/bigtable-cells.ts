import type { FlagValue, ResultValue } from '@vexil/core';
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
 * Exactness: every value Vexil writes reads back equal (JSON-wise). Known fields
 * hold their own types; a string in an unknown column that would read back as
 * something else (`"1.5"`, `"true"`, `"[1]"`, `"'x'"`) is written JSON-quoted
 * (`"1.5"` with its quotes), every other string as it is.
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

/** A cell that holds a bare value of the flag's type (ControlValue). */
function decodeFlagValue(text: string, flagType: KeyFlagType): unknown {
  if (flagType === 'data') return text;
  if (flagType === 'feature') return text in BOOLEAN_TEXT ? BOOLEAN_TEXT[text] : text;
  return decodeUnknown(text);
}

function decodeUnknown(text: string): unknown {
  const parsed = parseLiteral(text);
  return parsed === undefined ? text : parsed.value;
}

/** Decodes one cell of the `metadata` family of a flag row. */
export function decodeFieldCell(field: string, text: string, flagType: KeyFlagType): unknown {
  if (STRING_FIELDS.has(field)) return text;
  switch (field) {
    case 'FormatVersion': {
      const parsed = parseLiteral(text);
      return parsed !== undefined && typeof parsed.value === 'number' ? parsed.value : text;
    }
    case 'ControlValue':
      return decodeFlagValue(text, flagType);
    case 'Archived':
      return text in BOOLEAN_TEXT ? BOOLEAN_TEXT[text] : text;
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

/** Encodes one field of a flag row (a JSON value, as `JSON.parse` gives it) as its cell text. */
export function encodeFieldCell(field: string, value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  if (STRING_FIELDS.has(field) || field === 'ControlValue' || field === 'FormatVersion' || field === 'Archived') {
    // Known fields: the runbook system's spelling. (A string where a number or a
    // boolean belongs is refused by validation before it gets here.)
    return value;
  }
  if (field === 'Treatments') return JSON.stringify(value);
  // An unknown column is decoded by its look: keep strings that read back as themselves.
  return decodeUnknown(value) === value ? value : JSON.stringify(value);
}

/** The columns of a flag row: one per top-level field, each as cell text. */
export function encodeColumns(fields: Readonly<Record<string, unknown>>): [string, string][] {
  const columns: [string, string][] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    columns.push([field, encodeFieldCell(field, value)]);
  }
  return columns;
}

/** The fields of a flag row from its cells. */
export function decodeColumns(
  cells: Iterable<readonly [string, string]>,
  flagType: KeyFlagType,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [field, text] of cells) {
    // defineProperty: a column named `__proto__` is data like any other.
    Object.defineProperty(fields, field, {
      value: decodeFieldCell(field, text, flagType),
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
 * data flag's value is the text, unless the text is a JSON string literal.
 */
export function decodeLogValue(text: string, flagType: KeyFlagType): FlagValue {
  if (text.startsWith('"')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'string') return parsed;
    } catch {
      // not a JSON string: the text itself below
    }
  }
  if (flagType !== 'data' && text in BOOLEAN_TEXT) return BOOLEAN_TEXT[text]!;
  return text;
}

/** `AssignedValue` as written: booleans as JSON, strings as they are unless they would read back as something else. */
export function encodeLogValue(value: ResultValue, flagType: KeyFlagType): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  return decodeLogValue(value, flagType) === value ? value : JSON.stringify(value);
}

/** `CacheFlag`: `True`/`False` (the runbook service), `true`/`false` (JSON), `1`/`0`. */
export function decodeCacheFlag(text: string): boolean {
  const trimmed = text.trim();
  return trimmed === 'True' || trimmed === 'true' || trimmed === '1';
}
