import { describe, expect, it } from 'vitest';
import { compileFlag, ofrepReason, type Revision, targetsNobody } from '../src/index.js';

function revision(treatments: Revision['Treatments']): Revision {
  return {
    Name: 'model',
    Type: 'DATA',
    FormatVersion: 1,
    ControlValue: 'small',
    Treatments: treatments,
    Salt: 'model',
  };
}

/** The reason of evaluating `id` against the revision, as the service and the SDK give it. */
function reasonFor(rev: Revision, id: string): string {
  const flag = compileFlag({ flagType: 'data', name: 'model', revision: rev });
  if (flag.state !== 'compiled') throw new Error(`expected a compiled flag, got ${flag.state}`);
  return ofrepReason(flag.compiled.evaluate(id).group, flag.targetsNobody);
}

describe('ofrepReason', () => {
  const targeted = revision([
    { OverrideList: ['vip'], PercentRollout: 0, Value: 'large' },
    { OverrideList: [], PercentRollout: 100, Value: 'medium' },
  ]);

  it('is TARGETING_MATCH for an override list match (numbered groups too)', () => {
    expect(reasonFor(targeted, 'vip')).toBe('TARGETING_MATCH');
    expect(ofrepReason('override', false)).toBe('TARGETING_MATCH');
  });

  it('is SPLIT for a percentage rollout', () => {
    expect(reasonFor(targeted, 'someone')).toBe('SPLIT');
    expect(ofrepReason('treatment', false)).toBe('SPLIT');
  });

  it('is DEFAULT for the control value of a revision that targets somebody', () => {
    const half = revision([{ OverrideList: [], PercentRollout: 0.01, Value: 'large' }]);
    const ids = Array.from({ length: 50 }, (_, i) => `user-${i}`);
    expect(ids.map((id) => reasonFor(half, id))).toContain('DEFAULT');
  });

  it('is STATIC when no treatment can give anybody its value', () => {
    const nobody = revision([{ OverrideList: [], PercentRollout: 0, Value: 'large' }]);
    expect(targetsNobody(nobody)).toBe(true);
    expect(reasonFor(nobody, 'anyone')).toBe('STATIC');
    expect(reasonFor(revision([]), 'anyone')).toBe('STATIC');
  });
});
