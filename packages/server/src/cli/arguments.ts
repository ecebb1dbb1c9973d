import { type FlagType, InvalidInputError, type PyValue, parsePythonLiteral, type Treatment } from '@vexil/core';

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
 * `--treatment PERCENT:VALUE[:ID,ID,…]`, or a whole treatment as a JSON object or
 * Python dict (`{'PercentRollout': 40, 'Value': True, 'OverrideList': ['A1']}`),
 * which is the form to use when a data value itself contains a colon.
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
  const first = trimmed.indexOf(':');
  if (first <= 0) {
    throw new InvalidInputError(
      `${field} ${JSON.stringify(spec)} is not PERCENT:VALUE[:ID,ID,...] (e.g. 40:true or 25:gpt-4o:A1,A2)`,
      { field },
    );
  }
  const percentText = trimmed.slice(0, first);
  const rest = trimmed.slice(first + 1);
  const last = rest.lastIndexOf(':');
  const valueText = last === -1 ? rest : rest.slice(0, last);
  const ids =
    last === -1
      ? []
      : rest
          .slice(last + 1)
          .split(',')
          .map((id) => id.trim())
          .filter((id) => id !== '');
  const percent = Number(percentText);
  return {
    OverrideList: ids,
    // A non-number is passed on as text so validation reports it as the percentage error it is.
    PercentRollout: percentText.trim() === '' || Number.isNaN(percent) ? (percentText as unknown as number) : percent,
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
