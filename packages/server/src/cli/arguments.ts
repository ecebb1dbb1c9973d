import { type FlagType, type FlagValue, InvalidInputError, type Treatment } from '@vexil/core';
import { type PyValue, parsePythonLiteral } from '@vexil/core/runbook';

/** A JSON number, and nothing looser (`Number()` would take "", "0x10" and "Infinity"). */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Command-line values arrive as strings; these turn them into typed fields with the
 * same field names in errors as the API uses. A value of a flag of `flagType`:
 * true/false, a string as it is, a number, or JSON (an object or an array).
 */
export function parseFlagValue(text: string, flagType: FlagType, field: string): FlagValue {
  switch (flagType) {
    case 'data':
      return text;
    case 'number': {
      const trimmed = text.trim();
      if (JSON_NUMBER.test(trimmed)) return Number(trimmed);
      throw new InvalidInputError(
        `${field} must be a number for a number flag (e.g. 42 or 0.5), got ${JSON.stringify(text)}`,
        {
          field,
        },
      );
    }
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new InvalidInputError(
          `${field} must be a JSON object or array for a json flag (e.g. '{"columns": 3}'), got ${JSON.stringify(text)}: ${(error as Error).message}`,
          { field },
        );
      }
      if (typeof value !== 'object' || value === null) {
        throw new InvalidInputError(`${field} must be a JSON object or array for a json flag, got ${text}`, { field });
      }
      return value as FlagValue;
    }
    default: {
      const lower = text.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      throw new InvalidInputError(`${field} must be true or false for a feature flag, got ${JSON.stringify(text)}`, {
        field,
      });
    }
  }
}

/**
 * `NAME=VALUE` (`--variant on=true`, `--metadata owner=team-a`): the name, and the
 * value as text (everything after the first `=`).
 */
export function parseAssignment(text: string, field: string, example: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) {
    throw new InvalidInputError(`${field} ${JSON.stringify(text)} is not NAME=VALUE (e.g. ${example})`, { field });
  }
  return [text.slice(0, at).trim(), text.slice(at + 1)];
}

/**
 * `--attr KEY=VALUE` gives a string attribute, `--attr KEY:=JSON` a typed one (a
 * number, a boolean, a list…): rules never convert types, so the CLI does not guess.
 */
export function parseAttribute(text: string): [string, unknown] {
  const field = 'context';
  const typed = /^([^=:]+):=(.*)$/s.exec(text);
  if (typed) {
    try {
      return [typed[1]!.trim(), JSON.parse(typed[2]!)];
    } catch (error) {
      throw new InvalidInputError(
        `--attr ${JSON.stringify(text)}: the value after := must be JSON (42, true, "x", [1,2]): ${(error as Error).message}`,
        { field },
      );
    }
  }
  const [key, value] = parseAssignment(text, field, 'country=DE or age:=42');
  return [key, value];
}

/** Ids given as `A1,A2` (repeatable options add up); empty parts are dropped, so `''` is no ids. */
export function parseIdList(values: readonly string[]): string[] {
  return values
    .flatMap((value) => value.split(','))
    .map((id) => id.trim())
    .filter((id) => id !== '');
}

/**
 * `--treatment PERCENT:VALUE`, for a feature or number flag `PERCENT:VALUE[:ID,ID,…]`, or a
 * whole treatment as a JSON object or Python dict (`{'PercentRollout': 40, 'Value':
 * True, 'OverrideList': ['A1']}`). A data value may hold a colon itself, so for a data
 * flag a second colon is refused rather than guessed at: `25:gpt-4o:mini` could be the
 * value `gpt-4o:mini` or the value `gpt-4o` for id `mini`; the dict form says which.
 */
export function parseTreatmentSpec(
  spec: string,
  flagType: FlagType,
  index: number,
): Treatment | Record<string, PyValue | FlagValue> {
  const field = `Treatments[${index}]`;
  const trimmed = spec.trim();
  if (trimmed.startsWith('{')) {
    const value = parseStructured(trimmed, field);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidInputError(`${field} must be a dict of OverrideList, PercentRollout and Value`, { field });
    }
    return value;
  }
  // A JSON value holds colons itself: for a json flag only the first colon separates (no ids; the dict form has them).
  const [percentText = '', valueText, ...rest] =
    flagType === 'json' && trimmed.includes(':')
      ? [trimmed.slice(0, trimmed.indexOf(':')), trimmed.slice(trimmed.indexOf(':') + 1)]
      : trimmed.split(':');
  if (valueText === undefined || percentText.trim() === '') {
    throw new InvalidInputError(
      `${field} ${JSON.stringify(spec)} is not PERCENT:VALUE (e.g. 40:true, 40:true:A1,A2 or 25:gpt-4o)`,
      { field },
    );
  }
  if (percentText.trim().endsWith('%')) {
    const fixed = `${percentText.trim().replace(/%+$/, '')}:${[valueText, ...rest].join(':')}`;
    throw new InvalidInputError(`${field} ${JSON.stringify(spec)}: the percentage is a plain number`, {
      field: `${field}.PercentRollout`,
      hint: `drop the %: --treatment ${fixed}`,
    });
  }
  if (flagType === 'data' && rest.length > 0) {
    const percent = percentText.trim();
    const whole = [valueText, ...rest].join(':');
    const ids = rest.join(':');
    throw new InvalidInputError(
      `${field} ${JSON.stringify(spec)} is ambiguous for a data flag: is ${JSON.stringify(ids)} an override list, or part of the value ${JSON.stringify(whole)}?`,
      {
        field,
        hint: `give the treatment as a JSON object: --treatment '{"PercentRollout": ${percent}, "Value": ${JSON.stringify(whole)}}' for a value holding a colon, or '{"PercentRollout": ${percent}, "Value": ${JSON.stringify(valueText)}, "OverrideList": [${ids
          .split(',')
          .map((id) => JSON.stringify(id.trim()))
          .join(', ')}]}' for an override list`,
      },
    );
  }
  const ids = rest
    .join(':')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const percent = Number(percentText);
  return {
    OverrideList: ids,
    // A non-number is passed on as text so validation reports it as the percentage error it is.
    PercentRollout: Number.isNaN(percent) ? (percentText as unknown as number) : percent,
    Value: parseFlagValue(valueText, flagType, `${field}.Value`),
  };
}

/** A revision or treatment file: JSON, or a Python dict literal as the runbook configs hold. */
export function parseStructured(text: string, field: string): PyValue {
  try {
    return JSON.parse(text) as PyValue;
  } catch {
    return parsePythonLiteral(text, { field });
  }
}

export function parseLimit(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidInputError(`--limit must be a whole number of at least 1, got ${JSON.stringify(text)}`, {
      field: 'limit',
    });
  }
  return value;
}
