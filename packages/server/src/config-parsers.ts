import { assertProjectName, InvalidInputError } from '@vexil/core';

/**
 * Reads one variable's text (trimmed, never empty: an empty variable counts as unset)
 * into its value. `name` is the variable, for the message of a bad value, which must
 * say what to set instead.
 */
export type Parser<T> = (raw: string, name: string) => T;

export const text: Parser<string> = (raw) => raw;

/** A number within a range; `integer` refuses fractions. */
export function numberIn(rule: { min: number; max?: number; integer?: boolean }): Parser<number> {
  return (raw, name) => {
    const value = Number(raw);
    const kind = rule.integer ? 'a whole number' : 'a number';
    const range = rule.max === undefined ? `of at least ${rule.min}` : `from ${rule.min} to ${rule.max}`;
    if (
      !Number.isFinite(value) ||
      (rule.integer && !Number.isInteger(value)) ||
      value < rule.min ||
      (rule.max !== undefined && value > rule.max)
    ) {
      throw new InvalidInputError(`${name} must be ${kind} ${range}, got ${JSON.stringify(raw)}`, { field: name });
    }
    return value;
  };
}

export const onOff: Parser<boolean> = (raw, name) => {
  const value = raw.toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(value)) return true;
  if (['off', 'false', '0', 'no'].includes(value)) return false;
  throw new InvalidInputError(`${name} must be on or off, got ${JSON.stringify(raw)}`, { field: name });
};

export function oneOf<const T extends string>(choices: readonly T[]): Parser<T> {
  return (raw, name) => {
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    throw new InvalidInputError(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`, {
      field: name,
    });
  };
}

export const projectName: Parser<string> = (raw, name) => {
  assertProjectName(raw, name);
  return raw;
};

/** `*`, or a comma-separated list of origins (scheme and host). */
export const origins: Parser<'*' | string[]> = (raw, name) => {
  if (raw === '*') return '*';
  const list = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of list) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new InvalidInputError(
        `${name} must be * or a comma-separated list of origins like https://app.example.com (scheme and host, no path), got ${JSON.stringify(origin)}`,
        { field: name },
      );
    }
  }
  return list;
};
