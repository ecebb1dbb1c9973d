import { createHash } from 'node:crypto';
import { merinoBucketingId, merinoDecision, merinoDecisionForKey } from '@vexil/core/merino';
import { describe, expect, it } from 'vitest';

/** Bytes whose top bits spell `n` (len bits, first byte highest); the low 7 bits are noise that must not matter. */
function bytesFor(n: bigint, length: number, noise = 0x35): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const bit = (n >> BigInt(length - 1 - i)) & 1n;
    out[i] = (Number(bit) << 7) | ((noise + i * 29) & 0x7f);
  }
  return out;
}

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

describe('Merino bucketing (merino/featureflags.py)', () => {
  it('reads the top bit of each byte, first byte highest, and is inclusive at the threshold', () => {
    // 4 bytes: n = 0b1000 = 8, bucket 8/16 = 0.5 <= 0.5.
    expect(merinoDecision(Uint8Array.of(0x80, 0x7f, 0x00, 0x7f), 0.5)).toBe(true);
    // n = 0b1001 = 9, bucket 9/16 > 0.5.
    expect(merinoDecision(Uint8Array.of(0x80, 0x00, 0x00, 0xff), 0.5)).toBe(false);
    // n = 0b0111 = 7, bucket 7/16 < 0.5 even though the low bits are all ones.
    expect(merinoDecision(Uint8Array.of(0x7f, 0xff, 0xff, 0xff), 0.5)).toBe(true);
  });

  it("gives Merino's published raw-byte answers at 0.5: 00000000 on, ffffffff off (hex bytes, not ASCII)", () => {
    expect(merinoDecision(hex('00000000'), 0.5)).toBe(true);
    expect(merinoDecision(hex('ffffffff'), 0.5)).toBe(false); // bucket 15/16
    // The ASCII strings would both be on ('0' is 0x30 and 'f' 0x66: top bit 0, bucket 0),
    // so Merino's "ffffffff off" can only mean the bytes 0xff×4 — as its test writes them.
    const ascii = new TextEncoder();
    expect(merinoDecision(ascii.encode('00000000'), 0.5)).toBe(true);
    expect(merinoDecision(ascii.encode('ffffffff'), 0.5)).toBe(true);
  });

  it('short-cuts enabled 0 and 1 without looking at the id, as Merino does', () => {
    expect(merinoDecision(new Uint8Array(32), 0)).toBe(false); // bucket 0 <= 0 would say on
    expect(merinoDecision(new Uint8Array(32).fill(0xff), 1)).toBe(true);
    expect(merinoDecision(new Uint8Array(0), 0)).toBe(false);
    expect(merinoDecisionForKey('anything', 0)).toBe(false);
    expect(merinoDecisionForKey('anything', 1)).toBe(true);
  });

  it('answers like Python for values Merino would never accept (no throw)', () => {
    expect(merinoDecision(new Uint8Array(4), Number.NaN)).toBe(false);
    expect(merinoDecision(new Uint8Array(4), -0.5)).toBe(false);
    expect(merinoDecision(new Uint8Array(4).fill(0xff), 2)).toBe(true);
    expect(merinoDecision(new Uint8Array(0), 0.5)).toBe(true); // b'' → 0 / 1 = 0.0
  });

  it('buckets strings on sha256 of their UTF-8 bytes: 000 on and fff off at 0.5', () => {
    expect(merinoDecisionForKey('000', 0.5)).toBe(true); // bucket 0.3945…
    expect(merinoDecisionForKey('fff', 0.5)).toBe(false); // bucket 0.9924…
    expect(Array.from(merinoBucketingId('000'))).toEqual(Array.from(createHash('sha256').update('000').digest()));
    const bytes = Uint8Array.of(1, 2, 3);
    expect(merinoBucketingId(bytes)).toBe(bytes);
  });

  it('gives the same answer from the string fast path as from the digest bytes', () => {
    const keys = [
      '',
      '000',
      'fff',
      'ü',
      '日本語',
      'A123456',
      ...Array.from({ length: 500 }, (_, i) => `sid-${i * 7919}`),
    ];
    for (const key of keys) {
      const bytes = Uint8Array.from(createHash('sha256').update(key, 'utf8').digest());
      for (const enabled of [0.001, 0.1, 0.25, 0.5, 0.75, 0.999]) {
        expect(merinoDecisionForKey(key, enabled), `${key} @ ${enabled}`).toBe(merinoDecision(bytes, enabled));
      }
    }
  });

  it('is exact on ids of up to 53 bytes: the bucket fraction itself, no rounding', () => {
    for (const length of [33, 52, 53]) {
      const half = 1n << BigInt(length - 1);
      expect(merinoDecision(bytesFor(half, length), 0.5), `${length} bytes at 1/2`).toBe(true);
      expect(merinoDecision(bytesFor(half + 1n, length), 0.5), `${length} bytes just above 1/2`).toBe(false);
    }
  });

  describe('ids longer than 53 bytes: decided in BigInt against the double Python computes', () => {
    // Merino computes `n / (1 << len)` in Python (correctly rounded to a double) and
    // compares that float. These expectations were produced by CPython 3.
    it('keeps the inclusive threshold exact for long ids', () => {
      expect(merinoDecision(bytesFor(1n << 99n, 100), 0.5)).toBe(true);
      expect(merinoDecision(bytesFor((1n << 99n) - 1n, 100), 0.5)).toBe(true);
    });

    it("rounds like Python's float division: just above the threshold may round onto it", () => {
      // (2**99 + 1) / 2**100 == 0.5 in Python, so Merino says on.
      expect(merinoDecision(bytesFor((1n << 99n) + 1n, 100), 0.5)).toBe(true);
      // (2**53 + 1) / 2**54 is the midpoint of 0.5 and the next double: ties to even → 0.5 → on.
      expect(merinoDecision(bytesFor((1n << 53n) + 1n, 54), 0.5)).toBe(true);
      // (2**53 + 2) / 2**54 is the next double above 0.5 → off.
      expect(merinoDecision(bytesFor((1n << 53n) + 2n, 54), 0.5)).toBe(false);
      // (2**54 + 3) / 2**55 is past the midpoint → rounds up → off.
      expect(merinoDecision(bytesFor((1n << 54n) + 3n, 55), 0.5)).toBe(false);
    });

    it('compares against enabled values that are not dyadic (0.1) without float error', () => {
      // The double 0.1 is M / 2**56 with M = 7205759403792794 (even); the next double up is
      // (M + 1) / 2**56, the midpoint (2M + 1) / 2**57. With 300-byte ids (n / 2**300), Python gives:
      const M = 7205759403792794n;
      const mid = (2n * M + 1n) << 243n;
      expect(merinoDecision(bytesFor(M << 244n, 300), 0.1)).toBe(true); // exactly 0.1
      expect(merinoDecision(bytesFor((M << 244n) + 1n, 300), 0.1)).toBe(true); // rounds down onto 0.1
      expect(merinoDecision(bytesFor(mid - 1n, 300), 0.1)).toBe(true);
      expect(merinoDecision(bytesFor(mid, 300), 0.1)).toBe(true); // a tie, M even: rounds to 0.1
      expect(merinoDecision(bytesFor(mid + 1n, 300), 0.1)).toBe(false); // rounds up past 0.1
    });

    it('handles ids longer than a double can hold as an integer (1,100 bytes)', () => {
      expect(merinoDecision(bytesFor(0n, 1100), 1e-300)).toBe(true);
      expect(merinoDecision(bytesFor((1n << 1100n) - 1n, 1100), 0.999999)).toBe(false);
      const quarter = 1n << 1098n;
      expect(merinoDecision(bytesFor(quarter, 1100), 0.25)).toBe(true);
      expect(merinoDecision(bytesFor(quarter + (1n << 1040n), 1100), 0.25)).toBe(true); // 0.25 + 2**-60 rounds to 0.25
      expect(merinoDecision(bytesFor(quarter + (1n << 1045n), 1100), 0.25)).toBe(true); // the tie, even mantissa
      expect(merinoDecision(bytesFor(quarter + (1n << 1045n) + 1n, 1100), 0.25)).toBe(false);
      expect(merinoDecision(bytesFor(quarter + (1n << 1046n), 1100), 0.25)).toBe(false); // the next double
    });
  });
});
