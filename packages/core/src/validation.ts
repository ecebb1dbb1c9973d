import { formatValue, InvalidHashAlgorithmException, InvalidRolloutPercentageException } from './errors.js';
import { FieldChecker, type ValidationContext } from './field-checker.js';
import { flagTypeOf } from './flag-types.js';
import { percentToBasisPoints } from './percentages.js';
import { checkName, checkResultValue, checkStoredType, parseFormatVersion } from './revision-fields.js';
import { parseRevisionMetadata } from './revision-metadata.js';
import { parseRules } from './targeting-rules.js';
import { type FlagMetadata, HASH_ALGORITHMS, type HashAlgorithm, type Revision, type Treatment } from './types.js';
import { checkVariantValue, parseVariants } from './variants.js';
import { isWTime } from './wtime.js';

export type { ValidationContext, ValidationMode } from './field-checker.js';
export { basisPointsOf, percentToBasisPoints } from './percentages.js';
export { parseStoredFlagType } from './revision-fields.js';

export function parseHashAlgorithm(value: unknown, field = 'HashAlgorithm'): HashAlgorithm {
  if (typeof value === 'string' && (HASH_ALGORITHMS as readonly string[]).includes(value))
    return value as HashAlgorithm;
  throw new InvalidHashAlgorithmException(value, { field });
}

/**
 * Checks a revision row (or a revision to be written) and returns it with defaults
 * filled in: the runbook fields as docs/design.md says, the flag model's as
 * docs/flag-model.md does. A segment's revision is refused here (see
 * `parseSegmentRevision`).
 */
export function parseRevision(raw: unknown, context: ValidationContext = {}): Revision {
  const check = new FieldChecker(context);
  const row = check.record(raw, 'revision');
  const Name = checkName(check, row, context.name, 'flag');
  const Type = checkStoredType(check, row, context.flagType);
  if (Type === 'SEGMENT') {
    throw check.error(
      'Type',
      'is "SEGMENT": a segment is not a flag and has no value (segments compile with compileSegment)',
    );
  }
  const flagType = flagTypeOf(Type) as Exclude<ReturnType<typeof flagTypeOf>, 'segment'>;
  const FormatVersion = parseFormatVersion(check, row);

  // Variants first: every value below must be one of theirs.
  const Variants = parseVariants(check, row.Variants, flagType);

  if (!('ControlValue' in row)) {
    throw check.error('ControlValue', 'is required: the value for everybody outside the treatments');
  }
  const ControlValue = checkResultValue(check, row.ControlValue, flagType, 'ControlValue');
  checkVariantValue(check, Variants, ControlValue, 'ControlValue');

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
    const treatment = new FieldChecker({ mode: check.mode, path: check.field(at) }).record(item, at);
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
    const Value = checkResultValue(check, treatment.Value, flagType, `${at}.Value`);
    checkVariantValue(check, Variants, Value, `${at}.Value`);
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

  if (Variants === undefined) delete revision.Variants;
  const Rules = parseRules(check, row.Rules, flagType, Variants);
  if (Rules === undefined) delete revision.Rules;
  else revision.Rules = Rules;
  if (check.optionalBoolean(row, 'Disabled') === undefined) delete revision.Disabled;
  if (parseRevisionMetadata(check, row.Metadata) === undefined) delete revision.Metadata;
  return revision;
}

/** Checks a FLAG row (metadata) and returns it. */
export function parseFlagMetadata(raw: unknown, context: ValidationContext = {}): FlagMetadata {
  const check = new FieldChecker(context);
  const row = check.record(raw, 'flag metadata');
  const Name = checkName(check, row, context.name, 'flag');
  const Type = checkStoredType(check, row, context.flagType);
  const metadata: FlagMetadata = { ...row, Name, Type };
  const description = check.optionalString(row, 'Description');
  if (description === undefined) delete metadata.Description;
  check.optionalString(row, 'CreatedTime');
  return metadata;
}
