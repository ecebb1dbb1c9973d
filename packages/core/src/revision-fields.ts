import { formatValue, InvalidFlagTypeException } from './errors.js';
import type { FieldChecker } from './field-checker.js';
import {
  describeFlagTypes,
  FLAG_TYPES,
  flagTypeOf,
  isStoredFlagType,
  isValueOfType,
  storedFlagType,
} from './flag-types.js';
import { FLAG_NAME_RULE, isFlagName } from './names.js';
import type { FlagType, ResultValue, StoredFlagType, ValueFlagType } from './types.js';

export function parseStoredFlagType(value: unknown, field = 'Type'): StoredFlagType {
  if (isStoredFlagType(value)) return value;
  throw new InvalidFlagTypeException(value, {
    field,
    hint: `In stored rows Type is ${describeFlagTypes(FLAG_TYPES, true)}.`,
  });
}

/** `Name`: a flag or segment name, equal to `expected` when the row's key is known. */
export function checkName(
  check: FieldChecker,
  row: Record<string, unknown>,
  expected: string | undefined,
  what: 'flag' | 'segment',
): string {
  const name = row.Name;
  if (typeof name !== 'string' || !isFlagName(name)) {
    throw check.error('Name', `must be a ${what} name of ${FLAG_NAME_RULE}, got ${formatValue(name)}`);
  }
  if (expected !== undefined && name !== expected) {
    throw check.error(
      'Name',
      `is ${formatValue(name)} but the ${what} is ${formatValue(expected)}: they must be the same`,
    );
  }
  return name;
}

/** `Type`: a stored flag type, agreeing with `expected` when the row's key is known. */
export function checkStoredType(
  check: FieldChecker,
  row: Record<string, unknown>,
  expected: FlagType | undefined,
): StoredFlagType {
  const type = parseStoredFlagType(row.Type, check.field('Type'));
  if (expected !== undefined && flagTypeOf(type) !== expected) {
    throw check.error(
      'Type',
      `is ${formatValue(type)} but the flag type is ${formatValue(expected)}: use "${storedFlagType(expected)}"`,
    );
  }
  return type;
}

/** `FormatVersion`: a whole number of at least 1, 1 when absent. */
export function parseFormatVersion(check: FieldChecker, row: Record<string, unknown>): number {
  const raw = row.FormatVersion;
  if (raw === undefined || raw === null) return 1;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1) {
    throw check.error('FormatVersion', `must be a whole number of at least 1, got ${formatValue(raw)}`);
  }
  return raw;
}

const VALUE_SHAPES: Readonly<Record<ValueFlagType, string>> = {
  feature: 'a boolean (true or false) for a feature flag',
  data: 'a string for a data flag',
  number: 'a finite number for a number flag',
  json: 'a JSON object or array for a json flag',
};

/** A value the revision gives (`ControlValue`, a treatment's, a rule's): of the flag's type, or null. */
export function checkResultValue(check: FieldChecker, value: unknown, type: ValueFlagType, field: string): ResultValue {
  if (value === null) return null;
  if (!isValueOfType(value, type)) {
    throw check.error(
      field,
      `must be ${VALUE_SHAPES[type]}, got ${formatValue(value)}; null means "use the caller's default"`,
    );
  }
  return value;
}

/** A variant's value: of the flag's type, never null. */
export function checkFlagValue(check: FieldChecker, value: unknown, type: ValueFlagType, field: string): void {
  if (!isValueOfType(value, type)) throw check.error(field, `must be ${VALUE_SHAPES[type]}, got ${formatValue(value)}`);
}
