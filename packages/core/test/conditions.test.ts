import { describe, expect, it } from 'vitest';
import {
  CONDITION_OPERATORS,
  type CompiledSegment,
  type Condition,
  compileRevision,
  type EvaluationContext,
  type SegmentLookup,
} from '../src/index.js';

/** Whether `condition` holds for `context`, through a whole revision: one rule giving true, control false. */
function holds(condition: Condition, context: EvaluationContext, segments?: SegmentLookup): boolean {
  const compiled = compileRevision({
    Name: 'flag',
    Type: 'FEATURE',
    FormatVersion: 2,
    ControlValue: false,
    Treatments: [],
    Rules: [{ Conditions: [condition], Value: true }],
  });
  return compiled.evaluateContext(context, segments).value === true;
}

const c = (Operator: string, Values: (string | number | boolean)[], Attribute = 'a'): Condition => ({
  Attribute,
  Operator,
  Values,
});

/** Attribute values of every JSON type (and a few a JS caller may pass) that are wrong for most operators. */
const ODD_VALUES: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'x',
  [],
  ['x'],
  {},
  { a: 1 },
];

/** Whether `value` is of a type the condition compares (then it may hold or not; else it never holds). */
function ownType(condition: Condition, value: unknown): boolean {
  const op = condition.Operator;
  const finite = typeof value === 'number' && Number.isFinite(value);
  if (['lt', 'lte', 'gt', 'gte'].includes(op)) return finite;
  if (op === 'before' || op === 'after') return finite || typeof value === 'string';
  if (typeof value === 'string') return condition.Values.some((v) => typeof v === 'string');
  if (finite) return condition.Values.some((v) => typeof v === 'number');
  if (typeof value === 'boolean') return condition.Values.some((v) => typeof v === 'boolean');
  return false;
}

describe('every operator', () => {
  // One valid condition per operator, with a context it holds for and one it does not.
  const cases: Record<string, { condition: Condition; yes: unknown; no: unknown }> = {
    equals: { condition: c('equals', ['gold']), yes: 'gold', no: 'Gold' },
    not_equals: { condition: c('not_equals', ['gold']), yes: 'silver', no: 'gold' },
    in: { condition: c('in', ['FR', 'DE', 7]), yes: 7, no: 'US' },
    not_in: { condition: c('not_in', ['FR', 7]), yes: 'US', no: 'FR' },
    starts_with: { condition: c('starts_with', ['beta-', 'rc-']), yes: 'rc-3', no: 'prod' },
    ends_with: { condition: c('ends_with', ['@example.com']), yes: 'ann@example.com', no: 'ann@example.org' },
    contains: { condition: c('contains', ['chrome']), yes: 'mobile-chrome-1', no: 'safari' },
    lt: { condition: c('lt', [10]), yes: 9.5, no: 10 },
    lte: { condition: c('lte', [10]), yes: 10, no: 10.01 },
    gt: { condition: c('gt', [10]), yes: 11, no: 10 },
    gte: { condition: c('gte', [10]), yes: 10, no: 9 },
    semver_eq: { condition: c('semver_eq', ['2.1.0']), yes: 'v2.1.0+build.5', no: '2.1.0-rc.1' },
    semver_lt: { condition: c('semver_lt', ['2.1.0']), yes: '2.1.0-rc.1', no: '2.1.0' },
    semver_lte: { condition: c('semver_lte', ['2.1.0']), yes: '2.1.0', no: '2.1.1' },
    semver_gt: { condition: c('semver_gt', ['2.1.0']), yes: '2.10.0', no: '2.1.0+build.9' },
    semver_gte: { condition: c('semver_gte', ['2.1.0']), yes: '2.1.0', no: '2.1.0-beta' },
    before: { condition: c('before', ['2026-12-01']), yes: '2026-11-30T23:59:59.999Z', no: '2026-12-01T00:00:00Z' },
    after: { condition: c('after', ['2026-12-01T09:30:00Z']), yes: '2026-12-01T10:30:00.001+01:00', no: '2026-12-01' },
  };

  it('has a case for every operator but the segment ones', () => {
    expect(Object.keys(cases).sort()).toEqual(
      CONDITION_OPERATORS.filter((op) => op !== 'in_segment' && op !== 'not_in_segment').sort(),
    );
  });

  for (const [operator, { condition, yes, no }] of Object.entries(cases)) {
    it(`${operator} holds for ${JSON.stringify(yes)} and not for ${JSON.stringify(no)}`, () => {
      expect(holds(condition, { a: yes })).toBe(true);
      expect(holds(condition, { a: no })).toBe(false);
    });

    it(`${operator} does not hold, and does not throw, for a missing, null or wrongly typed attribute`, () => {
      expect(holds(condition, {})).toBe(false);
      expect(holds(condition, { b: yes })).toBe(false);
      for (const odd of ODD_VALUES) {
        if (odd === yes) continue;
        const result = holds(condition, { a: odd });
        if (!ownType(condition, odd)) expect(result, `${operator} with ${String(odd)}`).toBe(false);
      }
    });
  }
});

describe('types are never converted', () => {
  it('the string "10" is not the number 10, nor "true" the boolean true', () => {
    expect(holds(c('equals', [10]), { a: '10' })).toBe(false);
    expect(holds(c('equals', ['10']), { a: 10 })).toBe(false);
    expect(holds(c('equals', [true]), { a: 'true' })).toBe(false);
    expect(holds(c('equals', [true]), { a: true })).toBe(true);
    expect(holds(c('in', [10]), { a: '10' })).toBe(false);
    expect(holds(c('lt', [10]), { a: '9' })).toBe(false);
  });

  it('negated operators need the attribute to be of the right type too', () => {
    expect(holds(c('not_equals', [10]), { a: '10' })).toBe(false);
    expect(holds(c('not_equals', [10]), { a: 11 })).toBe(true);
    expect(holds(c('not_equals', [true]), { a: false })).toBe(true);
    expect(holds(c('not_equals', [true]), { a: 'false' })).toBe(false);
    expect(holds(c('not_in', ['FR', 7]), { a: 8 })).toBe(true);
    expect(holds(c('not_in', ['FR']), { a: true })).toBe(false);
    expect(holds(c('not_in', ['FR']), { a: null })).toBe(false);
    expect(holds(c('not_in', ['FR']), {})).toBe(false);
  });

  it('comparisons are case-sensitive', () => {
    expect(holds(c('in', ['fr']), { a: 'FR' })).toBe(false);
    expect(holds(c('contains', ['Chrome']), { a: 'chrome' })).toBe(false);
  });
});

describe('semantic versions and dates in attributes', () => {
  it('a string that is not a semantic version does not hold, for any semver operator', () => {
    for (const op of ['semver_eq', 'semver_lt', 'semver_lte', 'semver_gt', 'semver_gte']) {
      for (const bad of ['2.1', '02.1.0', 'latest', '', '2.1.0 '])
        expect(holds(c(op, ['2.1.0']), { a: bad })).toBe(false);
    }
  });

  it('reads the same attribute string again alike (the last parse is reused)', () => {
    const compiled = compileRevision({
      Name: 'flag',
      Type: 'FEATURE',
      ControlValue: false,
      Treatments: [],
      Rules: [{ Conditions: [c('semver_gte', ['2.0.0'], 'version')], Value: true }],
    });
    const answers = ['2.0.0', '1.9.9', '2.0.0', 'bad', 'bad', '3.0.0'].map(
      (version) => compiled.evaluateContext({ version }).value,
    );
    expect(answers).toEqual([true, false, true, false, false, true]);
  });

  it('answers alike for many distinct versions asked over and over (recent parses are bounded, never stale)', () => {
    const compiled = compileRevision({
      Name: 'flag',
      Type: 'FEATURE',
      ControlValue: false,
      Treatments: [],
      Rules: [
        { Conditions: [c('semver_gte', ['2.50.0'], 'version'), c('after', ['2026-01-01'], 'since')], Value: true },
      ],
    });
    // More distinct texts than a condition keeps, each asked again after the others.
    const versions = Array.from({ length: 100 }, (_, i) => `2.${i}.0`);
    // Every third date is before the rule's date, the others after it.
    const dates = Array.from(
      { length: 100 },
      (_, i) => `${i % 3 === 0 ? 2025 : 2027}-03-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z`,
    );
    const expected = versions.map((_, i) => i >= 50 && i % 3 !== 0);
    for (let pass = 0; pass < 3; pass++) {
      const answers = versions.map(
        (version, i) => compiled.evaluateContext({ version, since: dates[i] }).value === true,
      );
      expect(answers).toEqual(expected);
    }
  });

  it('a number attribute is Unix time in seconds', () => {
    const dec1 = Date.UTC(2026, 11, 1) / 1000;
    expect(holds(c('before', ['2026-12-01']), { a: dec1 - 0.5 })).toBe(true);
    expect(holds(c('before', ['2026-12-01']), { a: dec1 })).toBe(false);
    expect(holds(c('after', ['2026-12-01']), { a: dec1 })).toBe(false);
    expect(holds(c('after', ['2026-12-01']), { a: dec1 + 1 })).toBe(true);
    expect(holds(c('after', ['2026-12-01T00:00:00.5Z']), { a: dec1 + 0.25 })).toBe(false);
    expect(holds(c('after', ['2026-12-01T00:00:00.5Z']), { a: dec1 + 0.75 })).toBe(true);
  });

  it('an attribute string that is not a date does not hold, before or after', () => {
    for (const bad of ['2026-02-30', 'yesterday', '2026-12-01T09:30:00', '1764581400']) {
      expect(holds(c('before', ['2030-01-01']), { a: bad })).toBe(false);
      expect(holds(c('after', ['2000-01-01']), { a: bad })).toBe(false);
    }
  });
});

describe('segment operators', () => {
  function segment(name: string, members: string[]): CompiledSegment {
    return { name, archived: false, contains: (context) => members.includes(context.targetingKey ?? '') };
  }
  const segments: SegmentLookup = (name) =>
    ({ beta: segment('beta', ['ann']), staff: segment('staff', ['bob']) })[name];

  it('in_segment holds for a member of one of the segments, not_in_segment for a member of none', () => {
    const inAny = c('in_segment', ['beta', 'staff'], 'targetingKey');
    const inNone = c('not_in_segment', ['beta', 'staff'], 'targetingKey');
    expect(holds(inAny, { targetingKey: 'bob' }, segments)).toBe(true);
    expect(holds(inAny, { targetingKey: 'cy' }, segments)).toBe(false);
    expect(holds(inNone, { targetingKey: 'cy' }, segments)).toBe(true);
    expect(holds(inNone, { targetingKey: 'ann' }, segments)).toBe(false);
  });

  it('an unknown segment makes the condition not hold, for both operators', () => {
    expect(holds(c('in_segment', ['beta', 'gone'], 'targetingKey'), { targetingKey: 'ann' }, segments)).toBe(false);
    expect(holds(c('not_in_segment', ['gone'], 'targetingKey'), { targetingKey: 'ann' }, segments)).toBe(false);
    expect(holds(c('not_in_segment', ['beta'], 'targetingKey'), { targetingKey: 'cy' })).toBe(false);
  });

  it('membership decides even without a targeting key (a segment of conditions needs none)', () => {
    const byCountry: SegmentLookup = (name) =>
      name === 'fr' ? { name, archived: false, contains: (context) => context.country === 'FR' } : undefined;
    expect(holds(c('in_segment', ['fr'], 'targetingKey'), { country: 'FR' }, byCountry)).toBe(true);
    expect(holds(c('not_in_segment', ['fr'], 'targetingKey'), { country: 'DE' }, byCountry)).toBe(true);
  });
});

describe('contexts a caller may build', () => {
  it('attributes inherited from Object.prototype never hold, negated operators included', () => {
    for (const attribute of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(holds(c('not_equals', ['x'], attribute), { targetingKey: 'a' })).toBe(false);
      expect(holds(c('not_in', ['x', 1], attribute), { targetingKey: 'a' })).toBe(false);
      expect(holds(c('contains', [''], attribute), { targetingKey: 'a' })).toBe(false);
    }
  });

  it('a context without a prototype is read like any other', () => {
    const context = Object.assign(Object.create(null) as Record<string, unknown>, { a: 'gold' });
    expect(holds(c('equals', ['gold']), context)).toBe(true);
    expect(holds(c('not_in', ['gold']), context)).toBe(false);
  });
});
