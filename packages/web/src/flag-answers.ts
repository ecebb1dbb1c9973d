import type { EvaluationReason, FlagValue, JsonObject, JsonValue } from '@vexil/core';
import type { VexilWebErrorCode } from './web-error.js';

/**
 * A flag's answer for the client's context, in OFREP's bulk shape (both evaluations,
 * local and OFREP, give it): a value with its reason, or an error. `value` is left out
 * where the revision gives no value and for a disabled flag (the caller's default).
 */
export type FlagAnswer =
  | {
      readonly key: string;
      readonly value?: FlagValue;
      readonly reason: EvaluationReason;
      readonly variant?: string;
      readonly metadata?: Readonly<Record<string, string | number | boolean>>;
    }
  | { readonly key: string; readonly errorCode: string; readonly errorDetails?: string };

/** Every flag's answer for one context, by key. */
export type FlagAnswers = ReadonlyMap<string, FlagAnswer>;

/** The value types a get can ask for: the flag types' values (json: objects and arrays). */
export type FlagValueType = 'boolean' | 'string' | 'number' | 'object';

/** What a get answered, and why. */
export interface FlagDetails<T> {
  readonly value: T;
  /** OpenFeature's reason; `ERROR` when the default was answered because of `errorCode`. */
  readonly reason: EvaluationReason | 'ERROR';
  readonly variant?: string | undefined;
  readonly metadata?: Readonly<Record<string, string | number | boolean>> | undefined;
  readonly errorCode?: VexilWebErrorCode | undefined;
  readonly errorMessage?: string | undefined;
}

/** A default's value type, which picks the flag value type a get reads. */
export function valueTypeOf(value: FlagValue): FlagValueType {
  const type = typeof value;
  return type === 'boolean' || type === 'string' || type === 'number' ? type : 'object';
}

/** Whether `value` is a value of `type` (an object: a JSON object or array). */
function isOfType(value: unknown, type: FlagValueType): value is FlagValue {
  return type === 'object' ? typeof value === 'object' && value !== null : typeof value === type;
}

const OFREP_CODES = new Set<string>(['FLAG_NOT_FOUND', 'TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'PARSE_ERROR']);

/** Reads `answer` as a value of `defaultValue`'s type: its value, or the default with why. */
export function readAnswer<T extends FlagValue>(
  key: string,
  answer: FlagAnswer | undefined,
  defaultValue: T,
  missing: { code: VexilWebErrorCode; message: string },
): FlagDetails<T> {
  if (answer === undefined) {
    return { value: defaultValue, reason: 'ERROR', errorCode: missing.code, errorMessage: missing.message };
  }
  if ('errorCode' in answer) {
    const code = OFREP_CODES.has(answer.errorCode) ? (answer.errorCode as VexilWebErrorCode) : 'GENERAL';
    return { value: defaultValue, reason: 'ERROR', errorCode: code, errorMessage: answer.errorDetails ?? code };
  }
  const type = valueTypeOf(defaultValue);
  if (answer.value !== undefined && !isOfType(answer.value, type)) {
    return {
      value: defaultValue,
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
      errorMessage: `flag ${key} has a ${Array.isArray(answer.value) ? 'array' : typeof answer.value} value, not a ${type}`,
    };
  }
  return {
    value: (answer.value ?? defaultValue) as T,
    reason: answer.reason,
    variant: answer.variant,
    metadata: answer.metadata,
  };
}

/** Whether two answers are the same (so no change event is due). */
export function sameAnswer(a: FlagAnswer | undefined, b: FlagAnswer | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A json flag's value, as a get reads it. */
export type JsonFlagValue = JsonObject | JsonValue[];
