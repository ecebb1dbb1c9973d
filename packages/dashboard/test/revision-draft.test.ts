import type { Revision } from '@vexil/core';
import { describe, expect, it } from 'vitest';
import { errorOwner, revisionFields } from '../src/form/field-errors.js';
import {
  draftOf,
  emptyDraft,
  parseConditionValues,
  parseValue,
  toRevisionBody,
  toSegmentBody,
} from '../src/form/revision-draft.js';

describe('revision drafts', () => {
  it('turns a stored revision into the form and back into the same revision body', () => {
    const revision: Revision = {
      Name: 'checkout',
      Type: 'FEATURE',
      FormatVersion: 2,
      ControlValue: false,
      Treatments: [{ OverrideList: ['qa-1', 'qa-2'], PercentRollout: 12.5, Value: true }],
      Rules: [
        {
          Conditions: [
            { Attribute: 'country', Operator: 'in', Values: ['US', 'CA'] },
            { Attribute: 'code', Operator: 'in', Values: ['10', 10] },
          ],
          Value: true,
        },
        {
          Conditions: [{ Attribute: 'plan', Operator: 'equals', Values: ['pro'] }],
          Split: [{ Percent: 100, Value: null }],
        },
      ],
      Variants: { on: true, off: false },
      Metadata: { owner: 'team-a', expires: '2027-01-31' },
      Disabled: true,
      HashAlgorithm: 'sha256',
      Salt: 'checkout',
      OwnerID: 'alice',
    };
    expect(toRevisionBody(draftOf(revision, 'feature'), 'feature')).toEqual({
      ControlValue: false,
      Treatments: [{ OverrideList: ['qa-1', 'qa-2'], PercentRollout: 12.5, Value: true }],
      Rules: revision.Rules,
      Variants: { on: true, off: false },
      Metadata: { owner: 'team-a', expires: '2027-01-31' },
      Disabled: true,
      HashAlgorithm: 'sha256',
      Salt: 'checkout',
    });
  });

  it('keeps a runbook revision hashing the bare id: no Salt becomes Salt null', () => {
    const runbook: Revision = { Name: 'x', Type: 'DATA', FormatVersion: 1, ControlValue: 'a', Treatments: [] };
    expect(toRevisionBody(draftOf(runbook, 'data'), 'data')).toEqual({ ControlValue: 'a', Treatments: [], Salt: null });
    expect(toRevisionBody(emptyDraft('data'), 'data')).toEqual({ ControlValue: '', Treatments: [] });
  });

  it('parses each value type, and sends text that is not of the type as it is for the API to refuse', () => {
    expect(parseValue({ kind: 'value', text: 'true' }, 'feature')).toBe(true);
    expect(parseValue({ kind: 'value', text: '2.5' }, 'number')).toBe(2.5);
    expect(parseValue({ kind: 'value', text: 'two' }, 'number')).toBe('two');
    expect(parseValue({ kind: 'value', text: '{"a":[1]}' }, 'json')).toEqual({ a: [1] });
    expect(parseValue({ kind: 'value', text: '{oops' }, 'json')).toBe('{oops');
    expect(parseValue({ kind: 'value', text: '42' }, 'data')).toBe('42');
    expect(parseValue({ kind: 'default', text: 'x' }, 'data')).toBeNull();
    const draft = emptyDraft('number');
    draft.treatments.push({ percent: 'forty', value: { kind: 'value', text: '1' }, overrides: 'a, b\nc' });
    expect(toRevisionBody(draft, 'number').Treatments).toEqual([
      { OverrideList: ['a', 'b', 'c'], PercentRollout: 'forty', Value: 1 },
    ]);
  });

  it('reads condition values: bare words as strings, numbers and booleans as JSON, quoted text as a string', () => {
    expect(parseConditionValues('US, CA')).toEqual(['US', 'CA']);
    expect(parseConditionValues('10, "10", true, 1.5e3')).toEqual([10, '10', true, 1500]);
    expect(parseConditionValues(' ,  ')).toEqual([]);
  });

  it('builds a segment body with its id lists and conditions', () => {
    expect(
      toSegmentBody({
        included: 'a b',
        excluded: '',
        conditions: [{ attribute: 'email', operator: 'ends_with', values: '@example.com' }],
        comment: ' why ',
      }),
    ).toEqual({
      Included: ['a', 'b'],
      Excluded: [],
      Conditions: [{ Attribute: 'email', Operator: 'ends_with', Values: ['@example.com'] }],
      Comment: 'why',
    });
  });
});

describe('errorOwner', () => {
  const draft = emptyDraft('feature');
  draft.treatments.push({ percent: '10', value: { kind: 'value', text: 'true' }, overrides: '' });
  draft.rules.push({
    conditions: [{ attribute: 'x', operator: 'in', values: '' }],
    mode: 'split',
    value: { kind: 'value', text: 'true' },
    split: [{ percent: '50', value: { kind: 'value', text: 'true' } }],
  });
  const fields = revisionFields(draft);

  it('puts the API error next to the input it names', () => {
    expect(errorOwner('Treatments[0].PercentRollout', fields)).toBe('Treatments[0].PercentRollout');
    expect(errorOwner('Rules[0].Split[0].Percent', fields)).toBe('Rules[0].Split[0].Percent');
  });

  it('puts an error about a part of an input next to the input that holds it', () => {
    expect(errorOwner('Rules[0].Conditions[0].Values[1]', fields)).toBe('Rules[0].Conditions[0].Values');
    expect(errorOwner('Treatments[0].OverrideList[3]', fields)).toBe('Treatments[0].OverrideList');
  });

  it('puts an error about a whole list next to the list, and one the form has no input for at its top', () => {
    expect(errorOwner('Rules[0].Split', fields)).toBe('Rules[0].Split');
    expect(errorOwner('Treatments', fields)).toBe('Treatments');
    expect(errorOwner('Salt', fields)).toBe('');
    expect(errorOwner(undefined, fields)).toBe('');
    expect(errorOwner('Treatments[7].Value', fields)).toBe('Treatments');
  });
});
