import type { FlagType, FlagValue, StoredFlagType, ValueFlagType } from './types.js';

/** Every flag type, in the order messages and listings show them. */
export const FLAG_TYPES: readonly FlagType[] = Object.freeze(['feature', 'data', 'number', 'json', 'segment']);
/** The flag types that hold values (all but `segment`). */
export const VALUE_FLAG_TYPES: readonly ValueFlagType[] = Object.freeze(['feature', 'data', 'number', 'json']);
/** The flag types of the runbook format (its Airflow configs know only these). */
export const RUNBOOK_FLAG_TYPES: readonly FlagType[] = Object.freeze(['feature', 'data']);

const STORED: Readonly<Record<FlagType, StoredFlagType>> = Object.freeze({
  feature: 'FEATURE',
  data: 'DATA',
  number: 'NUMBER',
  json: 'JSON',
  segment: 'SEGMENT',
});

const BY_STORED: Readonly<Record<StoredFlagType, FlagType>> = Object.freeze({
  FEATURE: 'feature',
  DATA: 'data',
  NUMBER: 'number',
  JSON: 'json',
  SEGMENT: 'segment',
});

/** The stored `Type` of each flag type, in the order of FLAG_TYPES. */
export const STORED_FLAG_TYPES: readonly StoredFlagType[] = Object.freeze(FLAG_TYPES.map((type) => STORED[type]));

/** What each flag type holds, for messages: `feature` → "boolean values". */
export const FLAG_TYPE_VALUES: Readonly<Record<FlagType, string>> = Object.freeze({
  feature: 'boolean values',
  data: 'string values',
  number: 'number values',
  json: 'JSON object or array values',
  segment: 'a segment: a reusable audience',
});

export function storedFlagType(flagType: FlagType): StoredFlagType {
  return STORED[flagType];
}

export function flagTypeOf(stored: StoredFlagType): FlagType {
  return BY_STORED[stored];
}

export function isFlagType(value: unknown): value is FlagType {
  return typeof value === 'string' && Object.hasOwn(STORED, value);
}

export function isStoredFlagType(value: unknown): value is StoredFlagType {
  return typeof value === 'string' && Object.hasOwn(BY_STORED, value);
}

export function isValueFlagType(value: unknown): value is ValueFlagType {
  return isFlagType(value) && value !== 'segment';
}

/** `"feature" (boolean values) or "data" (string values)`: the types a field accepts, for a message. */
export function describeFlagTypes(types: readonly FlagType[], stored = false): string {
  const parts = types.map((type) => `"${stored ? STORED[type] : type}" (${FLAG_TYPE_VALUES[type]})`);
  return parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/**
 * Whether `value` is a value of a flag of `type`; `json` values must be JSON objects or
 * arrays of JSON (finite numbers, no `undefined`, no cycles), as they are read from JSON.
 */
export function isValueOfType(value: unknown, type: ValueFlagType): value is FlagValue {
  switch (type) {
    case 'feature':
      return typeof value === 'boolean';
    case 'data':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'json':
      return typeof value === 'object' && value !== null && isJsonValue(value, 0);
  }
}

/** Nesting deeper than this is refused: a JSON value that deep is a mistake, and checks recurse. */
export const MAX_JSON_DEPTH = 64;

function isJsonValue(value: unknown, depth: number): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || depth >= MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key of Object.keys(value)) {
    if (!isJsonValue((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}
