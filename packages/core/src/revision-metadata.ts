import { formatValue } from './errors.js';
import { type FieldChecker, isRecord } from './field-checker.js';
import { calendarDateDays } from './instants.js';
import type { RevisionMetadata } from './types.js';

/** Limits of a revision's `Metadata` (docs/flag-model.md#revision-fields). */
export const MAX_METADATA_KEYS = 50;
export const MAX_METADATA_KEY_LENGTH = 100;
export const MAX_METADATA_STRING_LENGTH = 1000;

/** The metadata keys Vexil itself reads. */
export const METADATA_KEYS = Object.freeze({
  /** The owning team. */
  owner: 'owner',
  /** The link to the flag's removal ticket. */
  ticket: 'ticket',
  /** `YYYY-MM-DD` (UTC): the flag should be gone after that day. */
  expires: 'expires',
} as const);

const METADATA_KEY = /^[A-Za-z0-9_.-]{1,100}$/;

/** `Metadata`: at most 50 keys of letters, digits, `_`, `-`, `.`; values strings (≤ 1,000 characters), finite numbers or booleans. */
export function parseRevisionMetadata(check: FieldChecker, raw: unknown): RevisionMetadata | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw))
    throw check.error('Metadata', `must be an object {key: string, number or boolean}, got ${formatValue(raw)}`);
  const keys = Object.keys(raw);
  if (keys.length > MAX_METADATA_KEYS) {
    throw check.error('Metadata', `has ${keys.length} keys; at most ${MAX_METADATA_KEYS} are allowed`);
  }
  for (const key of keys) {
    if (!METADATA_KEY.test(key)) {
      throw check.error(
        'Metadata',
        `has the key ${formatValue(key)}: a key is 1 to ${MAX_METADATA_KEY_LENGTH} letters, digits, "_", "-" or "."`,
      );
    }
    const value = raw[key];
    const field = `Metadata.${key}`;
    if (typeof value === 'string') {
      if (value.length > MAX_METADATA_STRING_LENGTH) {
        throw check.error(
          field,
          `is ${value.length} characters long; at most ${MAX_METADATA_STRING_LENGTH} are allowed`,
        );
      }
    } else if (typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value))) {
      throw check.error(field, `must be a string, a finite number or a boolean, got ${formatValue(value)}`);
    }
  }
  const expires = raw[METADATA_KEYS.expires];
  if (expires !== undefined && (typeof expires !== 'string' || calendarDateDays(expires) === undefined)) {
    throw check.error(
      `Metadata.${METADATA_KEYS.expires}`,
      `must be a date YYYY-MM-DD (UTC; the flag should be gone after that day), got ${formatValue(expires)}`,
    );
  }
  return raw as RevisionMetadata;
}

const MS_PER_DAY = 86_400_000;

/** The `expires` date (`YYYY-MM-DD`) of a revision's metadata, when it has a valid one. */
export function expiryOf(revision: { readonly Metadata?: Readonly<RevisionMetadata> | undefined }): string | undefined {
  const expires = revision.Metadata?.[METADATA_KEYS.expires];
  return typeof expires === 'string' && calendarDateDays(expires) !== undefined ? expires : undefined;
}

/**
 * Whether the flag of a revision is past its `expires` date on `now`: the flag should
 * be gone after that day (UTC), so it is expired from the next day's midnight UTC on.
 * A revision without a valid `expires` never expires.
 */
export function isExpired(
  revision: { readonly Metadata?: Readonly<RevisionMetadata> | undefined },
  now: Date,
): boolean {
  const expires = expiryOf(revision);
  if (expires === undefined) return false;
  const today = Math.floor(now.getTime() / MS_PER_DAY);
  return today > (calendarDateDays(expires) as number);
}
