import { describe, expect, it } from 'vitest';
import { answerableValues, compileRevision, configuredShares, parseRevision, type Revision } from '../src/index.js';

const revision = (fields: Record<string, unknown>): Revision =>
  parseRevision({ Name: 'f', Type: 'DATA', FormatVersion: 2, Treatments: [], ...fields }, { mode: 'input' });

describe('configured shares of a revision', () => {
  const split = revision({
    ControlValue: 'a',
    Treatments: [
      { OverrideList: ['qa-1'], PercentRollout: 20, Value: 'b' },
      { OverrideList: [], PercentRollout: 30.5, Value: 'c' },
      { OverrideList: [], PercentRollout: 0, Value: 'd' },
    ],
    Rules: [
      { Conditions: [{ Attribute: 'country', Operator: 'in', Values: ['DE'] }], Value: 'e' },
      {
        Conditions: [{ Attribute: 'plan', Operator: 'equals', Values: ['pro'] }],
        Split: [
          { Percent: 50, Value: 'f' },
          { Percent: 0, Value: 'g' },
          { Percent: 50, Value: 'a' },
        ],
      },
    ],
  });

  it('names every group evaluation answers with, percentages for treatments and control, null for lists and rules', () => {
    const shares = configuredShares(split);
    expect(shares).toEqual([
      { group: 'override-1', percentage: null },
      { group: 'rule-1', percentage: null },
      { group: 'rule-2-split-1', percentage: null },
      { group: 'rule-2-split-3', percentage: null },
      { group: 'treatment-1', percentage: 20 },
      { group: 'treatment-2', percentage: 30.5 },
      { group: 'control', percentage: 49.5 },
    ]);
    // The same names as the compiled revision's, less the override groups of empty lists.
    const compiled = compileRevision(split, { flagType: 'data', name: 'f' });
    for (const { group } of shares) expect(compiled.groups.has(group), group).toBe(true);
  });

  it('gives shares that evaluation of many ids bears out', () => {
    const compiled = compileRevision(split, { flagType: 'data', name: 'f' });
    const counts = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const { group } = compiled.evaluate(`user-${i}`);
      counts.set(group, (counts.get(group) ?? 0) + 1);
    }
    for (const { group, percentage } of configuredShares(split)) {
      if (percentage === null) continue;
      const observed = ((counts.get(group) ?? 0) / n) * 100;
      console.log(`${group}: configured ${percentage} %, observed ${observed.toFixed(2)} %`);
      expect(Math.abs(observed - percentage)).toBeLessThan(1.5);
    }
  });

  it('is disabled for everybody when disabled, nothing when archived, no control past 100 %', () => {
    expect(configuredShares(revision({ ControlValue: 'a', Disabled: true }))).toEqual([
      { group: 'disabled', percentage: 100 },
    ]);
    expect(configuredShares(revision({ ControlValue: 'a', Archived: true }))).toEqual([]);
    expect(
      configuredShares(
        revision({ ControlValue: 'a', Treatments: [{ OverrideList: [], PercentRollout: 100, Value: 'b' }] }),
      ),
    ).toEqual([{ group: 'treatment', percentage: 100 }]);
  });
});

describe('values a revision can answer', () => {
  it('lists each reachable value once, by content', () => {
    const json = parseRevision(
      {
        Name: 'j',
        Type: 'JSON',
        FormatVersion: 2,
        ControlValue: { a: 1 },
        Treatments: [
          { OverrideList: [], PercentRollout: 10, Value: { a: 1 } },
          { OverrideList: [], PercentRollout: 0, Value: { b: 2 } },
        ],
        Rules: [{ Conditions: [{ Attribute: 'x', Operator: 'equals', Values: ['y'] }], Value: null }],
      },
      { mode: 'input' },
    );
    expect(answerableValues(json)).toEqual([{ a: 1 }, null]);
    const everybody = revision({
      ControlValue: 'a',
      Treatments: [{ OverrideList: [], PercentRollout: 100, Value: 'b' }],
    });
    expect(answerableValues(everybody)).toEqual(['b']);
    expect(
      answerableValues(
        revision({
          ControlValue: 'a',
          Disabled: true,
          Treatments: [{ OverrideList: ['x'], PercentRollout: 50, Value: 'b' }],
        }),
      ),
    ).toEqual(['a']);
    expect(answerableValues(revision({ ControlValue: 'a' }))).toEqual(['a']);
  });
});
