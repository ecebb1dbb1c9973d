import { type EvaluationContext, formatValue, InvalidInputError, MAX_INSTANCE_ID_LENGTH } from '@vexil/core';

/**
 * An evaluation context from a caller (the admin API's body, the CLI's --attr):
 * an object of attributes; `targetingKey`, when given, a string of 1 to
 * MAX_INSTANCE_ID_LENGTH characters, as instance ids are.
 */
export function parseEvaluationContext(raw: unknown, field = 'context'): EvaluationContext {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidInputError(
      `${field} must be an object of attributes, e.g. {"targetingKey": "A123456", "country": "DE"}, got ${formatValue(raw)}`,
      { field },
    );
  }
  const context = raw as Record<string, unknown>;
  const key = context.targetingKey;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > MAX_INSTANCE_ID_LENGTH)) {
    throw new InvalidInputError(
      `${field}.targetingKey must be a string of 1 to ${MAX_INSTANCE_ID_LENGTH} characters (the id that overrides and percentages use), got ${formatValue(key)}`,
      { field: `${field}.targetingKey` },
    );
  }
  return context as EvaluationContext;
}
