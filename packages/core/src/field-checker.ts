import { formatValue, InvalidInputError, ValidationError, type VexilError } from './errors.js';
import type { FlagType } from './types.js';

/**
 * `input` is what a caller sends (a bad value is their 400); `stored` is a row read
 * back, possibly written by another tool (a bad value is the data's fault: 500,
 * except the percentage and hash errors that the runbook system answered with 400).
 */
export type ValidationMode = 'input' | 'stored';

export interface ValidationContext {
  mode?: ValidationMode;
  /** When known (from the row key or the request), `Type` must agree with it. */
  flagType?: FlagType;
  /** When known, `Name` must equal it. */
  name?: string;
  /** Prefix for field paths in messages, e.g. `row_cell_value`. */
  path?: string;
}

/** Builds the errors of one validation: their class from the mode, their field from the path. */
export class FieldChecker {
  readonly mode: ValidationMode;
  readonly path: string;

  constructor(context: Pick<ValidationContext, 'mode' | 'path'>) {
    this.mode = context.mode ?? 'input';
    this.path = context.path ?? '';
  }

  field(name: string): string {
    return this.path === '' ? name : `${this.path}.${name}`;
  }

  error(field: string, message: string): VexilError {
    const full = this.field(field);
    const text = `${full} ${message}`;
    return this.mode === 'input'
      ? new InvalidInputError(text, { field: full })
      : new ValidationError(text, { field: full });
  }

  record(raw: unknown, what: string): Record<string, unknown> {
    if (!isRecord(raw)) {
      const text = `${this.path === '' ? what : this.path} must be an object (a dict of fields), got ${formatValue(raw)}`;
      throw this.mode === 'input'
        ? new InvalidInputError(text, { field: this.path || undefined })
        : new ValidationError(text, { field: this.path || undefined });
    }
    return raw;
  }

  /** An object at `field` of a structure: refused with the field's name when it is not one. */
  object(raw: unknown, field: string, shape: string): Record<string, unknown> {
    if (!isRecord(raw)) throw this.error(field, `must be an object ${shape}, got ${formatValue(raw)}`);
    return raw;
  }

  list(raw: unknown, field: string, shape: string): unknown[] {
    if (!Array.isArray(raw)) throw this.error(field, `must be a list of ${shape}, got ${formatValue(raw)}`);
    return raw;
  }

  /**
   * Fields a new structure (a rule, a condition, a split bucket) does not know are a
   * caller's typo, refused on input; stored rows may come from newer writers, so there
   * they are kept and ignored.
   */
  knownKeys(raw: Record<string, unknown>, field: string, known: readonly string[]): void {
    if (this.mode !== 'input') return;
    for (const key of Object.keys(raw)) {
      if (!known.includes(key)) {
        throw this.error(`${field}.${key}`, `is not a field of this object; use ${known.join(', ')}`);
      }
    }
  }

  optionalString(raw: Record<string, unknown>, field: string): string | undefined {
    const value = raw[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw this.error(field, `must be a string, got ${formatValue(value)}`);
    return value;
  }

  optionalBoolean(raw: Record<string, unknown>, field: string): boolean | undefined {
    const value = raw[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw this.error(field, `must be true or false, got ${formatValue(value)}`);
    return value;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
