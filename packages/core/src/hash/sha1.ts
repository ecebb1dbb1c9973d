/** SHA-1 (FIPS 180-4). Internal: `index.ts` is the API. */

import { feedMessage } from './message-blocks.js';

const state = new Int32Array(5);
/** The message schedule, reused for every block. */
const w = new Int32Array(80);

/**
 * Hashes `bytes[0 .. length)` and writes the digest into `out[0 .. 5)` as big-endian words.
 */
export function sha1Words(bytes: Uint8Array, length: number, out: Uint32Array): void {
  state[0] = 0x67452301;
  state[1] = 0xefcdab89;
  state[2] = 0x98badcfe;
  state[3] = 0x10325476;
  state[4] = 0xc3d2e1f0;
  feedMessage(bytes, length, compress, false);
  for (let i = 0; i < 5; i++) out[i] = state[i]!;
}

/**
 * One 64-byte block at `bytes[p]`, read as 16 big-endian words. The round constants
 * 0x8f1bbcdc and 0xca62c1d6 are written as signed 32-bit integers so that every sum
 * stays in int32 arithmetic (an unsigned literal above 2^31 makes it floating point).
 */
function compress(bytes: Uint8Array, p: number): void {
  for (let t = 0; t < 16; t++, p += 4) {
    w[t] = (bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!;
  }
  for (let t = 16; t < 80; t++) {
    const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
    w[t] = (x << 1) | (x >>> 31);
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let t = 0;
  for (; t < 20; t++) {
    const n = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + 0x5a827999 + w[t]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = n;
  }
  for (; t < 40; t++) {
    const n = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[t]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = n;
  }
  for (; t < 60; t++) {
    const n = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e - 1894007588 + w[t]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = n;
  }
  for (; t < 80; t++) {
    const n = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e - 899497514 + w[t]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = n;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
}
