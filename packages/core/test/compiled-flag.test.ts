import { describe, expect, it } from 'vitest';
import {
  compileFlag,
  EmptyFlagDataException,
  InvalidRolloutPercentageException,
  invalidRevisionMessage,
  type Revision,
  ValidationError,
} from '../src/index.js';

function revision(overrides: Partial<Revision> = {}): Revision {
  return {
    Name: 'new_checkout',
    Type: 'FEATURE',
    FormatVersion: 1,
    ControlValue: false,
    Treatments: [{ OverrideList: ['A1'], PercentRollout: 40, Value: true }],
    Salt: 'new_checkout',
    ...overrides,
  };
}

const WTIME = '2026-11-21 08:46:35.248000';

describe('compileFlag', () => {
  it('compiles a valid revision, ready to evaluate', () => {
    const flag = compileFlag({ flagType: 'feature', name: 'new_checkout', revision: revision() });
    expect(flag.state).toBe('compiled');
    if (flag.state !== 'compiled') return;
    expect(flag.compiled.evaluate('A1')).toEqual({ value: true, group: 'override' });
    expect(flag.targetsNobody).toBe(false);
  });

  it('says when a revision targets nobody (no percentage, no override list)', () => {
    const flag = compileFlag({
      flagType: 'feature',
      name: 'new_checkout',
      revision: revision({ Treatments: [{ OverrideList: [], PercentRollout: 0, Value: true }] }),
    });
    expect(flag).toMatchObject({ state: 'compiled', targetsNobody: true });
  });

  it('keeps an archived revision apart: evaluating it throws EmptyFlagDataException', () => {
    const flag = compileFlag({ flagType: 'feature', name: 'new_checkout', revision: revision({ Archived: true }) });
    expect(flag.state).toBe('archived');
    if (flag.state !== 'archived') return;
    expect(() => flag.compiled.evaluate('A1')).toThrow(EmptyFlagDataException);
  });

  it('gives a revision that does not validate as stored data its error, with the field at fault', () => {
    const flag = compileFlag({ flagType: 'feature', name: 'new_checkout', revision: revision({ ControlValue: 'no' }) });
    expect(flag.state).toBe('invalid');
    if (flag.state !== 'invalid') return;
    expect(flag.error).toBeInstanceOf(ValidationError);
    expect(flag.error.field).toBe('ControlValue');
  });

  it("keeps the runbook system's own errors for a bad percentage", () => {
    const flag = compileFlag({
      flagType: 'feature',
      name: 'new_checkout',
      revision: revision({ Treatments: [{ OverrideList: [], PercentRollout: 140, Value: true }] }),
    });
    expect(flag.state === 'invalid' && flag.error).toBeInstanceOf(InvalidRolloutPercentageException);
  });

  it('checks the revision against the flag it belongs to (name and type)', () => {
    const otherName = compileFlag({ flagType: 'feature', name: 'old_checkout', revision: revision() });
    expect(otherName.state === 'invalid' && otherName.error.field).toBe('Name');
    const otherType = compileFlag({ flagType: 'data', name: 'new_checkout', revision: revision() });
    expect(otherType.state).toBe('invalid');
  });

  it('lets errors that are not validation errors through', () => {
    const hostile = Object.defineProperty(revision(), 'ControlValue', {
      enumerable: true,
      get() {
        throw new RangeError('boom');
      },
    });
    expect(() => compileFlag({ flagType: 'feature', name: 'new_checkout', revision: hostile })).toThrow(RangeError);
  });
});

describe('invalidRevisionMessage', () => {
  it('names the flag, the revision time and the field at fault', () => {
    const flag = compileFlag({ flagType: 'feature', name: 'new_checkout', revision: revision({ ControlValue: 'no' }) });
    if (flag.state !== 'invalid') throw new Error('expected an invalid flag');
    expect(invalidRevisionMessage({ flagType: 'feature', name: 'new_checkout', wtime: WTIME }, flag.error)).toBe(
      `the newest revision of feature flag new_checkout (${WTIME}) does not validate at ControlValue: ${flag.error.message}`,
    );
    expect(invalidRevisionMessage({ flagType: 'data', name: 'x', wtime: WTIME }, new Error('odd'))).toBe(
      `the newest revision of data flag x (${WTIME}) does not validate: odd`,
    );
  });
});
