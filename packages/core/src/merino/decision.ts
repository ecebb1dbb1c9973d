/**
 * Mozilla Merino's in-app flag decision (merino/featureflags.py), bit for bit:
 *
 * - a bucketing id is bytes: `sha256(utf8(key))` for a session id or a `bucket_for`
 *   string, the bytes themselves for `bucket_for` bytes, 32 random bytes for `random`;
 * - `n` takes the top bit of each byte, first byte highest (`n = (n << 1) | (b >> 7)`);
 * - Merino's bucket is the Python float `n / 2**len(bytes)` and the decision is
 *   `bucket <= enabled`, after the short cuts `enabled == 0` → false, `enabled == 1` → true.
 *
 * Python's int / int is correctly rounded, so for ids of up to 53 bytes the bucket is
 * the exact fraction, and so is the JavaScript `n / 2 ** len` used here. Longer ids
 * (only ever passed as explicit bytes) are decided with BigInt against the double
 * Python would compute, ties to even included: no float error of our own, and the
 * same answer as Merino even where its rounding decides.
 */
import { digestWords } from '../hash/index.js';

export type MerinoScheme = 'random' | 'session';
export const MERINO_SCHEMES: readonly MerinoScheme[] = ['random', 'session'];

/** Bytes Merino buckets on for `bucket_for`: sha256 of a string's UTF-8 bytes, or the bytes as they are. */
export function merinoBucketingId(bucketFor: string | Uint8Array): Uint8Array {
  return typeof bucketFor === 'string' ? sha256Bytes(bucketFor) : bucketFor;
}

/** Merino's decision for a bucketing id (see the module comment). Never throws. */
export function merinoDecision(bucketingId: Uint8Array, enabled: number): boolean {
  if (enabled === 0) return false;
  if (enabled === 1) return true;
  // NaN and negatives: Python's `bucket <= enabled` is False for every bucket in [0, 1).
  if (!(enabled > 0)) return false;
  if (enabled > 1) return true;
  const length = bucketingId.length;
  if (length <= 53) {
    let n = 0;
    for (let i = 0; i < length; i++) n = n * 2 + ((bucketingId[i] as number) >> 7);
    // n < 2^53 and the divisor is a power of two: the quotient is exact.
    return n / 2 ** length <= enabled;
  }
  return longBucketAtMost(bucketingId, enabled);
}

/**
 * `merinoDecision(sha256(utf8(key)), enabled)` without building the digest bytes: the
 * session scheme and `bucket_for` strings. 32 bytes give a 32-bit `n`.
 */
export function merinoDecisionForKey(key: string, enabled: number): boolean {
  if (enabled === 0) return false;
  if (enabled === 1) return true;
  if (!(enabled > 0)) return false;
  if (enabled > 1) return true;
  const words = digestWords('sha256', key);
  let n = 0;
  for (let i = 0; i < 8; i++) {
    const w = words[i] as number;
    // The top bits of the word's four bytes, most significant byte first.
    n = n * 16 + (((w >>> 28) & 8) | ((w >>> 21) & 4) | ((w >>> 14) & 2) | ((w >>> 7) & 1));
  }
  return n / 4294967296 <= enabled;
}

function sha256Bytes(key: string): Uint8Array {
  const words = digestWords('sha256', key);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const w = words[i] as number;
    out[i * 4] = w >>> 24;
    out[i * 4 + 1] = w >>> 16;
    out[i * 4 + 2] = w >>> 8;
    out[i * 4 + 3] = w;
  }
  return out;
}

/**
 * For ids longer than 53 bytes, with 0 < enabled < 1: whether Python's
 * `n / 2**len <= enabled` holds. Python rounds x = n / 2^len to the nearest double
 * (ties to even); with enabled = M·2^E exactly and the next double up M·2^E + 2^E, the
 * rounded x is at most `enabled` exactly when x < (2M+1)·2^(E-1), or x equals that
 * midpoint and M is even. Both sides are compared as integers.
 */
function longBucketAtMost(bucketingId: Uint8Array, enabled: number): boolean {
  let n = 0n;
  let chunk = 0;
  let chunkBits = 0;
  for (const byte of bucketingId) {
    chunk = chunk * 2 + (byte >> 7);
    if (++chunkBits === 32) {
      n = (n << 32n) | BigInt(chunk);
      chunk = 0;
      chunkBits = 0;
    }
  }
  if (chunkBits > 0) n = (n << BigInt(chunkBits)) | BigInt(chunk);

  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, enabled);
  const high = view.getUint32(0);
  const biasedExponent = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  let exponent = -1074;
  if (biasedExponent !== 0) {
    mantissa |= 1n << 52n;
    exponent = biasedExponent - 1075;
  }
  // enabled < 1 makes exponent <= -53, so both shifts are positive.
  const left = n << BigInt(1 - exponent);
  const right = ((mantissa << 1n) | 1n) << BigInt(bucketingId.length);
  return left < right || (left === right && (mantissa & 1n) === 0n);
}
