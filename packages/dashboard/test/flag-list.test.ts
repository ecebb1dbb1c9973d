import { describe, expect, it } from 'vitest';
import type { FlagSummary } from '../src/api/types.js';
import { filterFlags, flagRows, NO_FILTER, ownersOf } from '../src/flag-list.js';

function flag(name: string, fields: Partial<FlagSummary> & { owner?: string } = {}): FlagSummary {
  const { owner, ...rest } = fields;
  return {
    flagType: 'feature',
    name,
    description: `about ${name}`,
    createdTime: '2026-01-01 00:00:00.000000',
    latestRevision: {
      wtime: '2026-01-02 00:00:00.000000',
      revision: {
        Name: name,
        Type: 'FEATURE',
        FormatVersion: 2,
        ControlValue: false,
        Treatments: [{ OverrideList: [], PercentRollout: 40, Value: true }],
        ...(rest.disabled === true ? { Disabled: true } : {}),
      },
    },
    revisionCount: 3,
    lastChange: { time: '2026-01-02 00:00:00.000000', kind: 'revision', owner: 'alice' },
    archived: false,
    disabled: false,
    metadata: owner === undefined ? {} : { owner },
    lastEvaluated: null,
    ...rest,
  };
}

const rows = flagRows(
  [
    flag('checkout', { owner: 'team-pay' }),
    flag('search', { owner: 'team-find', disabled: true, lastEvaluated: '2026-01-03 00:00:00.000000' }),
    flag('legacy', { archived: true }),
    { ...flag('ratio'), flagType: 'number' },
  ],
  [{ flagType: 'feature', name: 'checkout', reasons: ['not evaluated for 30 days'] }],
);
const names = (filter: Partial<typeof NO_FILTER>) => filterFlags(rows, { ...NO_FILTER, ...filter }).map((r) => r.name);

describe('the flags page list', () => {
  it('shows each flag with its rules in words, owner, last change and stale reasons', () => {
    expect(rows[0]).toMatchObject({
      name: 'checkout',
      rules: '40 % → true, otherwise false',
      owner: 'team-pay',
      changedBy: 'alice',
      lastChange: '2026-01-02 00:00:00.000000',
      lastEvaluation: null,
      revisionCount: 3,
      stale: ['not evaluated for 30 days'],
    });
  });

  it('hides archived flags unless asked, and filters by type, owner, stale and disabled', () => {
    expect(names({})).toEqual(['checkout', 'search', 'ratio']);
    expect(names({ showArchived: true })).toEqual(['checkout', 'search', 'legacy', 'ratio']);
    expect(names({ type: 'number' })).toEqual(['ratio']);
    expect(names({ owner: 'team-find' })).toEqual(['search']);
    expect(names({ staleOnly: true })).toEqual(['checkout']);
    expect(names({ disabledOnly: true })).toEqual(['search']);
  });

  it('searches names, descriptions, rules and owners, every word', () => {
    expect(names({ search: 'CHECK' })).toEqual(['checkout']);
    expect(names({ search: 'about team-find' })).toEqual(['search']);
    expect(names({ search: 'kill switch' })).toEqual(['search']);
    expect(names({ search: 'nothing-like-this' })).toEqual([]);
  });

  it('offers the owners that flags name', () => {
    expect(ownersOf(rows)).toEqual(['team-find', 'team-pay']);
  });
});
