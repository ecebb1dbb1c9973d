import type { Revision } from '@vexil/core';
import { describe, expect, it } from 'vitest';
import { describeCondition } from '../src/words/describe-condition.js';
import { describeRevision } from '../src/words/describe-revision.js';

const base = { Name: 'new_checkout', Type: 'FEATURE', FormatVersion: 2 } as const;
const revision = (fields: Partial<Revision>): Revision =>
  ({ ...base, ControlValue: false, Treatments: [], ...fields }) as Revision;

describe('describeRevision', () => {
  it('says an override, a rule with a variant name and a percentage in the order evaluation tries them', () => {
    const words = describeRevision(
      revision({
        Variants: { on: true, off: false },
        Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 40, Value: true }],
        Rules: [{ Conditions: [{ Attribute: 'country', Operator: 'in', Values: ['US', 'CA'] }], Value: true }],
      }),
    );
    expect(words).toBe('1 override → on, country in [US, CA] → on, 40 % → on, otherwise off');
  });

  it('says the values themselves when the revision names no variants', () => {
    const words = describeRevision(
      revision({
        Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 40, Value: true }],
        Rules: [{ Conditions: [{ Attribute: 'country', Operator: 'in', Values: ['US', 'CA'] }], Value: true }],
      }),
    );
    expect(words).toBe('1 override → true, country in [US, CA] → true, 40 % → true, otherwise false');
  });

  it('says "everyone" with the control value when nobody is targeted', () => {
    expect(describeRevision(revision({ ControlValue: true }))).toBe('everyone: true');
    expect(describeRevision(revision({ Treatments: [{ OverrideList: [], PercentRollout: 0, Value: true }] }))).toBe(
      'everyone: false',
    );
  });

  it('lists each treatment of a data flag and overrides that give different values separately', () => {
    const words = describeRevision({
      ...base,
      Type: 'DATA',
      ControlValue: 'openai',
      Treatments: [
        { OverrideList: ['A123456'], PercentRollout: 20, Value: 'claude' },
        { OverrideList: ['B1', 'B2'], PercentRollout: 30.5, Value: 'llama' },
      ],
    });
    expect(words).toBe('1 override → claude, 2 overrides → llama, 20 % → claude, 30.5 % → llama, otherwise openai');
  });

  it('says a rule split by its buckets and a null value as the caller default', () => {
    const words = describeRevision(
      revision({
        Rules: [
          {
            Conditions: [{ Attribute: 'plan', Operator: 'equals', Values: ['pro'] }],
            Split: [
              { Percent: 50, Value: true },
              { Percent: 50, Value: null },
            ],
          },
        ],
      }),
    );
    expect(words).toBe('plan = pro → 50 % true / 50 % default, otherwise false');
  });

  it('stops at a rule without conditions: nothing after it is reached', () => {
    const words = describeRevision(
      revision({
        Treatments: [{ OverrideList: [], PercentRollout: 50, Value: true }],
        Rules: [{ Conditions: [], Value: true }],
      }),
    );
    expect(words).toBe('everyone → true');
  });

  it('says a disabled flag gives everyone its control value, and an archived one gives nothing', () => {
    expect(
      describeRevision(
        revision({ Disabled: true, Treatments: [{ OverrideList: [], PercentRollout: 40, Value: true }] }),
      ),
    ).toBe('disabled (kill switch): everyone gets false');
    expect(describeRevision(revision({ Archived: true }))).toBe('archived: no value for anyone');
  });

  it('cuts a long JSON value short and quotes strings that would read ambiguously', () => {
    const words = describeRevision({
      ...base,
      Type: 'JSON',
      ControlValue: { model: 'a-very-long-model-name-that-goes-on-and-on', temperature: 0.2 },
      Treatments: [],
    });
    expect(words).toBe('everyone: {"model":"a-very-long-model-name-that-g…');
    expect(describeRevision({ ...base, Type: 'DATA', ControlValue: 'a, b', Treatments: [] })).toBe('everyone: "a, b"');
  });
});

describe('describeCondition', () => {
  it('reads each operator family in words', () => {
    expect(describeCondition({ Attribute: 'age', Operator: 'gte', Values: [18] })).toBe('age ≥ 18');
    expect(describeCondition({ Attribute: 'email', Operator: 'ends_with', Values: ['@a.com', '@b.com'] })).toBe(
      'email ends with @a.com or @b.com',
    );
    expect(describeCondition({ Attribute: 'app', Operator: 'semver_lt', Values: ['2.0.0'] })).toBe(
      'app < version 2.0.0',
    );
    expect(describeCondition({ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta'] })).toBe(
      'in segment beta',
    );
    expect(describeCondition({ Attribute: 'targetingKey', Operator: 'not_in_segment', Values: ['a', 'b'] })).toBe(
      'not in segments a nor b',
    );
    expect(describeCondition({ Attribute: 'code', Operator: 'in', Values: ['10', 10] })).toBe('code in [10, 10]');
  });
});
