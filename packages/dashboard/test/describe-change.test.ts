import { describe, expect, it } from 'vitest';
import type { Ramp, Schedule } from '../src/api/types.js';
import { describePlan, describeProposal, describeRampState, describeSchedule } from '../src/words/describe-change.js';

const ref = { project: 'shop', flagType: 'feature' as const, name: 'dark_mode' };

const ramp = (over: Partial<Ramp>): Ramp => ({
  id: 'rmp_1',
  ref,
  steps: [1, 5, 25, 100],
  everyHours: 6,
  value: true,
  status: 'running',
  applied: [],
  createdBy: { owner: 'alice' },
  createdTime: '2030-01-01T00:00:00Z',
  ...over,
});

describe('changes in words', () => {
  it('says a ramp plan as its steps, value and interval', () => {
    expect(describePlan({ steps: [1, 5, 25, 100], everyHours: 6, value: true })).toBe(
      '1 % → 5 % → 25 % → 100 % of ids get true, one step every 6 h',
    );
    expect(describePlan({ everyHours: 0.5, value: false })).toBe(
      '1 % → 5 % → 25 % → 100 % of ids get false, one step every 30 min',
    );
  });

  it('says where a ramp is and why a paused one stopped', () => {
    const applied = [{ step: 0, percent: 1, wtime: 'w1', time: 't1' }];
    expect(describeRampState(ramp({ applied }))).toBe('running, at 1 %');
    expect(describeRampState(ramp({ status: 'paused', applied, detail: 'segment beta archived' }))).toBe(
      'paused, at 1 % (segment beta archived)',
    );
    expect(describeRampState(ramp({ status: 'aborted', applied }))).toMatch(/rolled back/);
  });

  it("says what a schedule sets: a revision's rules, or a ramp step's percentage", () => {
    const base: Schedule = {
      id: 'sch_1',
      ref,
      at: '2030-01-31T09:00:00+01:00',
      atMs: 0,
      status: 'pending',
      createdBy: { owner: 'alice' },
      createdTime: '2030-01-01T00:00:00Z',
    };
    expect(describeSchedule({ ...base, revision: { ControlValue: true } })).toBe('everyone: true');
    expect(describeSchedule({ ...base, rampStep: { ramp: 'rmp_1', step: 1, percent: 5, value: true } })).toBe(
      'ramp step 2: 5 % of ids get true',
    );
  });

  it('says what a proposal asks for, by its kind', () => {
    expect(describeProposal('dark_mode', { kind: 'revision', revision: { ControlValue: true } })).toBe(
      'a new revision: everyone: true',
    );
    expect(
      describeProposal('dark_mode', {
        kind: 'schedule',
        at: '2030-01-31T09:00:00Z',
        revision: { ControlValue: false },
      }),
    ).toBe('at 2030-01-31T09:00:00Z, a revision: everyone: false');
    expect(describeProposal('dark_mode', { kind: 'ramp', plan: { steps: [10, 100], everyHours: 2 } })).toBe(
      'a ramp: 10 % → 100 % of ids get true, one step every 2 h',
    );
  });
});
