import { digestWords } from './hash/index.js';
import type { HashAlgorithm } from './types.js';
import { parseHashAlgorithm, percentToBasisPoints } from './validation.js';

/**
 * The rollout rule, `h * 10000 < basisPoints * 2^bits`, where h is the digest read
 * as an unsigned integer. Deciding it from the top 32 bits alone is exact except in a
 * window of width 1 around the threshold (t*10000 < bp*2^32 < (t+1)*10000), which
 * one id in ~400,000 hits; only then do we pay for BigInt on the whole digest.
 * Every product below stays under 2^46, so doubles hold it exactly.
 */
const TWO_POW_32 = 4294967296;

export function belowThreshold(words: Uint32Array, basisPoints: number): boolean {
  if (basisPoints <= 0) return false;
  if (basisPoints >= 10_000) return true;
  const top = words[0] as number;
  const limit = basisPoints * TWO_POW_32;
  if ((top + 1) * 10_000 <= limit) return true;
  if (top * 10_000 >= limit) return false;
  let h = 0n;
  for (const word of words) h = (h << 32n) | BigInt(word);
  return h * 10_000n < BigInt(basisPoints) << BigInt(words.length * 32);
}

/**
 * Whether `key` (hashed as it is: add any salt before calling) falls inside a rollout
 * of `percent` percent. Throws InvalidHashAlgorithmException or
 * InvalidRolloutPercentageException for bad arguments, as the runbook module did.
 */
export function inRollout(algorithm: HashAlgorithm | string, key: string, percent: number): boolean {
  const hash = parseHashAlgorithm(algorithm, 'algorithm');
  const basisPoints = percentToBasisPoints(percent, 'percent');
  if (basisPoints === 0) return false;
  if (basisPoints === 10_000) return true;
  return belowThreshold(digestWords(hash, key), basisPoints);
}
