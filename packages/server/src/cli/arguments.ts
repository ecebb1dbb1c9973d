import { type FlagType, InvalidInputError, type Treatment } from '@vexil/core';
import { type PyValue, parsePythonLiteral } from '@vexil/core/runbook';

/**
 * Command-line values arrive as strings; these turn them into typed fields with the
 * same field names in errors as the API uses.
 */
export function parseFlagValue(text: string, flagType: FlagType, field: string): boolean | string {
  if (flagType === 'data') return text;
  const lower = text.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new InvalidInputError(`${field} must be true or false for a feature flag, got ${JSON.stringify(text)}`, {
    field,
  });
}

/**
 * `--treatment PERCENT:VALUE`, for a feature flag `PERCENT:true|false[:ID,ID,…]`, or a
 * whole treatment as a JSON object or Python dict (`{'PercentRollout': 40, 'Value':
 * True, 'OverrideList': ['A1']}`). A data value may hold a colon itself, so for a data
 * flag a second colon is refused rather than guessed at: `25:gpt-4o:mini` could be the
 * value `gpt-4o:mini` or the value `gpt-4o` for id `mini`; the dict form says which.
 */
export function parseTreatmentSpec(
  spec: string,
  flagType: FlagType,
  index: number,
): Treatment | Record<string, PyValue> {
  const field = `Treatments[${index}]`;
  const trimmed = spec.trim();
  if (trimmed.startsWith('{')) {
    const value = parseStructured(trimmed, field);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidInputError(`${field} must be a dict of OverrideList, PercentRollout and Value`, { field });
    }
    return value;
  }
  const [percentText = '', valueText, ...rest] = trimmed.split(':');
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
