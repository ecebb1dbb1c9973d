import { InvalidFlagTypeException, InvalidInputError } from './errors.js';
import { FLAG_TYPES } from './flag-types.js';
import { MAX_NAME_LENGTH } from './limits.js';
import type { FlagType } from './types.js';

/**
 * Flag and segment names (docs/flag-model.md#flag-types-and-names). `#` separates row
 * key fields, so it is never allowed; `-` and `.` are, for OpenFeature-style keys
 * (`boolean-flag`, `checkout.v2`), but not first, so every runbook name stays valid
 * and a name never starts like an option or a relative path.
 */
const FLAG_NAME = /^[a-z0-9_][a-z0-9_.-]*$/;
const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The rule for flag and segment names, as messages state it. */
export const FLAG_NAME_RULE = `lower-case letters, digits, "_", "-" and ".", starting with a letter, digit or "_", at most ${MAX_NAME_LENGTH} characters`;

export function assertFlagName(name: unknown, field = 'flag_name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidInputError(`${field} is required: a flag name of ${FLAG_NAME_RULE}`, {
      field,
    });
  }
  if (!isFlagName(name)) {
    throw new InvalidInputError(`${field} ${JSON.stringify(name)} is not a valid flag name: use ${FLAG_NAME_RULE}`, {
      field,
    });
  }
}

export function assertProjectName(project: unknown, field = 'project_name'): asserts project is string {
  if (typeof project !== 'string' || project.length === 0) {
    throw new InvalidInputError(`${field} is required: the project the flag belongs to, e.g. csr-assistant`, {
      field,
    });
  }
  if (project.length > MAX_NAME_LENGTH || !PROJECT_NAME.test(project)) {
    throw new InvalidInputError(
      `${field} ${JSON.stringify(project)} is not a valid project name: use letters, digits, "-", "_" and ".", starting with a letter or digit`,
      { field },
    );
  }
}

/** A flag type from a caller; `allowed` narrows it (the runbook's Airflow configs know only feature and data). */
export function parseFlagType(
  value: unknown,
  field = 'flag_type',
  allowed: readonly FlagType[] = FLAG_TYPES,
): FlagType {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as FlagType;
  throw new InvalidFlagTypeException(value, { field, allowed });
}

/** Whether `name` is a valid flag or segment name. */
export function isFlagName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && FLAG_NAME.test(name);
}
