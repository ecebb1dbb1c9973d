import { InvalidInputError } from '@vexil/core';

export interface FlagConfigErrorDetails {
  /** The file (or `environment variable NAME`, or the snapshot) the bad value came from. */
  file: string;
  /** Where in it, e.g. `[default.flags.new_ui]` or `line 3, column 10`. */
  location?: string | undefined;
  flag?: string | undefined;
  field?: string | undefined;
  /** What is wrong and what to write instead. */
  reason: string;
  cause?: unknown;
}

/**
 * A flag definition that cannot be used: thrown at start-up (loading files, building a
 * FeatureFlags set, registering a middleware), never by `isEnabled`. The message names
 * the file, the flag and the field; so do the properties.
 */
export class FlagConfigError extends InvalidInputError {
  readonly file: string;
  readonly flag: string | undefined;

  constructor(details: FlagConfigErrorDetails) {
    const where = details.location === undefined ? details.file : `${details.file} ${details.location}`;
    const what = [
      details.flag === undefined ? undefined : `flag ${JSON.stringify(details.flag)}`,
      details.field === undefined ? undefined : `field ${JSON.stringify(details.field)}`,
    ].filter((part) => part !== undefined);
    super(`${where}: ${what.length > 0 ? `${what.join(', ')}: ` : ''}${details.reason}`, {
      field: details.field,
      cause: details.cause,
    });
    this.file = details.file;
    this.flag = details.flag;
  }
}
