import { evaluateRevision, type Revision } from '@vexil/core';
import { describe, expect, it } from 'vitest';
import { FeatureFlags, FlagConfigError, flagsFromSnapshot, type SnapshotFlag } from '../src/index.js';

function revision(name: string, percent: number, overrides: string[] = [], extra: Partial<Revision> = {}): Revision {
  return {
    Name: name,
    Type: 'FEATURE',
    FormatVersion: 1,
    ControlValue: false,
    Treatments: [{ OverrideList: overrides, PercentRollout: percent, Value: true }],
    Salt: name,
    ...extra,
  };
}

const SNAPSHOT: SnapshotFlag[] = [
  { name: 'new_ui', flagType: 'feature', revision: revision('new_ui', 40, ['qa-1']) },
  { name: 'everyone', flagType: 'feature', revision: revision('everyone', 100) },
  { name: 'llm_provider', flagType: 'data', revision: { ...revision('llm_provider', 50), Type: 'DATA' } },
  { name: 'no_revision_yet', flagType: 'feature', revision: null },
  { name: 'retired', flagType: 'feature', revision: revision('retired', 100, [], { Archived: true }) },
];

describe('FeatureFlags fed by a Vexil project snapshot', () => {
  const flags = flagsFromSnapshot(SNAPSHOT);

  it('evaluates the revision with the session id as the instance id, call sites unchanged', () => {
    const newUi = SNAPSHOT[0]?.revision as Revision;
    let on = 0;
    for (let i = 0; i < 1000; i++) {
      const sid = `user-${i}`;
      const decision = new FeatureFlags(flags, { sessionId: sid }).isEnabled('new_ui');
      expect(decision).toBe(evaluateRevision(newUi, sid).value);
      if (decision) on++;
    }
    expect(on).toBeGreaterThan(330);
    expect(on).toBeLessThan(470);
    expect(new FeatureFlags(flags, { sessionId: 'qa-1' }).isEnabled('new_ui')).toBe(true); // override list
    expect(new FeatureFlags(flags, { sessionId: 'anyone' }).isEnabled('everyone')).toBe(true);
  });

  it('uses a bucketFor string as the instance id, and bytes as hex', () => {
    const newUi = SNAPSHOT[0]?.revision as Revision;
    const ff = new FeatureFlags(flags, { sessionId: 'ignored' });
    expect(ff.isEnabled('new_ui', 'qa-1')).toBe(true);
    const bytes = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
    expect(new FeatureFlags(flags).isEnabled('new_ui', bytes)).toBe(evaluateRevision(newUi, 'deadbeef').value);
  });

  it('leaves out data flags, flags without a revision and archived flags: checking them is false', () => {
    expect(Object.keys(flags)).toEqual(['new_ui', 'everyone']);
    const ff = new FeatureFlags(flags, { sessionId: 'x' });
    expect(ff.isEnabled('llm_provider')).toBe(false);
    expect(ff.isEnabled('no_revision_yet')).toBe(false);
    expect(ff.isEnabled('retired')).toBe(false);
  });

  it('is false with one error when there is no session id, as for a Merino session flag', () => {
    const errors: string[] = [];
    const ff = new FeatureFlags(flags, { logger: { error: (m) => errors.push(m) } });
    expect(ff.isEnabled('everyone')).toBe(false);
    expect(errors).toHaveLength(1);
  });

  it('refuses a revision that does not validate, naming the flag and the field', () => {
    const bad: SnapshotFlag[] = [{ name: 'broken', flagType: 'feature', revision: revision('broken', 140) }];
    let error: unknown;
    try {
      flagsFromSnapshot(bad);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FlagConfigError);
    expect((error as FlagConfigError).message).toMatch(/^Vexil snapshot: flag "broken", field "revision\./);
    expect((error as FlagConfigError).flag).toBe('broken');
  });

  it('takes a whole snapshot as the service answers it: { project, version, flags }', () => {
    const answered = JSON.parse(
      JSON.stringify({
        project: 'shop',
        version: 'v1',
        flags: SNAPSHOT.map((flag) => ({ ...flag, wtime: '2026-11-21 09:15:28.248896' })),
      }),
    );
    expect(Object.keys(flagsFromSnapshot(answered))).toEqual(['new_ui', 'everyone']);
  });

  it('mixes with Merino-style flags in one object', () => {
    const mixed = { ...flags, hello_world: { enabled: 1, scheme: 'random' as const } };
    const ff = new FeatureFlags(mixed, { sessionId: 'qa-1' });
    expect(ff.isEnabled('hello_world')).toBe(true);
    expect(ff.isEnabled('new_ui')).toBe(true);
  });
});
