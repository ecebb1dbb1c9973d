import {
  formatValue,
  InvalidFlagTypeException,
  InvalidHashAlgorithmException,
  InvalidInputError,
  InvalidRolloutPercentageException,
  ValidationError,
  type VexilError,
} from './errors.js';
import { isFlagName } from './names.js';
import {
  type FlagMetadata,
  type FlagType,
  type FlagValue,
  flagTypeOf,
  HASH_ALGORITHMS,
  type HashAlgorithm,
  type Revision,
  type StoredFlagType,
  type Treatment,
} from './types.js';
import { isWTime } from './wtime.js';

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

const PERCENT_REASON =
  'Value should be a number in range [0, 100] with at most two decimals (0.01 % steps), and the treatments of a revision may add up to at most 100.';

/** Percent → basis points (percent × 100, an integer), so every comparison after this is exact. */
export function percentToBasisPoints(value: unknown, field = 'PercentRollout'): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidRolloutPercentageException(value, `${field} must be a number. ${PERCENT_REASON}`, { field });
  }
  if (value < 0 || value > 100) {
    throw new InvalidRolloutPercentageException(value, `${field} is outside [0, 100]. ${PERCENT_REASON}`, { field });
  }
  const scaled = value * 100;
  const basisPoints = Math.round(scaled);
  // 0.07 * 100 is 7.000000000000001 in doubles; anything further from a whole number has a third decimal.
  if (Math.abs(scaled - basisPoints) > 1e-6) {
    throw new InvalidRolloutPercentageException(value, `${field} has more than two decimals. ${PERCENT_REASON}`, {
      field,
    });
  }
  return basisPoints;
}

export function parseHashAlgorithm(value: unknown, field = 'HashAlgorithm'): HashAlgorithm {
  if (typeof value === 'string' && (HASH_ALGORITHMS as readonly string[]).includes(value))
    return value as HashAlgorithm;
  throw new InvalidHashAlgorithmException(value, { field });
}

export function parseStoredFlagType(value: unknown, field = 'Type'): StoredFlagType {
  if (value === 'FEATURE' || value === 'DATA') return value;
  throw new InvalidFlagTypeException(value, {
    field,
    hint: 'In stored rows Type is "FEATURE" (boolean values) or "DATA" (string values).',
  });
}

class Checker {
  readonly mode: ValidationMode;
  private readonly path: string;

  constructor(context: ValidationContext) {
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
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      const text = `${this.path === '' ? what : this.path} must be an object (a dict of fields), got ${formatValue(raw)}`;
      throw this.mode === 'input'
        ? new InvalidInputError(text, { field: this.path || undefined })
        : new ValidationError(text, { field: this.path || undefined });
    }
    return raw as Record<string, unknown>;
  }

  name(raw: Record<string, unknown>, expected: string | undefined): string {
    const name = raw.Name;
    if (typeof name !== 'string' || !isFlagName(name)) {
      throw this.error(
        'Name',
        `must be a flag name of lower-case letters, digits and underscores (a-z, 0-9, _), got ${formatValue(name)}`,
      );
    }
    if (expected !== undefined && name !== expected) {
      throw this.error(
        'Name',
        `is ${formatValue(name)} but the flag is ${formatValue(expected)}: they must be the same`,
      );
    }
    return name;
  }

  type(raw: Record<string, unknown>, expected: FlagType | undefined): StoredFlagType {
    const type = parseStoredFlagType(raw.Type, this.field('Type'));
    if (expected !== undefined && flagTypeOf(type) !== expected) {
      throw this.error(
        'Type',
        `is ${formatValue(type)} but the flag type is ${formatValue(expected)}: use "${expected === 'feature' ? 'FEATURE' : 'DATA'}"`,
      );
    }
    return type;
  }

  value(value: unknown, type: StoredFlagType, field: string): FlagValue {
    if (type === 'FEATURE' && typeof value !== 'boolean') {
      throw this.error(field, `must be a boolean (true or false) for a feature flag, got ${formatValue(value)}`);
    }
    if (type === 'DATA' && typeof value !== 'string') {
      throw this.error(field, `must be a string for a data flag, got ${formatValue(value)}`);
    }
    return value as FlagValue;
  }

  optionalString(raw: Record<string, unknown>, field: string): string | undefined {
    const value = raw[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw this.error(field, `must be a string, got ${formatValue(value)}`);
    return value;
  }
}

/** Checks a revision row (or a revision to be written) and returns it with defaults filled in. */
export function parseRevision(raw: unknown, context: ValidationContext = {}): Revision {
  const check = new Checker(context);
  const row = check.record(raw, 'revision');
  const Name = check.name(row, context.name);
  const Type = check.type(row, context.flagType);

  let FormatVersion = 1;
  if (row.FormatVersion !== undefined && row.FormatVersion !== null) {
    if (typeof row.FormatVersion !== 'number' || !Number.isInteger(row.FormatVersion) || row.FormatVersion < 1) {
      throw check.error('FormatVersion', `must be a whole number of at least 1, got ${formatValue(row.FormatVersion)}`);
    }
    FormatVersion = row.FormatVersion;
  }

  if (!('ControlValue' in row)) {
    throw check.error('ControlValue', 'is required: the value for everybody outside the treatments');
  }
  const ControlValue = check.value(row.ControlValue, Type, 'ControlValue');

  const rawTreatments = row.Treatments ?? [];
  if (!Array.isArray(rawTreatments)) {
    throw check.error(
      'Treatments',
      `must be a list of {OverrideList, PercentRollout, Value}, got ${formatValue(rawTreatments)}`,
    );
  }
  let totalBasisPoints = 0;
  const Treatments: Treatment[] = rawTreatments.map((item: unknown, index) => {
    const at = `Treatments[${index}]`;
    const treatment = new Checker({ mode: check.mode, path: check.field(at) }).record(item, at);
    const overrides = treatment.OverrideList ?? [];
    if (!Array.isArray(overrides)) {
      throw check.error(`${at}.OverrideList`, `must be a list of instance ids, got ${formatValue(overrides)}`);
    }
    overrides.forEach((id: unknown, i) => {
      if (typeof id !== 'string') {
        throw check.error(
          `${at}.OverrideList[${i}]`,
          `must be a string instance id (quote it), got ${formatValue(id)}`,
        );
      }
    });
    const percentField = check.field(`${at}.PercentRollout`);
    totalBasisPoints += percentToBasisPoints(treatment.PercentRollout, percentField);
    if (!('Value' in treatment)) throw check.error(`${at}.Value`, 'is required: the value this treatment gives');
    const Value = check.value(treatment.Value, Type, `${at}.Value`);
    return {
      ...treatment,
      OverrideList: overrides as string[],
      PercentRollout: treatment.PercentRollout as number,
      Value,
    };
  });
  if (totalBasisPoints > 10_000) {
    const total = totalBasisPoints / 100;
    throw new InvalidRolloutPercentageException(
      total,
      `The treatments' PercentRollout values add up to ${total}, more than 100. Lower them so that they sum to at most 100.`,
      { field: check.field('Treatments') },
    );
  }

  const revision: Revision = { ...row, Name, Type, FormatVersion, ControlValue, Treatments };
  for (const field of ['Comment', 'OwnerID', 'Salt'] as const) {
    const value = check.optionalString(row, field);
    if (value === undefined) delete revision[field];
    else revision[field] = value;
  }
  if (row.HashAlgorithm === undefined || row.HashAlgorithm === null) delete revision.HashAlgorithm;
  else revision.HashAlgorithm = parseHashAlgorithm(row.HashAlgorithm, check.field('HashAlgorithm'));
  const created = check.optionalString(row, 'CreatedTime');
  if (created === undefined) delete revision.CreatedTime;
  const rollbackOf = check.optionalString(row, 'RollbackOf');
  if (rollbackOf !== undefined && !isWTime(rollbackOf)) {
    throw check.error(
      'RollbackOf',
      `must be a revision time YYYY-MM-DD HH:MM:SS.ffffff, got ${formatValue(rollbackOf)}`,
    );
  }
  if (row.Archived !== undefined && row.Archived !== null && typeof row.Archived !== 'boolean') {
    throw check.error('Archived', `must be true or false, got ${formatValue(row.Archived)}`);
  }
  return revision;
}

/** Checks a FLAG row (metadata) and returns it. */
export function parseFlagMetadata(raw: unknown, context: ValidationContext = {}): FlagMetadata {
  const check = new Checker(context);
  const row = check.record(raw, 'flag metadata');
  const Name = check.name(row, context.name);
  const Type = check.type(row, context.flagType);
  const metadata: FlagMetadata = { ...row, Name, Type };
  const description = check.optionalString(row, 'Description');
  if (description === undefined) delete metadata.Description;
  check.optionalString(row, 'CreatedTime');
  return metadata;
}
