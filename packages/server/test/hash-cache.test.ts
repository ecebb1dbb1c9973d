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
    const { hashes, lookups } = cache(100);
    const digest = hashes.digestFor(revision('flag_a'));
    digest('A1');
    digest('A2');
    expect(Array.from(digest('A1'))).toEqual(Array.from(digestWords('md5', 'flag_a:A1')));
    expect(lookups).toEqual([false, false, true]);
  });

  it('holds at most maxEntries digests however many ids pass, and answers recent ids from the cache', () => {
    const { hashes, lookups } = cache(1000);
    const digest = hashes.digestFor(revision('flag_a'));
    const other = hashes.digestFor(revision('flag_b'));
    for (let i = 0; i < 10_000; i++) {
      digest(`user-${i}`);
      other(`user-${i}`);
      expect(hashes.size).toBeLessThanOrEqual(1000);
    }
    expect(hashes.size).toBeGreaterThan(900);
    lookups.length = 0;
    for (let i = 9_900; i < 10_000; i++) digest(`user-${i}`);
    // Two ways per id: a recent id is lost only when two later ones took both of its slots.
    expect(lookups.filter(Boolean).length).toBeGreaterThan(80);
    lookups.length = 0;
    for (let i = 0; i < 100; i++) digest(`user-${i}`);
    expect(lookups.filter(Boolean).length).toBeLessThan(10);
    // Whatever was evicted or kept, every answer is the right digest.
    for (const id of ['user-5', 'user-9999', 'user-123']) {
      expect(Array.from(digest(id))).toEqual(Array.from(digestWords('md5', `flag_a:${id}`)));
      expect(Array.from(other(id))).toEqual(Array.from(digestWords('md5', `flag_b:${id}`)));
    }
  });

  it('serves no digest past the TTL after it was computed, then computes it again', () => {
    const { hashes, clock, lookups } = cache(1000, 2 * DAY);
    const digest = hashes.digestFor(revision('flag_a'));
    digest('early');
    clock.now = DAY;
    digest('late');
    clock.now = 2 * DAY - 1;
    digest('early');
    digest('late');
    clock.now = 2 * DAY;
    digest('early');
    digest('late');
    clock.now = 3 * DAY;
    digest('late');
    expect(lookups).toEqual([false, false, true, true, false, true, false]);
    expect(Array.from(digest('early'))).toEqual(Array.from(digestWords('md5', 'flag_a:early')));
  });

  it('tells ids apart by every code unit, caches ids up to 48 code units and hashes longer ones every time', () => {
    const { hashes, lookups } = cache(1000);
    const digest = hashes.digestFor(revision('flag_a'));
    const ids = ['Grüße 🚩', 'Grüße 🚩!', 'lone-\ud800', 'A1', 'A2', 'x'.repeat(48), 'x'.repeat(47)];
    for (const id of [...ids, ...ids]) {
      expect(Array.from(digest(id))).toEqual(Array.from(digestWords('md5', `flag_a:${id}`)));
    }
    expect(lookups).toEqual([...ids.map(() => false), ...ids.map(() => true)]);
    lookups.length = 0;
    const long = 'y'.repeat(49);
    digest(long);
    expect(Array.from(digest(long))).toEqual(Array.from(digestWords('md5', `flag_a:${long}`)));
    expect(lookups).toEqual([false, false]);
  });

  it('uses the digest length of each algorithm', () => {
    const { hashes } = cache(100);
    const sha = compileRevision({
      Name: 'x',
      Type: 'FEATURE',
      FormatVersion: 1,
      ControlValue: false,
      HashAlgorithm: 'sha256',
      Treatments: [{ OverrideList: [], PercentRollout: 40, Value: true }],
    });
    const digest = hashes.digestFor(sha);
    digest('A1');
    const cached = digest('A1');
    expect(Array.from(cached)).toEqual(Array.from(digestWords('sha256', 'A1')));
    expect(Array.from(hashes.digestFor(revision('flag_a'))('A1'))).toEqual(Array.from(digestWords('md5', 'flag_a:A1')));
  });
});
