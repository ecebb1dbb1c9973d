import { describe, expect, it } from 'vitest';
import { assertFlagName, isInstanceId, MAX_INSTANCE_ID_LENGTH, MAX_NAME_LENGTH } from '../src/index.js';

describe('isInstanceId', () => {
  it('accepts 1 to MAX_INSTANCE_ID_LENGTH characters', () => {
    expect(isInstanceId('A')).toBe(true);
    expect(isInstanceId('x'.repeat(MAX_INSTANCE_ID_LENGTH))).toBe(true);
  });

  it('refuses an empty id, a longer one and anything but a string', () => {
    expect(isInstanceId('')).toBe(false);
    expect(isInstanceId('x'.repeat(MAX_INSTANCE_ID_LENGTH + 1))).toBe(false);
    expect(isInstanceId(12345)).toBe(false);
    expect(isInstanceId(undefined)).toBe(false);
  });
});

describe('MAX_NAME_LENGTH', () => {
  it('is the limit flag names are checked against', () => {
    expect(() => assertFlagName('a'.repeat(MAX_NAME_LENGTH))).not.toThrow();
    expect(() => assertFlagName('a'.repeat(MAX_NAME_LENGTH + 1))).toThrow(/at most 200 characters/);
  });
});
