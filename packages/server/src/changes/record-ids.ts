import { randomBytes } from 'node:crypto';

/** A record id: a prefix naming its kind and 12 random base64url characters (as token ids are made). */
export function recordId(prefix: 'sch' | 'rmp' | 'prp'): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}
