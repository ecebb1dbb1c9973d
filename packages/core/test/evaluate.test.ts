import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  compileRevision,
  digestWords,
  EmptyFlagDataException,
  evaluateRevision,
  InvalidHashAlgorithmException,
  InvalidRolloutPercentageException,
  inRollout,
  type Revision,
  ValidationError,
} from '../src/index.js';
import { belowThreshold } from '../src/rollout.js';

function revision(overrides: Partial<Revision> = {}): Revision {
  return {
    Name: 'multi_step_api_router',
    Type: 'FEATURE',
    FormatVersion: 1,
    ControlValue: false,
    Treatments: [{ OverrideList: ['A12345'], PercentRollout: 40, Value: true }],
    ...overrides,
  };
}

/** The runbook system's rule written the slow, obvious way, as a reference. */
function referenceBucket(algorithm: string, key: string): bigint {
  return BigInt(`0x${createHash(algorithm).update(key, 'utf8').digest('hex')}`);
}

const ids = Array.from({ length: 5000 }, (_, i) => `user-${i * 7919}`);

describe('evaluateRevision', () => {
  it('gives an id in the override list the override value even at 0 %', () => {
    const result = evaluateRevision(
      revision({ Treatments: [{ OverrideList: ['A1'], PercentRollout: 0, Value: true }] }),
      'A1',
    );
    expect(result).toEqual({ value: true, group: 'override' });
  });

  it('uses the first treatment listing an id when several do, numbering groups', () => {
    const rev = revision({
      Type: 'DATA',
      ControlValue: 'openai',
      Treatments: [
        { OverrideList: ['x'], PercentRollout: 10, Value: 'a' },
        { OverrideList: ['x', 'y'], PercentRollout: 10, Value: 'b' },
      ],
    });
    expect(evaluateRevision(rev, 'x')).toEqual({ value: 'a', group: 'override-1' });
    expect(evaluateRevision(rev, 'y')).toEqual({ value: 'b', group: 'override-2' });
  });

  it('gives nobody a 0 % treatment and everybody a 100 % treatment', () => {
    const none = revision({ Treatments: [{ OverrideList: [], PercentRollout: 0, Value: true }] });
    const all = revision({ Treatments: [{ OverrideList: [], PercentRollout: 100, Value: true }] });
    for (const id of ids) {
      expect(evaluateRevision(none, id)).toEqual({ value: false, group: 'control' });
      expect(evaluateRevision(all, id)).toEqual({ value: true, group: 'treatment' });
    }
  });

  it('keeps everyone who was in when a rollout grows from 40 % to 60 %', () => {
    const at40 = revision({ Salt: 'f' });
    const at60 = revision({ Salt: 'f', Treatments: [{ OverrideList: [], PercentRollout: 60, Value: true }] });
    const in40 = ids.filter((id) => evaluateRevision(at40, id).value === true && id !== 'A12345');
    expect(in40.length).toBeGreaterThan(1800);
    expect(in40.length).toBeLessThan(2200);
    for (const id of in40) expect(evaluateRevision(at60, id).value).toBe(true);
  });

  it('matches the obvious BigInt rule for md5 (default), sha1 and sha256 with and without salt', () => {
    for (const algorithm of ['md5', 'sha1', 'sha256'] as const) {
      const bits = { md5: 128n, sha1: 160n, sha256: 256n }[algorithm];
      for (const salt of [undefined, 'my_flag']) {
        const rev = revision({
          HashAlgorithm: algorithm,
          ...(salt === undefined ? {} : { Salt: salt }),
          Treatments: [
            { OverrideList: [], PercentRollout: 12.34, Value: true },
            { OverrideList: [], PercentRollout: 0.01, Value: true },
            { OverrideList: [], PercentRollout: 30, Value: true },
          ],
        });
        for (const id of ids.slice(0, 1500)) {
          const h = referenceBucket(algorithm, salt === undefined ? id : `${salt}:${id}`);
          const bounds = [1234n, 1235n, 4235n];
          const index = bounds.findIndex((cum) => h * 10000n < cum << bits);
          const expected = index === -1 ? 'control' : `treatment-${index + 1}`;
          expect(evaluateRevision(rev, id).group).toBe(expected);
        }
      }
    }
  });

  it('hashes ids of every length and script exactly, whatever the salt, one after another on one revision', () => {
    // Short and long ids (the key buffer grows past 64 code units; past 4096 another path
    // takes over), non-ASCII, astral and lone-surrogate ids, in an order that shrinks and
    // grows them, so no byte of one id is left over into the next.
    const long = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const samples = [
      'A1',
      long(63),
      'é',
      long(64),
      long(65),
      'x',
      long(1000),
      '顧客-42',
      '😀-user',
      'lone-\ud800-surrogate',
      long(5000),
      'A2',
      long(70),
      'b',
    ];
    for (const algorithm of ['md5', 'sha1', 'sha256'] as const) {
      const bits = { md5: 128n, sha1: 160n, sha256: 256n }[algorithm];
      for (const salt of [undefined, 'flag', 'drapeau_é']) {
        const rev = revision({
          HashAlgorithm: algorithm,
          ...(salt === undefined ? {} : { Salt: salt }),
          Treatments: [{ OverrideList: [], PercentRollout: 50, Value: true }],
        });
        for (const id of [...samples, ...samples.slice().reverse()]) {
          const h = referenceBucket(algorithm, salt === undefined ? id : `${salt}:${id}`);
          expect(evaluateRevision(rev, id).value).toBe(h * 10000n < 5000n << bits);
        }
      }
    }
  });

  it('hashes Salt + ":" + instance id when Salt is set, so two flags pick different users', () => {
    const a = revision({ Salt: 'flag_a', Treatments: [{ OverrideList: [], PercentRollout: 10, Value: true }] });
    const b = revision({ Salt: 'flag_b', Treatments: [{ OverrideList: [], PercentRollout: 10, Value: true }] });
    const inA = ids.filter((id) => evaluateRevision(a, id).value);
    const inB = new Set(ids.filter((id) => evaluateRevision(b, id).value));
    const both = inA.filter((id) => inB.has(id));
    expect(both.length).toBeLessThan(inA.length / 3);
  });

  it('answers an archived revision with EmptyFlagDataException', () => {
    expect(() => evaluateRevision(revision({ Archived: true }), 'A1')).toThrow(EmptyFlagDataException);
  });

  it('refuses a stored revision whose percentages add past 100', () => {
    const bad = revision({
      Treatments: [
        { OverrideList: [], PercentRollout: 60, Value: true },
        { OverrideList: [], PercentRollout: 40.01, Value: true },
      ],
    });
    expect(() => evaluateRevision(bad, 'A1')).toThrow(InvalidRolloutPercentageException);
  });

  it('refuses a stored revision with a value of the wrong type as a 500 ValidationError', () => {
    const bad = revision({ ControlValue: 'False' as unknown as boolean });
    expect(() => evaluateRevision(bad, 'A1')).toThrow(ValidationError);
    try {
      evaluateRevision(bad, 'A1');
    } catch (error) {
      expect((error as ValidationError).status).toBe(500);
      expect((error as ValidationError).field).toBe('ControlValue');
    }
  });
});

describe('inRollout', () => {
  it('agrees with the BigInt reference rule on 20,000 ids at 40 %', () => {
    let checked = 0;
    for (let i = 0; i < 20000; i++) {
      const key = `edge-${i}`;
      const h = referenceBucket('md5', key);
      expect(inRollout('md5', key, 40)).toBe(h * 10000n < 4000n << 128n);
      checked++;
    }
    expect(checked).toBe(20000);
  });

  it('decides exactly in the window where the top 32 bits cannot: 0x6666…6 is below 40 %, 0x6666…7 is not', () => {
    // 0.4 = 0x0.6666…, so these two 128-bit values sit on either side of 40 % of 2^128,
    // with equal top words: only the full-precision path can tell them apart.
    const below = new Uint32Array([0x66666666, 0x66666666, 0x66666666, 0x66666666]);
    const above = new Uint32Array([0x66666666, 0x66666666, 0x66666666, 0x66666667]);
    expect(belowThreshold(below, 4000)).toBe(true);
    expect(belowThreshold(above, 4000)).toBe(false);
    expect(belowThreshold(new Uint32Array([0x66666665, 0xffffffff, 0xffffffff, 0xffffffff]), 4000)).toBe(true);
    expect(belowThreshold(new Uint32Array([0x66666667, 0, 0, 0]), 4000)).toBe(false);
  });

  it('throws InvalidHashAlgorithmException for an unknown hash name', () => {
    expect(() => inRollout('crc32', 'a', 10)).toThrow(InvalidHashAlgorithmException);
  });

  it.each([[-1], [100.5], [12.345], [Number.NaN]])('throws InvalidRolloutPercentageException for %s', (percent) => {
    expect(() => inRollout('md5', 'a', percent)).toThrow(InvalidRolloutPercentageException);
  });
});

describe('compileRevision digests', () => {
  it('digest(id) is the digest of Salt + ":" + id, and revisions share a hashScope exactly when algorithm and salt agree', () => {
    const md5Salted = compileRevision(revision({ Salt: 'flag_a' }));
    const again = compileRevision(revision({ Salt: 'flag_a', Treatments: [] }));
    const otherSalt = compileRevision(revision({ Salt: 'flag_b' }));
    const sha = compileRevision(revision({ Salt: 'flag_a', HashAlgorithm: 'sha256' }));
    expect(md5Salted.hashScope).toBe(again.hashScope);
    expect(new Set([md5Salted.hashScope, otherSalt.hashScope, sha.hashScope]).size).toBe(3);
    for (const id of ['A1', 'é-42', 'x'.repeat(100)]) {
      expect(Array.from(md5Salted.digest(id))).toEqual(Array.from(digestWords('md5', `flag_a:${id}`)));
      expect(Array.from(sha.digest(id))).toEqual(Array.from(digestWords('sha256', `flag_a:${id}`)));
    }
  });

  it('evaluate(id, digest) decides on the words the given digest returns, after the override list', () => {
    const compiled = compileRevision(
      revision({ Treatments: [{ OverrideList: ['A12345'], PercentRollout: 40, Value: true }] }),
    );
    const asked: string[] = [];
    const lowest = (id: string) => {
      asked.push(id);
      return new Uint32Array(4);
    };
    const highest = () => new Uint32Array(4).fill(0xffffffff);
    expect(compiled.evaluate('anyone', lowest)).toEqual({ value: true, group: 'treatment' });
    expect(compiled.evaluate('anyone', highest)).toEqual({ value: false, group: 'control' });
    expect(compiled.evaluate('A12345', highest)).toEqual({ value: true, group: 'override' });
    expect(asked).toEqual(['anyone']);
  });
});
