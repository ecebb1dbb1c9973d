import { describe, expect, it } from 'vitest';
import {
  compileRevision,
  InvalidFlagTypeException,
  InvalidInputError,
  parseRevision,
  ValidationError,
  type ValidationMode,
  type VexilError,
} from '../src/index.js';

function base(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { Name: 'checkout.v2', Type: 'DATA', FormatVersion: 2, ControlValue: 'a', Treatments: [], ...fields };
}

function errorOf(raw: unknown, mode: ValidationMode = 'input'): VexilError {
  try {
    parseRevision(raw, { mode });
  } catch (error) {
    return error as VexilError;
  }
  throw new Error('expected the revision to be refused');
}

const rule = (fields: Record<string, unknown>) => ({ Conditions: [], Value: 'b', ...fields });

describe('flag model revisions that validate', () => {
  it('takes number and json flags with their values, and null anywhere a value goes', () => {
    expect(
      parseRevision(
        base({
          Type: 'NUMBER',
          ControlValue: 1.5,
          Treatments: [{ OverrideList: ['x'], PercentRollout: 0, Value: -3 }],
        }),
      ).ControlValue,
    ).toBe(1.5);
    expect(parseRevision(base({ Type: 'JSON', ControlValue: { a: [1] } })).ControlValue).toEqual({ a: [1] });
    expect(parseRevision(base({ Type: 'JSON', ControlValue: [] })).ControlValue).toEqual([]);
    const nulls = parseRevision(
      base({
        ControlValue: null,
        Treatments: [{ OverrideList: [], PercentRollout: 10, Value: null }],
        Rules: [rule({ Value: null }), { Conditions: [], Split: [{ Percent: 100, Value: null }] }],
      }),
    );
    expect(nulls.ControlValue).toBeNull();
  });

  it('keeps the flag model fields as given', () => {
    const raw = base({
      Variants: { a: 'a', b: 'b' },
      Rules: [
        rule({ Conditions: [{ Attribute: 'country', Operator: 'in', Values: ['FR', 'DE'] }] }),
        {
          Conditions: [],
          Split: [
            { Percent: 33.33, Value: 'a' },
            { Percent: 66.67, Value: 'b' },
          ],
        },
      ],
      Disabled: false,
      Metadata: {
        owner: 'checkout-team',
        ticket: 'https://tracker/T-1',
        expires: '2027-01-31',
        priority: 2,
        public: true,
      },
    });
    expect(parseRevision(raw)).toEqual(raw);
  });

  it('leaves a runbook revision as it was (no new fields appear)', () => {
    const raw = { Name: 'old_flag', Type: 'FEATURE', FormatVersion: 1, ControlValue: false, Treatments: [] };
    expect(parseRevision(raw)).toEqual(raw);
  });
});

describe('flag model revisions that do not validate name the field', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'a number flag with a string value',
      base({ Type: 'NUMBER', ControlValue: '1' }),
      'ControlValue',
      /must be a finite number for a number flag, got "1"/,
    ],
    [
      'a json flag with a string',
      base({ Type: 'JSON', ControlValue: 'x' }),
      'ControlValue',
      /must be a JSON object or array for a json flag/,
    ],
    ['a json flag with a number', base({ Type: 'JSON', ControlValue: 3 }), 'ControlValue', /JSON object or array/],
    ['Variants not an object', base({ Variants: ['a'] }), 'Variants', /must be an object \{name: value\}/],
    ['empty Variants', base({ Variants: {} }), 'Variants', /at least one/],
    ['a bad variant name', base({ Variants: { 'a b': 'a' } }), 'Variants', /variant name/],
    ['a variant name starting with "-"', base({ Variants: { '-a': 'a' } }), 'Variants', /variant name/],
    [
      'a variant of the wrong type',
      base({ Variants: { a: 'a', b: 2 } }),
      'Variants.b',
      /must be a string for a data flag/,
    ],
    ['a null variant', base({ Variants: { a: 'a', b: null } }), 'Variants.b', /must be a string/],
    [
      'two variants with one value',
      base({ Variants: { a: 'a', also: 'a' } }),
      'Variants.also',
      /same value as Variants\.a/,
    ],
    [
      'two json variants equal but for key order',
      base({ Type: 'JSON', ControlValue: { x: 1, y: 2 }, Variants: { p: { x: 1, y: 2 }, q: { y: 2, x: 1 } } }),
      'Variants.q',
      /same value as Variants\.p/,
    ],
    [
      'a control value outside the variants',
      base({ Variants: { b: 'b' } }),
      'ControlValue',
      /not the value of a variant \(b\)/,
    ],
    [
      'a treatment value outside the variants',
      base({ Variants: { a: 'a' }, Treatments: [{ OverrideList: [], PercentRollout: 5, Value: 'z' }] }),
      'Treatments[0].Value',
      /not the value of a variant/,
    ],
    [
      'a rule value outside the variants',
      base({ Variants: { a: 'a' }, Rules: [rule({ Value: 'z' })] }),
      'Rules[0].Value',
      /not the value of a variant/,
    ],
    [
      'a split value outside the variants',
      base({ Variants: { a: 'a' }, Rules: [{ Conditions: [], Split: [{ Percent: 100, Value: 'z' }] }] }),
      'Rules[0].Split[0].Value',
      /not the value of a variant/,
    ],
    ['Rules not a list', base({ Rules: {} }), 'Rules', /must be a list/],
    ['a rule not an object', base({ Rules: ['x'] }), 'Rules[0]', /must be an object/],
    [
      'a rule without Conditions',
      base({ Rules: [{ Value: 'b' }] }),
      'Rules[0].Conditions',
      /must be a list of \{Attribute, Operator, Values\}/,
    ],
    [
      'a rule with neither Value nor Split',
      base({ Rules: [{ Conditions: [] }] }),
      'Rules[0]',
      /needs a Value .* or a Split/,
    ],
    [
      'a rule with both',
      base({ Rules: [rule({ Split: [{ Percent: 100, Value: 'a' }] })] }),
      'Rules[0]',
      /has both Value and Split/,
    ],
    ['a rule with an unknown field', base({ Rules: [rule({ Priority: 1 })] }), 'Rules[0].Priority', /is not a field/],
    ['a rule value of the wrong type', base({ Rules: [rule({ Value: 1 })] }), 'Rules[0].Value', /must be a string/],
    ['an empty split', base({ Rules: [{ Conditions: [], Split: [] }] }), 'Rules[0].Split', /at least one/],
    [
      'a split short of 100',
      base({
        Rules: [
          {
            Conditions: [],
            Split: [
              { Percent: 50, Value: 'a' },
              { Percent: 49.99, Value: 'b' },
            ],
          },
        ],
      }),
      'Rules[0].Split',
      /adding up to 99\.99; they must add up to exactly 100/,
    ],
    [
      'a split percentage with three decimals',
      base({
        Rules: [
          {
            Conditions: [],
            Split: [
              { Percent: 33.333, Value: 'a' },
              { Percent: 66.667, Value: 'b' },
            ],
          },
        ],
      }),
      'Rules[0].Split[0].Percent',
      /at most two decimals/,
    ],
    [
      'a split bucket without Value',
      base({ Rules: [{ Conditions: [], Split: [{ Percent: 100 }] }] }),
      'Rules[0].Split[0].Value',
      /is required/,
    ],
    [
      'an unknown operator',
      base({
        Rules: [
          rule({
            Conditions: [
              { Attribute: 'a', Operator: 'x', Values: ['a'] },
              { Attribute: 'a', Operator: 'regex', Values: ['.*'] },
            ],
          }),
        ],
      }),
      'Rules[0].Conditions[0].Operator',
      /must be one of equals, not_equals, in, .*, got "x"/,
    ],
    [
      'a condition without an attribute',
      base({ Rules: [rule({ Conditions: [{ Operator: 'equals', Values: ['a'] }] })] }),
      'Rules[0].Conditions[0].Attribute',
      /non-empty string/,
    ],
    [
      'equals with two values',
      base({ Rules: [rule({ Conditions: [{ Attribute: 'a', Operator: 'equals', Values: ['a', 'b'] }] })] }),
      'Rules[0].Conditions[0].Values',
      /one string, number or boolean for equals/,
    ],
    [
      'in with no values',
      base({ Rules: [rule({ Conditions: [{ Attribute: 'a', Operator: 'in', Values: [] }] })] }),
      'Rules[0].Conditions[0].Values',
      /one or more strings and\/or numbers for in/,
    ],
    [
      'in with a boolean',
      base({ Rules: [rule({ Conditions: [{ Attribute: 'a', Operator: 'in', Values: ['a', true] }] })] }),
      'Rules[0].Conditions[0].Values[1]',
      /for in, got true/,
    ],
    [
      'lt with a string',
      base({ Rules: [rule({ Conditions: [{ Attribute: 'a', Operator: 'lt', Values: ['10'] }] })] }),
      'Rules[0].Conditions[0].Values[0]',
      /must be a finite number for lt, got "10"/,
    ],
    [
      'an invalid semantic version',
      base({ Rules: [rule({ Conditions: [{ Attribute: 'v', Operator: 'semver_gte', Values: ['1.2'] }] })] }),
      'Rules[0].Conditions[0].Values[0]',
      /semantic version/,
    ],
    [
      'an invalid date',
      base({ Rules: [rule({ Conditions: [{ Attribute: 'd', Operator: 'before', Values: ['2026-02-30'] }] })] }),
      'Rules[0].Conditions[0].Values[0]',
      /must be a date: "YYYY-MM-DD" or an RFC 3339 date-time/,
    ],
    [
      'a number as a date',
      base({ Rules: [rule({ Conditions: [{ Attribute: 'd', Operator: 'after', Values: [1764581400] }] })] }),
      'Rules[0].Conditions[0].Values[0]',
      /must be a date.* for after, got 1764581400/,
    ],
    [
      'in_segment on another attribute',
      base({ Rules: [rule({ Conditions: [{ Attribute: 'email', Operator: 'in_segment', Values: ['beta'] }] })] }),
      'Rules[0].Conditions[0].Attribute',
      /must be "targetingKey" for in_segment/,
    ],
    [
      'in_segment with a bad segment name',
      base({
        Rules: [rule({ Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['Beta#1'] }] })],
      }),
      'Rules[0].Conditions[0].Values[0]',
      /must be a segment name \(lower-case letters/,
    ],
    [
      'a condition with an unknown field',
      base({ Rules: [rule({ Conditions: [{ Attribute: 'a', Operator: 'equals', Values: ['a'], Negate: true }] })] }),
      'Rules[0].Conditions[0].Negate',
      /is not a field/,
    ],
    ['Disabled not a boolean', base({ Disabled: 'yes' }), 'Disabled', /must be true or false/],
    ['Metadata not an object', base({ Metadata: 'x' }), 'Metadata', /must be an object/],
    ['a metadata key with a space', base({ Metadata: { 'my key': 'x' } }), 'Metadata', /has the key "my key"/],
    [
      'a metadata object value',
      base({ Metadata: { owner: { team: 'x' } } }),
      'Metadata.owner',
      /string, a finite number or a boolean/,
    ],
    [
      'a long metadata string',
      base({ Metadata: { note: 'x'.repeat(1001) } }),
      'Metadata.note',
      /1001 characters long; at most 1000/,
    ],
    [
      'too many metadata keys',
      base({ Metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }),
      'Metadata',
      /has 51 keys; at most 50/,
    ],
    [
      'a bad expiry date',
      base({ Metadata: { expires: '2026-13-01' } }),
      'Metadata.expires',
      /must be a date YYYY-MM-DD/,
    ],
    [
      'a name with "#"',
      base({ Name: 'a#b' }),
      'Name',
      /must be a flag name of lower-case letters, digits, "_", "-" and "\."/,
    ],
    ['a segment as a flag', base({ Type: 'SEGMENT' }), 'Type', /a segment is not a flag/],
  ];

  it.each(cases)('%s', (_, raw, field, message) => {
    const error = errorOf(raw);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${field} `)).toBe(true);
  });

  it('is a 500 ValidationError naming the same field when the row is stored data', () => {
    const error = errorOf(
      base({ Rules: [rule({ Conditions: [{ Attribute: 'a', Operator: 'x', Values: [] }] })] }),
      'stored',
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.status).toBe(500);
    expect(error.field).toBe('Rules[0].Conditions[0].Operator');
  });

  it('tolerates unknown fields inside rules of stored rows (written by a newer tool)', () => {
    const raw = base({
      Rules: [rule({ Priority: 1, Conditions: [{ Attribute: 'a', Operator: 'equals', Values: ['a'], Note: 'x' }] })],
    });
    expect(() => parseRevision(raw, { mode: 'stored' })).not.toThrow();
    expect(() => compileRevision(raw)).not.toThrow();
  });

  it('prefixes the path when told where the revision sits', () => {
    try {
      parseRevision(base({ Rules: [rule({ Value: 3 })] }), { path: 'row_cell_value' });
      throw new Error('expected a throw');
    } catch (error) {
      expect((error as VexilError).field).toBe('row_cell_value.Rules[0].Value');
    }
  });

  it('refuses an unknown stored Type naming every stored type', () => {
    const error = errorOf(base({ Type: 'BOOLEAN' }));
    expect(error).toBeInstanceOf(InvalidFlagTypeException);
    expect(error.hint).toBe(
      'In stored rows Type is "FEATURE" (boolean values), "DATA" (string values), "NUMBER" (number values), "JSON" (JSON object or array values) or "SEGMENT" (a segment: a reusable audience).',
    );
  });
});
