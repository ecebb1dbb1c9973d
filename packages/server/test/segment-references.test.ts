import { InvalidInputError } from '@vexil/core';
import { MemoryStore } from '@vexil/store';
import { describe, expect, it } from 'vitest';
import { diagnoseProject } from '../src/doctor.js';
import { FlagAdmin } from '../src/flag-admin.js';

const project = 'shop';
const flag = { project, flagType: 'feature', name: 'new-checkout' } as const;
const segment = { project, flagType: 'segment', name: 'staff' } as const;
const namingStaff = {
  ControlValue: false,
  Rules: [{ Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['staff'] }], Value: true }],
};

/** A project whose segment `staff` is valid and named by the rule of `new-checkout`. */
async function shop(): Promise<{ store: MemoryStore; admin: FlagAdmin }> {
  const store = new MemoryStore();
  const admin = new FlagAdmin(store);
  await admin.addSegment(segment, { Included: ['u1'] });
  await admin.addFlag(flag);
  await admin.addRevision(flag, namingStaff);
  return { store, admin };
}

/** Writes a segment revision core does not accept (a segment may not name segments), as another writer could. */
async function breakStaff(store: MemoryStore): Promise<void> {
  await store.append([
    {
      kind: 'REVISION',
      ref: segment,
      fields: {
        Name: 'staff',
        Type: 'SEGMENT',
        FormatVersion: 2,
        Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['other'] }],
      },
    },
  ]);
}

describe('segments that rules cannot use', () => {
  it('a segment whose newest revision does not validate: a new rule naming it is refused, naming the field', async () => {
    const { store, admin } = await shop();
    await breakStaff(store);
    const before = await store.scanProject(project);
    const error = await admin.addRevision(flag, namingStaff).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toBe(
      'Rules[0].Conditions[0].Values[0] names segment "staff", whose newest revision in project shop does not validate (rules treat it as unknown)',
    );
    expect((error as InvalidInputError).field).toBe('Rules[0].Conditions[0].Values[0]');
    expect(await store.scanProject(project)).toEqual(before);
  });

  it('vexil doctor reports rules naming an invalid segment and a segment the project does not have', async () => {
    const { store } = await shop();
    await breakStaff(store);
    await store.append([
      { kind: 'FLAG', ref: { ...flag, name: 'banner' }, fields: { Name: 'banner', Type: 'FEATURE' } },
      {
        kind: 'REVISION',
        ref: { ...flag, name: 'banner' },
        fields: {
          Name: 'banner',
          Type: 'FEATURE',
          FormatVersion: 2,
          ControlValue: false,
          Treatments: [],
          Rules: [
            {
              Conditions: [{ Attribute: 'targetingKey', Operator: 'not_in_segment', Values: ['ghosts'] }],
              Value: true,
            },
          ],
        },
      },
    ]);
    const report = await diagnoseProject(store, project);
    expect(report.problems.map((problem) => `${problem.flagType}/${problem.name}`)).toEqual(['segment/staff']);
    expect(
      report.segmentReferences?.map(({ name, segment: named, state, message }) => ({ name, named, state, message })),
    ).toEqual([
      {
        name: 'banner',
        named: 'ghosts',
        state: 'unknown',
        message:
          'Rules[0].Conditions[0].Values[0] names segment ghosts, which project shop does not have: the condition never holds',
      },
      {
        name: 'new-checkout',
        named: 'staff',
        state: 'invalid',
        message:
          'Rules[0].Conditions[0].Values[0] names segment staff, whose newest revision does not validate: rules treat it as unknown, so the condition never holds',
      },
    ]);
  });

  it('is fixed by an update replacing the broken part (one keeping it is refused); then rules may name it again', async () => {
    const { store, admin } = await shop();
    await breakStaff(store);
    await expect(admin.updateSegment(segment, { Included: ['u3'] })).rejects.toThrow(
      'Conditions[0].Operator "in_segment" cannot be used in a segment',
    );
    await admin.updateSegment(segment, { Conditions: null, Included: ['u1', 'u2'] });
    await admin.addRevision(flag, namingStaff);
    const report = await diagnoseProject(store, project);
    expect(report.segmentReferences).toBeUndefined();
    expect((await admin.getSegment(segment)).latestRevision?.revision).toMatchObject({ Included: ['u1', 'u2'] });
    expect((await admin.getSegment(segment)).latestRevision?.revision).not.toHaveProperty('Conditions');
  });
});
