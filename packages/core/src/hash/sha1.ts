/** SHA-1 (FIPS 180-4). Internal: `index.ts` is the API. */

const state = new Int32Array(5);
/** The message schedule, reused for every block. */
const w = new Int32Array(80);
/**
 * The last one or two blocks: the input's tail, the 0x80 marker, zeros and the bit length.
 * All zeros between calls: each call clears what it wrote, which is cheaper than zero-filling.
 */
const tail = new Uint8Array(128);

/**
 * Hashes `bytes[0 .. length)` and writes the digest into `out[0 .. 5)` as big-endian words.
 * Full blocks are read straight from `bytes`; only the tail is copied.
 */
export function sha1Words(bytes: Uint8Array, length: number, out: Uint32Array): void {
  state[0] = 0x67452301;
  state[1] = 0xefcdab89;
  state[2] = 0x98badcfe;
  state[3] = 0x10325476;
  state[4] = 0xc3d2e1f0;
  const rem = length % 64;
  const full = length - rem;
  for (let p = 0; p < full; p += 64) compress(bytes, p);
  for (let i = 0; i < rem; i++) tail[i] = bytes[full + i]!;
  tail[rem] = 0x80;
  const end = rem < 56 ? 64 : 128;
  // The bit length as a 64-bit big-endian integer.
  const high = Math.floor(length / 0x20000000) >>> 0;
  const low = (length * 8) >>> 0;
  tail[end - 8] = high >>> 24;
  tail[end - 7] = high >>> 16;
  tail[end - 6] = high >>> 8;
  tail[end - 5] = high;
  tail[end - 4] = low >>> 24;
  tail[end - 3] = low >>> 16;
  tail[end - 2] = low >>> 8;
  tail[end - 1] = low;
  compress(tail, 0);
  if (end === 128) compress(tail, 64);
  for (let i = 0; i <= rem; i++) tail[i] = 0;
  for (let i = end - 8; i < end; i++) tail[i] = 0;
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
