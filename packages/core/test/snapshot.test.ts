import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildProjectSnapshot,
  InvalidInputError,
  type ProjectSnapshotFlag,
  parseFlagUpdate,
  parseProjectSnapshot,
  snapshotETag,
  snapshotFlagOf,
  snapshotVersion,
  sortSnapshotFlags,
} from '../src/index.js';

const revision = { Name: 'x', Type: 'FEATURE', FormatVersion: 1, ControlValue: false, Treatments: [] };

function flag(flagType: 'feature' | 'data', name: string, wtime = '2026-11-21 08:46:35.248000'): ProjectSnapshotFlag {
  return { name, flagType, wtime, revision };
}

/** The version as the service first computed it (node:crypto, streamed): the reference it must keep matching. */
function referenceVersion(flags: readonly ProjectSnapshotFlag[]): string {
  const hash = createHash('sha256');
  for (const f of flags) hash.update(`${f.flagType}\n${f.name}\n${f.wtime}\n`);
  return hash.digest('hex').slice(0, 32);
}

/** The error `fn` throws, checked to be an InvalidInputError. */
function parseError(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected the parse to fail');
}

describe('snapshotVersion', () => {
  it('is stable: the same 32 hex digits for the same flags, today and in every release', () => {
    const flags = [flag('data', 'llm_provider'), flag('feature', 'new_checkout', '2026-11-21 09:00:00.000000')];
    expect(snapshotVersion(flags)).toBe('cbcd7d88f3f96d555750ba4af48722e8');
    expect(snapshotVersion(flags)).toBe(referenceVersion(flags));
    expect(snapshotVersion([])).toBe('e3b0c44298fc1c149afbf4c8996fb924');
  });

  it('changes when a revision time, a name or a type changes', () => {
    const base = snapshotVersion([flag('feature', 'a')]);
    expect(snapshotVersion([flag('feature', 'a', '2026-11-21 08:46:35.248001')])).not.toBe(base);
    expect(snapshotVersion([flag('feature', 'b')])).not.toBe(base);
    expect(snapshotVersion([flag('data', 'a')])).not.toBe(base);
  });

  it('hashes non-ASCII names as UTF-8, as the service did', () => {
    const flags = [{ flagType: 'feature', name: 'café_ünïcode', wtime: '2026-01-01 00:00:00.000000' }];
    expect(snapshotVersion(flags)).toBe(referenceVersion(flags as ProjectSnapshotFlag[]));
  });
});

describe('buildProjectSnapshot', () => {
  it('orders flags by type, then name, so the version does not depend on the order they were read in', () => {
    const flags = [flag('feature', 'b'), flag('data', 'z'), flag('feature', 'a'), flag('data', 'c')];
    const one = buildProjectSnapshot('shop', flags);
    const other = buildProjectSnapshot('shop', [...flags].reverse());
    expect(one.flags.map((f) => `${f.flagType}:${f.name}`)).toEqual(['data:c', 'data:z', 'feature:a', 'feature:b']);
    expect(other.version).toBe(one.version);
    expect(one.version).toBe(snapshotVersion(sortSnapshotFlags(flags)));
    expect(one.project).toBe('shop');
  });
});

describe('snapshotETag', () => {
  it('quotes the version as a strong entity tag', () => {
    expect(snapshotETag('abc123')).toBe('"abc123"');
  });
});

describe('parseProjectSnapshot', () => {
  it('accepts what the service answers, keeping each revision as it is', () => {
    const value = JSON.parse(JSON.stringify(buildProjectSnapshot('shop', [flag('feature', 'a'), flag('data', 'b')])));
    const snapshot = parseProjectSnapshot(value);
    expect(snapshot).toEqual(value);
    expect(snapshot.flags[0]?.revision).toBe(value.flags[0].revision);
  });

  it.each([
    ['not an object', [], 'snapshot', /must be a JSON object \{project, version, flags\}/],
    ['no project', { version: 'v', flags: [] }, 'project', /no "project"/],
    ['a version that is not a string', { project: 'p', version: 3, flags: [] }, 'version', /no "version"/],
    ['no flags list', { project: 'p', version: 'v', flags: {} }, 'flags', /no "flags" list/],
    ['a flag that is not an object', { project: 'p', version: 'v', flags: [null] }, 'flags[0]', /flags\[0\] must be/],
    [
      'a flag without a name',
      { project: 'p', version: 'v', flags: [{ flagType: 'data', wtime: 't', revision: {} }] },
      'flags[0].name',
      /flags\[0\]\.name must be a flag name/,
    ],
    [
      'an unknown flag type',
      {
        project: 'p',
        version: 'v',
        flags: [flag('feature', 'a'), { name: 'b', flagType: 'DATA', wtime: 't', revision: {} }],
      },
      'flags[1].flagType',
      /flags\[1\]\.flagType must be "feature" or "data", got "DATA"/,
    ],
    [
      'a revision time that is not a string',
      { project: 'p', version: 'v', flags: [{ name: 'a', flagType: 'data', wtime: 1, revision: {} }] },
      'flags[0].wtime',
      /flags\[0\]\.wtime must be a revision time/,
    ],
    [
      'a revision that is not an object',
      { project: 'p', version: 'v', flags: [{ name: 'a', flagType: 'data', wtime: 't', revision: [] }] },
      'flags[0].revision',
      /flags\[0\]\.revision must be an object/,
    ],
  ])('refuses %s, naming the part at fault', (_what, value, field, message) => {
    const error = parseError(() => parseProjectSnapshot(value));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });
});

describe('parseFlagUpdate', () => {
  it('accepts a change event with its project and version', () => {
    const update = { ...flag('feature', 'a'), project: 'shop', version: 'v2' };
    expect(parseFlagUpdate(update)).toEqual(update);
  });

  it('refuses a change without a version, and one whose flag is malformed, naming the part', () => {
    const noVersion = parseError(() => parseFlagUpdate({ ...flag('feature', 'a'), project: 'shop' }));
    expect(noVersion.field).toBe('version');
    expect(noVersion.message).toMatch(/no "project" or "version"/);
    const badType = parseError(() =>
      parseFlagUpdate({ ...flag('feature', 'a'), flagType: 'x', project: 'shop', version: 'v' }),
    );
    expect(badType.field).toBe('the change.flagType');
  });
});

describe('snapshotFlagOf', () => {
  it('keeps only the flag fields of a change event', () => {
    const update = { ...flag('data', 'a'), project: 'shop', version: 'v2' };
    expect(snapshotFlagOf(update)).toEqual(flag('data', 'a'));
  });
});
