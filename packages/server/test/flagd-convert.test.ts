import { InvalidInputError } from '@vexil/core';
import { describe, expect, it } from 'vitest';
import { convertFlagdDefinition, planFlagdImport } from '../src/flagd/flagd-definition.js';
import { describeRefusal } from '../src/flagd/flagd-plan.js';

const bool = { on: true, off: false };
const convert = (definition: unknown) => convertFlagdDefinition(definition, 'flags.json');
const plan = (definition: unknown) => planFlagdImport(definition, 'flags.json');
const one = (flag: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  plan({ flags: { my_flag: { state: 'ENABLED', ...flag } }, ...extra });
const rulesOf = (flag: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  one(flag, extra).flags[0]!.revision.Rules;
const refusalsOf = (definition: unknown) => convert(definition).refusals.map(describeRefusal);
const refusalOf = (flag: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  refusalsOf({ flags: { my_flag: { state: 'ENABLED', variants: bool, defaultVariant: 'off', ...flag } }, ...extra });
const email = { var: 'email' };

describe('flagd flags as Vexil flags', () => {
  it('takes the flag type from the variants: booleans, strings, numbers, objects', () => {
    const { flags } = plan({
      flags: {
        a_bool: { state: 'ENABLED', variants: bool, defaultVariant: 'on' },
        a_string: { state: 'ENABLED', variants: { greeting: 'hi', parting: 'bye' }, defaultVariant: 'greeting' },
        a_number: { state: 'ENABLED', variants: { one: 1, tenth: 0.1 }, defaultVariant: 'tenth' },
        an_object: { state: 'ENABLED', variants: { empty: {}, list: [1, 2] }, defaultVariant: 'list' },
      },
    });
    expect(flags.map((f) => [f.name, f.flagType, f.revision.ControlValue])).toEqual([
      ['a_bool', 'feature', true],
      ['a_string', 'data', 'hi'],
      ['a_number', 'number', 0.1],
      ['an_object', 'json', [1, 2]],
    ]);
    expect(flags[1]!.revision).toEqual({
      ControlValue: 'hi',
      Treatments: [],
      Variants: { greeting: 'hi', parting: 'bye' },
      Comment: 'imported from flagd (flags.json)',
    });
  });

  it("maps a null or absent defaultVariant to ControlValue null (the caller's default)", () => {
    const { flags } = plan({
      flags: {
        null_default: { state: 'ENABLED', variants: bool, defaultVariant: null },
        no_default: { state: 'ENABLED', variants: { small: 10, big: 1000 } },
      },
    });
    expect(flags.map((f) => f.revision.ControlValue)).toEqual([null, null]);
  });

  it('maps DISABLED to Disabled and merges file metadata under flag metadata', () => {
    const [flag] = plan({
      metadata: { flagSetId: 'shop', version: 1, team: 'growth' },
      flags: {
        off_flag: {
          state: 'DISABLED',
          variants: bool,
          defaultVariant: 'on',
          metadata: { team: 'ads', expires: '2027-01-01' },
        },
      },
    }).flags;
    expect(flag!.revision.Disabled).toBe(true);
    expect(flag!.revision.Metadata).toEqual({ flagSetId: 'shop', version: 1, team: 'ads', expires: '2027-01-01' });
  });

  it('leaves out Rules for a flag without targeting or with empty targeting', () => {
    expect(rulesOf({ variants: bool, defaultVariant: 'on' })).toBeUndefined();
    expect(rulesOf({ variants: bool, defaultVariant: 'on', targeting: {} })).toBeUndefined();
  });
});

describe('flagd targeting as Vexil rules', () => {
  it('maps an if chain rule by rule, in order, with an else as a rule without conditions', () => {
    const rules = rulesOf({
      variants: { internal: 'INTERNAL', external: 'EXTERNAL', beta: 'BETA' },
      defaultVariant: 'external',
      targeting: {
        if: [
          {
            and: [
              { '==': [{ var: ['fn'] }, 'Sulisław'] },
              { '==': [{ var: 'age' }, 29] },
              { '==': [{ var: 'customer' }, false] },
            ],
          },
          'internal',
          { in: ['@example.com', email] },
          'beta',
          'external',
        ],
      },
    });
    expect(rules).toEqual([
      {
        Conditions: [
          { Attribute: 'fn', Operator: 'equals', Values: ['Sulisław'] },
          { Attribute: 'age', Operator: 'equals', Values: [29] },
          { Attribute: 'customer', Operator: 'equals', Values: [false] },
        ],
        Value: 'INTERNAL',
      },
      { Conditions: [{ Attribute: 'email', Operator: 'contains', Values: ['@example.com'] }], Value: 'BETA' },
      { Conditions: [], Value: 'EXTERNAL' },
    ]);
  });

  it('maps each comparison operator, with the attribute on either side', () => {
    const condition = (test: unknown) =>
      rulesOf({ variants: bool, defaultVariant: 'off', targeting: { if: [test, 'on'] } })![0]!.Conditions;
    expect(condition({ '!=': [email, 'a@b.c'] })).toEqual([
      { Attribute: 'email', Operator: 'not_equals', Values: ['a@b.c'] },
    ]);
    expect(condition({ '===': ['x', { var: 'k' }] })).toEqual([{ Attribute: 'k', Operator: 'equals', Values: ['x'] }]);
    expect(condition({ in: [{ var: 'country' }, ['de', 'fr', 49]] })).toEqual([
      { Attribute: 'country', Operator: 'in', Values: ['de', 'fr', 49] },
    ]);
    expect(condition({ starts_with: [email, 'admin'] })).toEqual([
      { Attribute: 'email', Operator: 'starts_with', Values: ['admin'] },
    ]);
    expect(condition({ ends_with: [email, '.org'] })).toEqual([
      { Attribute: 'email', Operator: 'ends_with', Values: ['.org'] },
    ]);
    expect(condition({ '>': [{ var: 'age' }, 10] })).toEqual([{ Attribute: 'age', Operator: 'gt', Values: [10] }]);
    expect(condition({ '>=': [18, { var: 'age' }] })).toEqual([{ Attribute: 'age', Operator: 'lte', Values: [18] }]);
    expect(condition({ '<': [1, { var: 'n' }, 10] })).toEqual([
      { Attribute: 'n', Operator: 'gt', Values: [1] },
      { Attribute: 'n', Operator: 'lt', Values: [10] },
    ]);
    expect(condition({ '<=': [1, { var: 'n' }, 10] })).toEqual([
      { Attribute: 'n', Operator: 'gte', Values: [1] },
      { Attribute: 'n', Operator: 'lte', Values: [10] },
    ]);
    expect(condition({ '!': { var: 'customer' } })).toEqual([
      { Attribute: 'customer', Operator: 'equals', Values: [false] },
    ]);
    expect(condition({ '!': [{ var: 'customer' }] })).toEqual([
      { Attribute: 'customer', Operator: 'equals', Values: [false] },
    ]);
  });

  it('maps sem_ver comparisons, ^ and ~ as exact ranges, and != as two rules', () => {
    const rules = (operator: string, version: unknown) =>
      rulesOf({
        variants: bool,
        defaultVariant: 'off',
        targeting: { if: [{ sem_ver: [{ var: 'app' }, operator, version] }, 'on'] },
      });
    const semver = (Operator: string, v: string) => ({ Attribute: 'app', Operator, Values: [v] });
    expect(rules('>=', '1.2.3')).toEqual([{ Conditions: [semver('semver_gte', '1.2.3')], Value: true }]);
    expect(rules('=', 'v2.0.0-rc.1')).toEqual([{ Conditions: [semver('semver_eq', '2.0.0-rc.1')], Value: true }]);
    expect(rules('<', '1.2')).toEqual([{ Conditions: [semver('semver_lt', '1.2.0')], Value: true }]);
    expect(rules('^', '1.4.2')).toEqual([
      { Conditions: [semver('semver_gte', '1.0.0-0'), semver('semver_lt', '2.0.0-0')], Value: true },
    ]);
    expect(rules('~', '1.4.2')).toEqual([
      { Conditions: [semver('semver_gte', '1.4.0-0'), semver('semver_lt', '1.5.0-0')], Value: true },
    ]);
    expect(rules('!=', '3.0.0')).toEqual([
      { Conditions: [semver('semver_lt', '3.0.0')], Value: true },
      { Conditions: [semver('semver_gt', '3.0.0')], Value: true },
    ]);
  });

  it('maps or to one rule per alternative with the same result, keeping the order', () => {
    const rules = rulesOf({
      variants: { a: 'A', b: 'B' },
      defaultVariant: 'a',
      targeting: {
        if: [{ and: [{ or: [{ '==': [email, 'x'] }, { '==': [email, 'y'] }] }, { '>': [{ var: 'age' }, 3] }] }, 'b'],
      },
    });
    expect(rules).toEqual([
      {
        Conditions: [
          { Attribute: 'email', Operator: 'equals', Values: ['x'] },
          { Attribute: 'age', Operator: 'gt', Values: [3] },
        ],
        Value: 'B',
      },
      {
        Conditions: [
          { Attribute: 'email', Operator: 'equals', Values: ['y'] },
          { Attribute: 'age', Operator: 'gt', Values: [3] },
        ],
        Value: 'B',
      },
    ]);
  });

  it('drops trailing null results (the default already) and flattens an if in the else position', () => {
    const rules = rulesOf({
      variants: { miss: 'miss', hit: 'hit', near: 'near' },
      defaultVariant: 'miss',
      targeting: {
        if: [{ '==': [{ var: 'targetingKey' }, 'k1'] }, 'hit', { if: [{ '==': [email, 'n'] }, 'near', null] }],
      },
    });
    expect(rules).toEqual([
      { Conditions: [{ Attribute: 'targetingKey', Operator: 'equals', Values: ['k1'] }], Value: 'hit' },
      { Conditions: [{ Attribute: 'email', Operator: 'equals', Values: ['n'] }], Value: 'near' },
    ]);
  });

  it('keeps a null result before later rules as a rule giving the ControlValue, and says the reason differs', () => {
    const { flags, notes } = one({
      variants: { a: 'A', b: 'B' },
      defaultVariant: 'a',
      targeting: { if: [{ '==': [email, 'x'] }, null, { '==': [email, 'y'] }, 'b'] },
    });
    expect(flags[0]!.revision.Rules).toEqual([
      { Conditions: [{ Attribute: 'email', Operator: 'equals', Values: ['x'] }], Value: 'A' },
      { Conditions: [{ Attribute: 'email', Operator: 'equals', Values: ['y'] }], Value: 'B' },
    ]);
    expect(notes.join('\n')).toContain('reason TARGETING_MATCH (flagd: DEFAULT)');
  });

  it('maps fractional to a split in percent, rounding weights to basis points, and says bucketing changes', () => {
    const { flags, notes } = one({
      variants: { heads: 'heads', tails: 'tails', edge: 'edge' },
      defaultVariant: 'heads',
      targeting: {
        if: [
          { '==': [email, 'x'] },
          {
            fractional: [
              ['heads', 1],
              ['tails', 1],
              ['edge', 1],
            ],
          },
          {
            fractional: [
              ['heads', 25],
              ['tails', 75],
            ],
          },
        ],
      },
    });
    expect(flags[0]!.revision.Rules).toEqual([
      {
        Conditions: [{ Attribute: 'email', Operator: 'equals', Values: ['x'] }],
        Split: [
          { Percent: 33.34, Value: 'heads' },
          { Percent: 33.33, Value: 'tails' },
          { Percent: 33.33, Value: 'edge' },
        ],
      },
      {
        Conditions: [],
        Split: [
          { Percent: 25, Value: 'heads' },
          { Percent: 75, Value: 'tails' },
        ],
      },
    ]);
    expect(notes).toContain('flag "my_flag": "fractional" weights 1:1:1 rounded to 33.34% / 33.33% / 33.33%');
    expect(notes.join('\n')).toContain('users land in different buckets than under flagd');
  });

  it('maps a top-level fractional, with default weights and a null bucket, to one rule without conditions', () => {
    expect(
      rulesOf({ variants: bool, defaultVariant: 'off', targeting: { fractional: [['on'], ['off'], [null, 2]] } }),
    ).toEqual([
      {
        Conditions: [],
        Split: [
          { Percent: 25, Value: true },
          { Percent: 25, Value: false },
          { Percent: 50, Value: null },
        ],
      },
    ]);
  });

  it('makes an evaluator used as a condition a segment, shared by the flags that use it', () => {
    const { flags, segments } = plan({
      $evaluators: { staff: { and: [{ ends_with: [email, '@corp.com'] }, { '==': [{ var: 'active' }, true] }] } },
      flags: {
        one_flag: {
          state: 'ENABLED',
          variants: bool,
          defaultVariant: 'off',
          targeting: { if: [{ $ref: 'staff' }, 'on'] },
        },
        two_flag: {
          state: 'ENABLED',
          variants: bool,
          defaultVariant: 'off',
          targeting: { if: [{ and: [{ $ref: 'staff' }, { '>': [{ var: 'age' }, 1] }] }, 'on', null] },
        },
      },
    });
    expect(segments).toEqual([
      {
        name: 'staff',
        revision: {
          Conditions: [
            { Attribute: 'email', Operator: 'ends_with', Values: ['@corp.com'] },
            { Attribute: 'active', Operator: 'equals', Values: [true] },
          ],
          Comment: 'imported from flagd (flags.json)',
        },
      },
    ]);
    const member = { Attribute: 'targetingKey', Operator: 'in_segment', Values: ['staff'] };
    expect(flags[0]!.revision.Rules).toEqual([{ Conditions: [member], Value: true }]);
    expect(flags[1]!.revision.Rules).toEqual([
      { Conditions: [member, { Attribute: 'age', Operator: 'gt', Values: [1] }], Value: true },
    ]);
  });

  it('inlines an evaluator with or, an evaluator used as a result, and evaluators inside evaluators', () => {
    const { flags, segments } = plan({
      $evaluators: {
        either: { or: [{ '==': [email, 'a'] }, { $ref: 'is_b' }] },
        is_b: { '==': [email, 'b'] },
        coin: {
          fractional: [
            ['on', 50],
            ['off', 50],
          ],
        },
      },
      flags: {
        my_flag: {
          state: 'ENABLED',
          variants: bool,
          defaultVariant: 'off',
          targeting: { if: [{ $ref: 'either' }, { $ref: 'coin' }] },
        },
      },
    });
    const coin = [
      { Percent: 50, Value: true },
      { Percent: 50, Value: false },
    ];
    expect(flags[0]!.revision.Rules).toEqual([
      { Conditions: [{ Attribute: 'email', Operator: 'equals', Values: ['a'] }], Split: coin },
      { Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['is_b'] }], Split: coin },
    ]);
    expect(segments.map((s) => s.name)).toEqual(['is_b']);
  });
});

describe('what cannot be mapped is refused, naming the flag and the construct', () => {
  it('refuses mixed variant types and duplicate variant values', () => {
    expect(refusalOf({ variants: { a: true, b: 'yes' }, defaultVariant: 'a' })).toEqual([
      'flag "my_flag": variants: mixed value types cannot be mapped: a Vexil flag holds one type, these are booleans (a) and strings (b)',
    ]);
    expect(refusalOf({ variants: { a: { x: 1, y: 2 }, b: { y: 2, x: 1 } }, defaultVariant: 'a' })).toEqual([
      'flag "my_flag": variants: variants a and b have the same value; Vexil names each value once',
    ]);
  });

  it('refuses flagd properties, nested paths, var defaults, regex and computed results', () => {
    const refused = (targeting: unknown) => refusalOf({ targeting });
    expect(refused({ if: [{ '>': [{ var: '$flagd.timestamp' }, { var: 'time' }] }, 'on'] })).toEqual([
      'flag "my_flag": targeting.if[0].>.var: flagd\'s own property "$flagd.timestamp" cannot be mapped (Vexil adds no $flagd properties to the context)',
    ]);
    expect(refused({ if: [{ '==': [{ var: 'user.name' }, 'x'] }, 'on'] })[0]).toContain('reads a nested path');
    expect(refused({ if: [{ '==': [{ var: ['name', 'nobody'] }, 'x'] }, 'on'] })[0]).toContain(
      '"var" with a default value',
    );
    expect(refused({ if: [{ regex: [email, '^a.*'] }, 'on'] })[0]).toContain(
      'targeting.if[0].regex: regular expressions are not supported',
    );
    expect(refused({ if: [{ '==': [email, 'x'] }, { if: [{ '==': [email, 'y'] }, 'on', 'off'] }] })[0]).toContain(
      'targeting.if[1].if: a nested "if" as a result cannot be mapped',
    );
    expect(refused({ if: [{ '==': [email, 'x'] }, { var: 'variant' }] })[0]).toContain(
      'a variant taken from the context',
    );
    expect(refused({ if: [{ '==': [email, 'x'] }, 'maybe'] })[0]).toContain(
      'gives variant "maybe", which the flag does not have',
    );
  });

  it('refuses or across different results, fractional with a custom bucket key, and unknown operators', () => {
    const refused = (targeting: unknown) => refusalOf({ targeting })[0];
    expect(refused({ or: [{ var: 'v' }, 'on'] })).toContain('a result computed by "or" cannot be mapped');
    expect(refused({ fractional: [{ var: 'email' }, ['on', 50], ['off', 50]] })).toContain(
      'targeting.fractional[0]: "fractional" with a custom bucket key cannot be mapped',
    );
    expect(refused({ if: [{ '==': [email, { var: 'other' }] }, 'on'] })).toContain(
      'only an attribute ({"var": …}) compared with a literal',
    );
    expect(refused({ if: [{ some: [{ var: 'tags' }, { '==': [{ var: '' }, 'x'] }] }, 'on'] })).toContain(
      'operator "some" cannot be mapped',
    );
    expect(refused({ if: [{ in: [{ var: 'x' }, 'abc'] }, 'on'] })).toContain('"in" maps only as');
  });

  it('refuses an unknown evaluator and an evaluator cycle', () => {
    expect(refusalOf({ targeting: { if: [{ $ref: 'nope' }, 'on'] } })).toEqual([
      'flag "my_flag": targeting.if[0].$ref: no evaluator named "nope" in $evaluators',
    ]);
    const cycle = refusalOf(
      { targeting: { if: [{ $ref: 'a' }, 'on'] } },
      { $evaluators: { a: { and: [{ $ref: 'b' }] }, b: { $ref: 'a' } } },
    );
    expect(cycle[0]).toContain('evaluator "a" refers to itself (a → b → a)');
  });

  it('refuses a bad state, a default variant that does not exist, bad metadata and unknown keys', () => {
    expect(refusalOf({ state: 'ON' })[0]).toBe('flag "my_flag": state: must be "ENABLED" or "DISABLED", got "ON"');
    expect(refusalOf({ defaultVariant: 'maybe' })[0]).toBe(
      'flag "my_flag": defaultVariant: "maybe" is not one of the variants (on, off)',
    );
    expect(refusalOf({ metadata: { tags: ['a'] } })[0]).toBe(
      'flag "my_flag": metadata.tags: ["a"] is not a string, number or boolean',
    );
    expect(refusalOf({ disabled: true })[0]).toContain('flag "my_flag": disabled: unknown key');
    expect(refusalsOf({ flags: {} })).toEqual(['flags: the file has no flags (an object of flag key → flag)']);
  });

  it('collects every refusal of every flag, and planning throws one InvalidInputError naming them all', () => {
    const definition = {
      flags: {
        good_flag: { state: 'ENABLED', variants: bool, defaultVariant: 'on' },
        time_flag: {
          state: 'ENABLED',
          variants: bool,
          defaultVariant: 'on',
          targeting: { if: [{ '<': [{ var: '$flagd.timestamp' }, 5] }, 'off'] },
        },
        Bad_Name: { state: 'ENABLED', variants: bool, defaultVariant: 'on' },
      },
    };
    expect(convert(definition).refusals.map((r) => r.flag)).toEqual(['time_flag', 'Bad_Name']);
    let error: unknown;
    try {
      plan(definition);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    const message = (error as InvalidInputError).message;
    expect(message).toMatch(
      /^cannot import flags\.json: 2 constructs cannot be mapped to Vexil, so nothing was written:/,
    );
    expect(message).toContain('flag "time_flag": targeting.if[0].<.var: flagd\'s own property "$flagd.timestamp"');
    expect(message).toContain('flag "Bad_Name": the key is not a valid Vexil flag name');
  });
});
