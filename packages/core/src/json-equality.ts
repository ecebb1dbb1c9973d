import type { ResultValue } from './types.js';

/**
 * Whether two values read from JSON are equal by content: objects compare key by key
 * whatever their key order, arrays item by item. Used at compile time only (variant
 * lookup), so clarity wins over speed.
 */
export function jsonEquals(a: ResultValue | undefined, b: ResultValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEquals(item, b[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && jsonEquals(a[key], b[key]));
}
