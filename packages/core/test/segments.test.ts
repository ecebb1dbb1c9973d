import { describe, expect, it } from 'vitest';
import {
  compileFlag,
  compileRevision,
  compileSegment,
  compileSegmentFlag,
  InvalidInputError,
  parseSegmentRevision,
  segmentLookupOf,
  ValidationError,
  type VexilError,
} from '../src/index.js';

function segment(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { Name: 'beta-testers', Type: 'SEGMENT', FormatVersion: 2, ...fields };
}

describe('segment membership', () => {
  const beta = compileSegment(
    segment({
      Included: ['ann', 'eve'],
      Excluded: ['eve', 'mallory'],
      Conditions: [
        { Attribute: 'email', Operator: 'ends_with', Values: ['@example.com'] },
        { Attribute: 'plan', Operator: 'in', Values: ['pro', 'team'] },
      ],
    }),
  );

  it('excludes before it includes, and includes before conditions', () => {
    expect(beta.contains({ targetingKey: 'eve' })).toBe(false);
    expect(beta.contains({ targetingKey: 'mallory', email: 'm@example.com', plan: 'pro' })).toBe(false);
    expect(beta.contains({ targetingKey: 'ann' })).toBe(true);
  });

  it('otherwise holds when all its conditions hold, with or without a targeting key', () => {
    expect(beta.contains({ targetingKey: 'bob', email: 'bob@example.com', plan: 'team' })).toBe(true);
    expect(beta.contains({ email: 'bob@example.com', plan: 'team' })).toBe(true);
    expect(beta.contains({ targetingKey: 'bob', email: 'bob@example.com', plan: 'free' })).toBe(false);
  });

  it('has only its listed members without conditions', () => {
    const listed = compileSegment(segment({ Included: ['ann'], Conditions: [] }));
    expect(listed.contains({ targetingKey: 'ann' })).toBe(true);
    expect(listed.contains({ targetingKey: 'bob' })).toBe(false);
    expect(listed.contains({})).toBe(false);
  });

  it('has no members when archived', () => {
    const archived = compileSegment(segment({ Included: ['ann'], Archived: true }));
    expect(archived.archived).toBe(true);
    expect(archived.contains({ targetingKey: 'ann' })).toBe(false);
  });
});

describe('segment validation', () => {
  function errorOf(raw: unknown, mode: 'input' | 'stored' = 'input'): VexilError {
    try {
      parseSegmentRevision(raw, { mode });
    } catch (error) {
      return error as VexilError;
    }
    throw new Error('expected a throw');
  }

  it('refuses segment operators inside a segment, naming the condition', () => {
    const error = errorOf(
      segment({ Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['other'] }] }),
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe('Conditions[0].Operator');
    expect(error.message).toMatch(/cannot be used in a segment/);
  });

  it.each([
    ['a flag type', segment({ Type: 'FEATURE' }), 'Type'],
    ['ids that are not strings', segment({ Included: ['a', 3] }), 'Included[1]'],
    ['an id list that is not a list', segment({ Excluded: 'a' }), 'Excluded'],
    ['a bad name', segment({ Name: 'Beta' }), 'Name'],
    [
      'a bad condition',
      segment({ Conditions: [{ Attribute: 'a', Operator: 'lt', Values: ['x'] }] }),
      'Conditions[0].Values[0]',
    ],
    ['Archived not a boolean', segment({ Archived: 'no' }), 'Archived'],
  ])('refuses %s at its field', (_, raw, field) => {
    expect(errorOf(raw).field).toBe(field);
  });

  it('checks stored rows as stored data (500)', () => {
    expect(() => compileSegment(segment({ Included: [1] }))).toThrow(ValidationError);
  });

  it('checks the name and type against the row key when known', () => {
    expect(() => compileSegment(segment(), { name: 'other' })).toThrow(
      /Name is "beta-testers" but the segment is "other"/,
    );
  });
});

describe('compileSegmentFlag', () => {
  it('compiles a segment entry into a segment, and finds it by name through segmentLookupOf', () => {
    const entry = compileSegmentFlag({
      flagType: 'segment',
      name: 'beta-testers',
      revision: segment({ Included: ['ann'] }),
    });
    expect(entry.state).toBe('segment');
    const broken = compileSegmentFlag({
      flagType: 'segment',
      name: 'broken',
      revision: segment({ Name: 'broken', Included: 3 }),
    });
    expect(broken.state).toBe('invalid');
    const lookup = segmentLookupOf([entry, broken]);
    expect(lookup('beta-testers')?.contains({ targetingKey: 'ann' })).toBe(true);
    expect(lookup('broken')).toBeUndefined();

    const flag = compileRevision({
      Name: 'new-ui',
      Type: 'FEATURE',
      ControlValue: false,
      Treatments: [],
      Rules: [
        { Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['broken'] }], Value: true },
        { Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta-testers'] }], Value: true },
      ],
    });
    expect(flag.evaluateContext({ targetingKey: 'ann' }, lookup).group).toBe('rule-2');
  });

  it('keeps an archived segment as a segment with no members, so not_in_segment still holds', () => {
    const entry = compileSegmentFlag({
      flagType: 'segment',
      name: 'beta-testers',
      revision: segment({ Included: ['ann'], Archived: true }),
    });
    expect(entry.state).toBe('segment');
    const flag = compileRevision({
      Name: 'new-ui',
      Type: 'FEATURE',
      ControlValue: false,
      Treatments: [],
      Rules: [
        {
          Conditions: [{ Attribute: 'targetingKey', Operator: 'not_in_segment', Values: ['beta-testers'] }],
          Value: true,
        },
      ],
    });
    expect(flag.evaluateContext({ targetingKey: 'ann' }, segmentLookupOf([entry])).value).toBe(true);
  });

  it('keeps flags and segments apart: each compiler refuses the other kind, naming Type', () => {
    const segmentAsFlag = compileFlag({ flagType: 'segment', name: 'beta-testers', revision: segment() });
    expect(segmentAsFlag.state === 'invalid' && segmentAsFlag.error.field).toBe('Type');
    expect(compileFlag({ flagType: 'feature', name: 'beta-testers', revision: segment() }).state).toBe('invalid');
    const flagAsSegment = compileSegmentFlag({
      flagType: 'segment',
      name: 'x',
      revision: { Name: 'x', Type: 'FEATURE', ControlValue: true, Treatments: [] },
    });
    expect(flagAsSegment.state).toBe('invalid');
  });
});
