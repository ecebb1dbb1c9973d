import { formatValue } from './errors.js';
import { type FieldChecker, isRecord } from './field-checker.js';
import { jsonEquals } from './json-equality.js';
import { checkFlagValue } from './revision-fields.js';
import type { FlagValue, ResultValue, ValueFlagType } from './types.js';

/** Variant names: 1–100 letters, digits, `_`, `-` or `.`, the first a letter or digit. */
const VARIANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export function isVariantName(name: string): boolean {
  return VARIANT_NAME.test(name);
}

/**
 * `Variants`, `{name: value}`: names as above, values of the flag's type and pairwise
 * different by content (JSON key order ignored), so a value names exactly one variant.
 */
export function parseVariants(
  check: FieldChecker,
  raw: unknown,
  type: ValueFlagType,
): Record<string, FlagValue> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw)) throw check.error('Variants', `must be an object {name: value}, got ${formatValue(raw)}`);
  const names = Object.keys(raw);
  if (names.length === 0) {
    throw check.error('Variants', 'must name at least one value; leave Variants out to name none');
  }
  names.forEach((name, i) => {
    if (!isVariantName(name)) {
      throw check.error(
        'Variants',
        `has the name ${formatValue(name)}: a variant name is 1 to 100 letters, digits, "_", "-" or ".", starting with a letter or digit`,
      );
    }
    checkFlagValue(check, raw[name], type, `Variants.${name}`);
    for (const earlier of names.slice(0, i)) {
      if (jsonEquals(raw[earlier] as FlagValue, raw[name] as FlagValue)) {
        throw check.error(
          `Variants.${name}`,
          `has the same value as Variants.${earlier}: each variant names a different value`,
        );
      }
    }
  });
  return raw as Record<string, FlagValue>;
}

/** The name of `value` in `variants`, or undefined when it has none (or is null). */
export function variantNameOf(
  variants: Readonly<Record<string, FlagValue>> | undefined,
  value: ResultValue,
): string | undefined {
  if (variants === undefined || value === null) return undefined;
  for (const name of Object.keys(variants)) if (jsonEquals(variants[name] as FlagValue, value)) return name;
  return undefined;
}

/** With `Variants`, every value the revision gives must be one of theirs, or null. */
export function checkVariantValue(
  check: FieldChecker,
  variants: Readonly<Record<string, FlagValue>> | undefined,
  value: ResultValue,
  field: string,
): void {
  if (variants === undefined || value === null || variantNameOf(variants, value) !== undefined) return;
  throw check.error(
    field,
    `is ${formatValue(value)}, which is not the value of a variant (${Object.keys(variants).join(', ')}): use one of their values, or null`,
  );
}
