import { compileRevision, digestWords } from '@vexil/core';
import { describe, expect, it } from 'vitest';
import { HashCache } from '../src/hash-cache.js';

const revision = (salt: string) =>
  compileRevision({
    Name: salt,
    Type: 'FEATURE',
    FormatVersion: 1,
    ControlValue: false,
    Salt: salt,
    Treatments: [{ OverrideList: [], PercentRollout: 40, Value: true }],
  });

const DAY = 86_400_000;

function cache(maxEntries: number, ttlMs = DAY) {
  const clock = { now: 0 };
  const lookups: boolean[] = [];
  const hashes = new HashCache({ maxEntries, ttlMs, now: () => clock.now, onLookup: (hit) => lookups.push(hit) });
  return { hashes, clock, lookups };
}

describe('HashCache', () => {
  it('returns the same words as the revision computes, per salt, and answers a repeated id from the cache', () => {
    const { hashes, lookups } = cache(100);
    const a = hashes.digestFor(revision('flag_a'));
    const b = hashes.digestFor(revision('flag_b'));
    expect(Array.from(a('A1'))).toEqual(Array.from(digestWords('md5', 'flag_a:A1')));
    expect(Array.from(b('A1'))).toEqual(Array.from(digestWords('md5', 'flag_b:A1')));
    // A new compiled revision of the same flag (same salt) shares the cached digests.
    const a2 = hashes.digestFor(revision('flag_a'));
    expect(Array.from(a2('A1'))).toEqual(Array.from(digestWords('md5', 'flag_a:A1')));
    expect(lookups).toEqual([false, false, true]);
  });

  it('keeps its own copy of each digest, not the revision buffer the next id overwrites', () => {
    const { hashes } = cache(100);
    const digest = hashes.digestFor(revision('flag_a'));
    const first = digest('A1');
    digest('A2');
    expect(Array.from(first)).toEqual(Array.from(digestWords('md5', 'flag_a:A1')));
  });

  it('holds at most maxEntries digests however many ids pass, and the most recent ones hit', () => {
    const { hashes, lookups } = cache(1000);
    const digest = hashes.digestFor(revision('flag_a'));
    for (let i = 0; i < 10_000; i++) {
      digest(`user-${i}`);
      expect(hashes.size).toBeLessThanOrEqual(1000);
    }
    lookups.length = 0;
    for (let i = 9_600; i < 10_000; i++) digest(`user-${i}`);
    expect(lookups.every(Boolean)).toBe(true);
    digest('user-0');
    expect(lookups.at(-1)).toBe(false);
  });

  it('serves no digest longer than the TTL after it was computed', () => {
    const { hashes, clock, lookups } = cache(1000, 2 * DAY);
    const digest = hashes.digestFor(revision('flag_a'));
    digest('early');
    clock.now = DAY - 1;
    digest('early');
    digest('late');
    clock.now = 2 * DAY - 1;
    digest('early');
    clock.now = 2 * DAY;
    digest('early');
    digest('late');
    // early: computed at 0, hit at 1 day and just before 2 days, computed again at 2 days.
    // late, computed just before 1 day, went with early's generation: a digest may be
    // dropped before its TTL, never served after it.
    expect(lookups).toEqual([false, true, false, true, false, false]);
    clock.now = 10 * DAY;
    digest('late');
    expect(lookups.at(-1)).toBe(false);
  });
});
