import type { Revision } from '@vexil/core';
import { describe, expect, it } from 'vitest';
import { diffRevisions } from '../src/words/revision-diff.js';

const first: Revision = {
  Name: 'new_checkout',
  Type: 'FEATURE',
  FormatVersion: 2,
  ControlValue: false,
  Treatments: [{ OverrideList: ['qa-1', 'qa-2'], PercentRollout: 40, Value: true }],
  OwnerID: 'alice',
  CreatedTime: '2026-01-01 10:00:00.000000',
};

describe('diffRevisions', () => {
  it('finds no difference between revisions that differ only in who wrote them, when and their format version', () => {
    const again = {
      ...first,
      OwnerID: 'bob',
      CreatedTime: '2026-01-02 10:00:00.000000',
      TokenID: 'tok_1',
      FormatVersion: 1,
    };
    expect(diffRevisions(first, again).lines).toEqual([]);
  });

  it('says a changed percentage in words with its field path', () => {
    const second = { ...first, Treatments: [{ ...first.Treatments[0]!, PercentRollout: 60 }] };
    const diff = diffRevisions(first, second);
    expect(diff.lines).toEqual([
      {
        where: 'treatment 1: percentage',
        field: 'Treatments[0].PercentRollout',
        kind: 'changed',
        before: '40',
        after: '60',
      },
    ]);
    expect(diff.before).toBe('2 overrides → true, 40 % → true, otherwise false');
    expect(diff.after).toBe('2 overrides → true, 60 % → true, otherwise false');
  });

  it('says an override list as the ids added and removed', () => {
    const second = { ...first, Treatments: [{ ...first.Treatments[0]!, OverrideList: ['qa-2', 'qa-3', 'qa-4'] }] };
    expect(diffRevisions(first, second).lines).toEqual([
      {
        where: 'treatment 1: overrides',
        field: 'Treatments[0].OverrideList',
        kind: 'changed',
        summary: 'added qa-3, qa-4; removed qa-1',
      },
    ]);
  });

  it('shows an added rule whole and a changed condition as one line', () => {
    const rule = { Conditions: [{ Attribute: 'country', Operator: 'in', Values: ['US'] }], Value: true };
    const second: Revision = { ...first, Rules: [rule] };
    const added = diffRevisions(first, second).lines;
    expect(added).toHaveLength(1);
    expect(added).toEqual([{ where: 'rules', field: 'Rules', kind: 'added', after: 'country in [US] → true' }]);

    const third: Revision = {
      ...first,
      Rules: [{ ...rule, Conditions: [{ Attribute: 'country', Operator: 'in', Values: ['US', 'CA'] }] }],
    };
    expect(diffRevisions(second, third).lines).toEqual([
      {
        where: 'rule 1: condition 1',
        field: 'Rules[0].Conditions[0]',
        kind: 'changed',
        before: 'country in ["US"]',
        after: 'country in ["US","CA"]',
      },
    ]);
  });

  it('says the kill switch, a metadata key and a JSON value change', () => {
    const second: Revision = { ...first, Disabled: true, Metadata: { owner: 'team-a' } };
    expect(diffRevisions(first, second).lines).toEqual([
      { where: 'disabled', field: 'Disabled', kind: 'added', after: 'true' },
      { where: 'Metadata', field: 'Metadata', kind: 'added', after: '{"owner":"team-a"}' },
    ]);
    const json1: Revision = { ...first, Type: 'JSON', ControlValue: { a: 1, b: [1, 2] }, Treatments: [] };
    const json2: Revision = { ...json1, ControlValue: { a: 1, b: [1, 3] } };
    expect(diffRevisions(json1, json2).lines).toEqual([
      {
        where: 'otherwise (control value)',
        field: 'ControlValue',
        kind: 'changed',
        before: '{"a":1,"b":[1,2]}',
        after: '{"a":1,"b":[1,3]}',
      },
    ]);
  });

  it('says a changed metadata key by its name', () => {
    const a: Revision = { ...first, Metadata: { owner: 'team-a', ticket: 'T-1' } };
    const b: Revision = { ...first, Metadata: { owner: 'team-b', ticket: 'T-1' } };
    expect(diffRevisions(a, b).lines).toEqual([
      { where: 'metadata owner', field: 'Metadata.owner', kind: 'changed', before: '"team-a"', after: '"team-b"' },
    ]);
  });
});
