import { describe, expect, it } from 'vitest';
import {
  assertFlagName,
  FLAG_TYPES,
  flagTypeOf,
  InvalidFlagTypeException,
  InvalidInputError,
  isFlagName,
  isValueOfType,
  parseFlagType,
  RUNBOOK_FLAG_TYPES,
  STORED_FLAG_TYPES,
  storedFlagType,
  VALUE_FLAG_TYPES,
} from '../src/index.js';

describe('flag types', () => {
  it('lists the five flag types, the four that hold values, and the runbook two', () => {
    expect(FLAG_TYPES).toEqual(['feature', 'data', 'number', 'json', 'segment']);
    expect(VALUE_FLAG_TYPES).toEqual(['feature', 'data', 'number', 'json']);
    expect(RUNBOOK_FLAG_TYPES).toEqual(['feature', 'data']);
    expect(STORED_FLAG_TYPES).toEqual(['FEATURE', 'DATA', 'NUMBER', 'JSON', 'SEGMENT']);
  });

  it('converts between the row-key form and the stored form both ways', () => {
    for (const type of FLAG_TYPES) expect(flagTypeOf(storedFlagType(type))).toBe(type);
    expect(storedFlagType('json')).toBe('JSON');
    expect(flagTypeOf('NUMBER')).toBe('number');
  });

  it('parses every flag type and refuses others with a message listing them all', () => {
    for (const type of FLAG_TYPES) expect(parseFlagType(type)).toBe(type);
    const error = (() => {
      try {
        parseFlagType('boolean');
      } catch (e) {
        return e as InvalidFlagTypeException;
      }
      throw new Error('expected a throw');
    })();
    expect(error).toBeInstanceOf(InvalidFlagTypeException);
    expect(error.message).toBe(
      'Invalid flag type: "boolean". Use "feature" (boolean values), "data" (string values), "number" (number values), "json" (JSON object or array values) or "segment" (a segment: a reusable audience).',
    );
  });

  it('narrows to the allowed types when told, naming only those', () => {
    expect(() => parseFlagType('number', 'row_key_prefix_FLAGTYPE', RUNBOOK_FLAG_TYPES)).toThrow(
      'Invalid flag type: "number". Use "feature" (boolean values) or "data" (string values).',
    );
  });

  it('checks values by type: finite numbers, JSON objects and arrays only', () => {
    expect(isValueOfType(1.5, 'number')).toBe(true);
    expect(isValueOfType(-0, 'number')).toBe(true);
    expect(isValueOfType(Number.NaN, 'number')).toBe(false);
    expect(isValueOfType(Number.POSITIVE_INFINITY, 'number')).toBe(false);
    expect(isValueOfType('1', 'number')).toBe(false);
    expect(isValueOfType({ a: [1, { b: null }] }, 'json')).toBe(true);
    expect(isValueOfType([], 'json')).toBe(true);
    expect(isValueOfType('x', 'json')).toBe(false);
    expect(isValueOfType(3, 'json')).toBe(false);
    expect(isValueOfType(null, 'json')).toBe(false);
    expect(isValueOfType({ a: undefined }, 'json')).toBe(false);
    expect(isValueOfType({ a: Number.NaN }, 'json')).toBe(false);
    expect(isValueOfType(new Date(0), 'json')).toBe(false);
    expect(isValueOfType(true, 'feature')).toBe(true);
    expect(isValueOfType('true', 'feature')).toBe(false);
    expect(isValueOfType('', 'data')).toBe(true);
  });

  it('refuses JSON nested deeper than 64 levels instead of recursing without bound', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(isValueOfType(deep, 'json')).toBe(false);
  });
});

describe('flag names', () => {
  it('accepts OpenFeature-style keys with "-" and "." and every runbook name', () => {
    for (const name of ['boolean-flag', 'checkout.v2', 'new_ui', '_private', '0day', 'a', 'a-b.c_d', 'x'.repeat(200)]) {
      expect(isFlagName(name)).toBe(true);
    }
  });

  it('refuses "#", upper case, spaces, a leading "-" or ".", empty and over-long names', () => {
    for (const name of ['bad#name', 'Upper', 'has space', '-flag', '.flag', '', 'x'.repeat(201), 'é']) {
      expect(isFlagName(name)).toBe(false);
      expect(() => assertFlagName(name)).toThrow(InvalidInputError);
    }
  });

  it('says what a valid name is', () => {
    expect(() => assertFlagName('-x')).toThrow(
      'flag_name "-x" is not a valid flag name: use lower-case letters, digits, "_", "-" and ".", starting with a letter, digit or "_", at most 200 characters',
    );
  });
});
