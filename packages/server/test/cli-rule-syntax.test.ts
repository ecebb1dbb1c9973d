import { InvalidInputError, parseRevision } from '@vexil/core';
import { describe, expect, it } from 'vitest';
import { formatRule, parseConditions, parseRule } from '../src/cli/rule-syntax.js';

const onOff = { on: true, off: false };

describe('the --rule syntax', () => {
  it('reads conditions joined by "and", a variant as the outcome, values typed by their operator', () => {
    expect(parseRule('country in DE,FR and plan equals pro => on', 'feature', onOff, 0)).toEqual({
      Conditions: [
        { Attribute: 'country', Operator: 'in', Values: ['DE', 'FR'] },
        { Attribute: 'plan', Operator: 'equals', Values: ['pro'] },
      ],
      Value: true,
    });
    expect(parseConditions('age gte 18 and tier in 1, 2 and beta equals true and zip starts_with 100', 'c')).toEqual([
      { Attribute: 'age', Operator: 'gte', Values: [18] },
      { Attribute: 'tier', Operator: 'in', Values: [1, 2] },
      { Attribute: 'beta', Operator: 'equals', Values: [true] },
      { Attribute: 'zip', Operator: 'starts_with', Values: ['100'] },
    ]);
  });

  it('keeps quoted values strings, with spaces, commas, quotes and keywords inside', () => {
    expect(parseConditions('name equals "Jane Doe" and code in "18","a,b" and word equals "and"', 'c')).toEqual([
      { Attribute: 'name', Operator: 'equals', Values: ['Jane Doe'] },
      { Attribute: 'code', Operator: 'in', Values: ['18', 'a,b'] },
      { Attribute: 'word', Operator: 'equals', Values: ['and'] },
    ]);
  });

  it('takes symbols and "not in" for operators, and in_segment without an attribute', () => {
    expect(parseConditions('age >= 21 and age < 65 and plan != free and country not in US,CA', 'c')).toEqual([
      { Attribute: 'age', Operator: 'gte', Values: [21] },
      { Attribute: 'age', Operator: 'lt', Values: [65] },
      { Attribute: 'plan', Operator: 'not_equals', Values: ['free'] },
      { Attribute: 'country', Operator: 'not_in', Values: ['US', 'CA'] },
    ]);
    expect(parseConditions('in_segment beta-testers,staff and not_in_segment blocked', 'c')).toEqual([
      { Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta-testers', 'staff'] },
      { Attribute: 'targetingKey', Operator: 'not_in_segment', Values: ['blocked'] },
    ]);
  });

  it('reads splits, the caller’s default, literal values of each type, and a rule with no condition', () => {
    expect(parseRule('in_segment beta => 50%:on, 50%:off', 'feature', onOff, 1)).toEqual({
      Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta'] }],
      Split: [
        { Percent: 50, Value: true },
        { Percent: 50, Value: false },
      ],
    });
    expect(parseRule('=> default', 'data', {}, 0)).toEqual({ Conditions: [], Value: null });
    expect(parseRule('always => "default"', 'data', {}, 0)).toEqual({ Conditions: [], Value: 'default' });
    expect(parseRule('plan equals pro => 2.5', 'number', {}, 0).Value).toBe(2.5);
    expect(parseRule('plan equals pro => {"columns": 3, "list": [1, 2]}', 'json', {}, 0).Value).toEqual({
      columns: 3,
      list: [1, 2],
    });
    expect(parseRule('x equals 1 => 33.33%:{"a":1}, 66.67%:default', 'json', {}, 0).Split).toEqual([
      { Percent: 33.33, Value: { a: 1 } },
      { Percent: 66.67, Value: null },
    ]);
    expect(parseRule('x equals 1 => hello there', 'data', {}, 0).Value).toBe('hello there');
  });

  it('writes rules back in the same form, which reads back to the same rule', () => {
    const rules = [
      'country in DE,FR and plan equals pro => on',
      'name equals "Jane Doe" and code in "18",19 => off',
      'in_segment beta => 25%:on, 75%:off',
      '=> default',
    ];
    for (const text of rules) {
      const rule = parseRule(text, 'feature', onOff, 0);
      expect(formatRule(rule, onOff)).toBe(text);
      expect(parseRule(formatRule(rule, onOff), 'feature', onOff, 0)).toEqual(rule);
    }
  });

  it('builds rules core accepts as a revision', () => {
    const revision = parseRevision({
      Name: 'checkout',
      Type: 'FEATURE',
      FormatVersion: 2,
      ControlValue: false,
      Treatments: [],
      Variants: onOff,
      Rules: [
        parseRule('country in DE,FR and version semver_gte 2.1.0 => on', 'feature', onOff, 0),
        parseRule('signup before 2026-01-01 => 50%:on, 50%:off', 'feature', onOff, 1),
      ],
    });
    expect(revision.Rules).toHaveLength(2);
  });

  it.each([
    ['country in DE,FR', '"=>" between the conditions and the outcome'],
    ['country => on', 'an operator after "country"'],
    ['country in => on', 'a value after "in"'],
    ['country in DE, => on', 'a value after ","'],
    ['country in DE plan equals pro => on', '"and" or the end of the conditions, not "plan"'],
    ['country in DE and => on', 'a condition after "and"'],
    ['country in DE =>', 'an outcome after "=>"'],
    ['country in DE => 50%:on, off', 'PERCENT%:VALUE for every part of a split, not "off"'],
    ['name equals "unterminated => on', 'a closing "'],
    ['country in_segment beta => on', 'in_segment without an attribute'],
  ])('refuses %j, naming the rule and what it expected', (text, expected) => {
    let error: unknown;
    try {
      parseRule(text, 'feature', onOff, 2);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe('Rules[2]');
    expect((error as InvalidInputError).message).toContain(`Rules[2] ${JSON.stringify(text)}: expected ${expected}`);
  });

  it('refuses an outcome that is neither a variant nor a value of the flag type, naming its field', () => {
    expect(() => parseRule('x equals 1 => maybe', 'feature', onOff, 0)).toThrow(
      /Rules\[0\]\.Value must be true or false for a feature flag, got "maybe"/,
    );
    expect(() => parseRule('x equals 1 => 10%:lots, 90%:0', 'number', {}, 3)).toThrow(
      /Rules\[3\]\.Split\[0\]\.Value must be a number/,
    );
  });
});
