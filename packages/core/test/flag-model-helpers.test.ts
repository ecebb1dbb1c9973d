import { describe, expect, it } from 'vitest';
import {
  compileFlag,
  expiryOf,
  isExpired,
  ofrepReason,
  type Revision,
  requiredFormatVersion,
  targetsNobody,
} from '../src/index.js';

const runbook: Revision = {
  Name: 'old_flag',
  Type: 'FEATURE',
  FormatVersion: 1,
  ControlValue: false,
  Treatments: [{ OverrideList: [], PercentRollout: 10, Value: true }],
};

describe('requiredFormatVersion', () => {
  it('is 1 for what the runbook format says', () => {
    expect(requiredFormatVersion(runbook)).toBe(1);
    expect(requiredFormatVersion({ ...runbook, Type: 'DATA', ControlValue: 'a', Salt: 's', Archived: true })).toBe(1);
  });

  it('is 2 for any field, type, null value or name of the flag model', () => {
    expect(requiredFormatVersion({ ...runbook, Variants: { on: true } })).toBe(2);
    expect(requiredFormatVersion({ ...runbook, Rules: [] })).toBe(2);
    expect(requiredFormatVersion({ ...runbook, Disabled: false })).toBe(2);
    expect(requiredFormatVersion({ ...runbook, Metadata: {} })).toBe(2);
    expect(requiredFormatVersion({ ...runbook, Type: 'NUMBER', ControlValue: 1 })).toBe(2);
    expect(requiredFormatVersion({ ...runbook, Type: 'JSON', ControlValue: {} })).toBe(2);
    expect(requiredFormatVersion({ Name: 'beta', Type: 'SEGMENT' })).toBe(2);
    expect(requiredFormatVersion({ ...runbook, ControlValue: null })).toBe(2);
    expect(
      requiredFormatVersion({ ...runbook, Treatments: [{ OverrideList: [], PercentRollout: 1, Value: null }] }),
    ).toBe(2);
    expect(requiredFormatVersion({ ...runbook, Name: 'boolean-flag' })).toBe(2);
    expect(requiredFormatVersion({ ...runbook, Name: 'checkout.v2' })).toBe(2);
  });
});

describe('expiry', () => {
  const expiring = { Metadata: { expires: '2026-12-07' } };

  it('is expired from the day after its expires date (UTC) on', () => {
    expect(isExpired(expiring, new Date('2026-12-07T23:59:59.999Z'))).toBe(false);
    expect(isExpired(expiring, new Date('2026-12-08T00:00:00Z'))).toBe(true);
    expect(isExpired(expiring, new Date('2027-03-01T12:00:00Z'))).toBe(true);
    expect(isExpired(expiring, new Date('2026-01-01T00:00:00Z'))).toBe(false);
  });

  it('never expires without a valid expires date', () => {
    const later = new Date('2100-01-01T00:00:00Z');
    expect(isExpired({}, later)).toBe(false);
    expect(isExpired({ Metadata: { owner: 'x' } }, later)).toBe(false);
    expect(isExpired({ Metadata: { expires: 'soon' } }, later)).toBe(false);
    expect(expiryOf({ Metadata: { expires: 20261207 } })).toBeUndefined();
    expect(expiryOf(expiring)).toBe('2026-12-07');
  });
});

describe('OFREP reasons of the flag model', () => {
  it('reads rule, split and disabled groups', () => {
    expect(ofrepReason('rule-2', false)).toBe('TARGETING_MATCH');
    expect(ofrepReason('rule-12-split-3', false)).toBe('SPLIT');
    expect(ofrepReason('disabled', true)).toBe('DISABLED');
  });

  it('counts rules as targeting: a revision with rules is not STATIC', () => {
    const withRule: Revision = {
      ...runbook,
      Treatments: [],
      Rules: [{ Conditions: [{ Attribute: 'a', Operator: 'equals', Values: ['x'] }], Value: true }],
    };
    expect(targetsNobody({ ...runbook, Treatments: [] })).toBe(true);
    expect(targetsNobody(withRule)).toBe(false);
    const flag = compileFlag({ flagType: 'feature', name: 'old_flag', revision: withRule });
    if (flag.state !== 'compiled') throw new Error(`expected compiled, got ${flag.state}`);
    expect(flag.targetsNobody).toBe(false);
    const control = flag.compiled.evaluateContext({ a: 'y' });
    expect(control.reason).toBe('DEFAULT');
    expect(ofrepReason(control.group, flag.targetsNobody)).toBe(control.reason);
  });
});
