import { InvalidFlagTypeException, InvalidInputError } from './errors.js';
import { MAX_NAME_LENGTH } from './limits.js';
import { FLAG_TYPES, type FlagType } from './types.js';

/** Underscore is the word delimiter and `#` separates key fields, so names are kept to this set. */
const FLAG_NAME = /^[a-z0-9_]+$/;
const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function assertFlagName(name: unknown, field = 'flag_name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidInputError(`${field} is required: a flag name of lower-case letters, digits and underscores`, {
      field,
    });
  }
  if (name.length > MAX_NAME_LENGTH || !FLAG_NAME.test(name)) {
    throw new InvalidInputError(
      `${field} ${JSON.stringify(name)} is not a valid flag name: use only lower-case letters, digits and underscores (a-z, 0-9, _), at most ${MAX_NAME_LENGTH} characters`,
      { field },
    );
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

export function parseFlagType(value: unknown, field = 'flag_type'): FlagType {
  if (typeof value === 'string' && (FLAG_TYPES as readonly string[]).includes(value)) return value as FlagType;
  throw new InvalidFlagTypeException(value, { field });
}

export function isFlagName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && FLAG_NAME.test(name);
}
