/**
 * md5, sha1 and sha256 written by hand, on purpose: `@vexil/core` stays pure (no
 * `node:crypto`, no dependencies) so the same evaluation code runs in browsers and
 * SDKs, and Web Crypto is async-only with no md5. They are also faster on the flag
 * evaluation hot path, which hashes short instance ids millions of times a second:
 * `crypto.createHash` builds a Hash object (and a Buffer) per call, while here a
 * string is encoded into a reused scratch buffer, hashed with reused state, and the
 * only allocation is the returned array. Every result is checked against node:crypto
 * in packages/core/test/hash.test.ts.
 */
import { InvalidHashAlgorithmException } from '../errors.js';
import type { HashAlgorithm } from '../types.js';
import { md5Words } from './md5.js';
import { sha1Words } from './sha1.js';
import { sha256Words } from './sha256.js';
import { encodeUtf8Into, MAX_BYTES_PER_CODE_UNIT, utf8Bytes } from './utf8.js';

export { utf8Bytes };

export const DIGEST_BITS: Readonly<Record<HashAlgorithm, number>> = Object.freeze({
  md5: 128,
  sha1: 160,
  sha256: 256,
});

/** Strings up to this many code units are encoded into the reused scratch buffer; longer ones get their own. */
const SCRATCH_MAX_CODE_UNITS = 16 * 1024;
let scratch = new Uint8Array(256 * MAX_BYTES_PER_CODE_UNIT);

/** Hashes the UTF-8 bytes of `input` into a fresh array of big-endian words. */
function stringWords(algorithm: HashAlgorithm, input: string): Uint32Array {
  const n = input.length;
  if (n > SCRATCH_MAX_CODE_UNITS) {
    // A buffer of its own, not kept: one huge id must not pin megabytes for the life of the process.
    const bytes = utf8Bytes(input);
    return words(algorithm, bytes, bytes.length);
  }
  if (n * MAX_BYTES_PER_CODE_UNIT > scratch.length) {
    scratch = new Uint8Array(Math.max(n * MAX_BYTES_PER_CODE_UNIT, scratch.length * 2));
  }
  return words(algorithm, scratch, encodeUtf8Into(input, scratch));
}

/** Hashes `bytes[0 .. length)` into a fresh array of big-endian words. */
function words(algorithm: HashAlgorithm, bytes: Uint8Array, length: number): Uint32Array {
  let out: Uint32Array;
  switch (algorithm) {
    case 'md5':
      out = new Uint32Array(4);
      md5Words(bytes, length, out);
      break;
    case 'sha1':
      out = new Uint32Array(5);
      sha1Words(bytes, length, out);
      break;
    case 'sha256':
      out = new Uint32Array(8);
      sha256Words(bytes, length, out);
      break;
    default:
      throw new InvalidHashAlgorithmException(algorithm);
  }
  return out;
}

function inputWords(algorithm: HashAlgorithm, input: string | Uint8Array): Uint32Array {
  return typeof input === 'string' ? stringWords(algorithm, input) : words(algorithm, input, input.length);
}

/** Raw digest bytes. A string input is hashed as its UTF-8 bytes. Returns a fresh array. */
export function digest(algorithm: HashAlgorithm, input: string | Uint8Array): Uint8Array {
  const w = inputWords(algorithm, input);
  const out = new Uint8Array(w.length * 4);
  for (let i = 0, p = 0; i < w.length; i++, p += 4) {
    const x = w[i]!;
    out[p] = x >>> 24;
    out[p + 1] = x >>> 16;
    out[p + 2] = x >>> 8;
    out[p + 3] = x;
  }
  return out;
}

/**
 * The same digest as 32-bit unsigned words, big-endian, words[0] being the most significant
 * (i.e. reading the hex digest left to right): md5 → 4 words, sha1 → 5, sha256 → 8.
 * This is the hot path: the returned array is the only allocation for strings up to
 * 16 Ki code units.
 */
export function digestWords(algorithm: HashAlgorithm, input: string): Uint32Array {
  return stringWords(algorithm, input);
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The digest as lower-case hex, as `createHash(algorithm).update(input).digest('hex')`. */
export function digestHex(algorithm: HashAlgorithm, input: string | Uint8Array): string {
  const w = inputWords(algorithm, input);
  let hex = '';
  for (let i = 0; i < w.length; i++) {
    const x = w[i]!;
    hex += HEX[x >>> 24]! + HEX[(x >>> 16) & 0xff]! + HEX[(x >>> 8) & 0xff]! + HEX[x & 0xff]!;
  }
  return hex;
}
