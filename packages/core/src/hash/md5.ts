/**
 * MD5 (RFC 1321). Internal: `index.ts` is the API. Words are little-endian inside
 * the algorithm; `md5Words` hands them out big-endian, i.e. in hex-digest order.
 */

const state = new Int32Array(4);
/** The last one or two blocks: the input's tail, the 0x80 marker, zeros and the bit length. */
const tail = new Uint8Array(128);

/**
 * Hashes `bytes[0 .. length)` and writes the digest into `out[0 .. 4)` as big-endian words.
 * Full blocks are read straight from `bytes`; only the tail is copied.
 */
export function md5Words(bytes: Uint8Array, length: number, out: Uint32Array): void {
  state[0] = 0x67452301;
  state[1] = 0xefcdab89;
  state[2] = 0x98badcfe;
  state[3] = 0x10325476;
  const rem = length % 64;
  const full = length - rem;
  for (let p = 0; p < full; p += 64) compress(bytes, p);
  for (let i = 0; i < rem; i++) tail[i] = bytes[full + i]!;
  tail[rem] = 0x80;
  const end = rem < 56 ? 64 : 128;
  tail.fill(0, rem + 1, end - 8);
  // The bit length as a 64-bit little-endian integer.
  const low = (length * 8) >>> 0;
  const high = Math.floor(length / 0x20000000) >>> 0;
  tail[end - 8] = low;
  tail[end - 7] = low >>> 8;
  tail[end - 6] = low >>> 16;
  tail[end - 5] = low >>> 24;
  tail[end - 4] = high;
  tail[end - 3] = high >>> 8;
  tail[end - 2] = high >>> 16;
  tail[end - 1] = high >>> 24;
  compress(tail, 0);
  if (end === 128) compress(tail, 64);
  for (let i = 0; i < 4; i++) out[i] = bswap(state[i]!);
}

function bswap(x: number): number {
  return ((x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

function ff(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  const n = (a + (d ^ (b & (c ^ d))) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}

function gg(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  const n = (a + (c ^ (d & (b ^ c))) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}

function hh(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  const n = (a + (b ^ c ^ d) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}

function ii(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  const n = (a + (c ^ (b | ~d)) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}

/** One 64-byte block at `bytes[p]`, read as 16 little-endian words. */
function compress(bytes: Uint8Array, p: number): void {
  const x0 = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
  const x1 = bytes[p + 4]! | (bytes[p + 5]! << 8) | (bytes[p + 6]! << 16) | (bytes[p + 7]! << 24);
  const x2 = bytes[p + 8]! | (bytes[p + 9]! << 8) | (bytes[p + 10]! << 16) | (bytes[p + 11]! << 24);
  const x3 = bytes[p + 12]! | (bytes[p + 13]! << 8) | (bytes[p + 14]! << 16) | (bytes[p + 15]! << 24);
  const x4 = bytes[p + 16]! | (bytes[p + 17]! << 8) | (bytes[p + 18]! << 16) | (bytes[p + 19]! << 24);
  const x5 = bytes[p + 20]! | (bytes[p + 21]! << 8) | (bytes[p + 22]! << 16) | (bytes[p + 23]! << 24);
  const x6 = bytes[p + 24]! | (bytes[p + 25]! << 8) | (bytes[p + 26]! << 16) | (bytes[p + 27]! << 24);
  const x7 = bytes[p + 28]! | (bytes[p + 29]! << 8) | (bytes[p + 30]! << 16) | (bytes[p + 31]! << 24);
  const x8 = bytes[p + 32]! | (bytes[p + 33]! << 8) | (bytes[p + 34]! << 16) | (bytes[p + 35]! << 24);
  const x9 = bytes[p + 36]! | (bytes[p + 37]! << 8) | (bytes[p + 38]! << 16) | (bytes[p + 39]! << 24);
  const x10 = bytes[p + 40]! | (bytes[p + 41]! << 8) | (bytes[p + 42]! << 16) | (bytes[p + 43]! << 24);
  const x11 = bytes[p + 44]! | (bytes[p + 45]! << 8) | (bytes[p + 46]! << 16) | (bytes[p + 47]! << 24);
  const x12 = bytes[p + 48]! | (bytes[p + 49]! << 8) | (bytes[p + 50]! << 16) | (bytes[p + 51]! << 24);
  const x13 = bytes[p + 52]! | (bytes[p + 53]! << 8) | (bytes[p + 54]! << 16) | (bytes[p + 55]! << 24);
  const x14 = bytes[p + 56]! | (bytes[p + 57]! << 8) | (bytes[p + 58]! << 16) | (bytes[p + 59]! << 24);
  const x15 = bytes[p + 60]! | (bytes[p + 61]! << 8) | (bytes[p + 62]! << 16) | (bytes[p + 63]! << 24);
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;

  a = ff(a, b, c, d, x0, 7, 0xd76aa478);
  d = ff(d, a, b, c, x1, 12, 0xe8c7b756);
  c = ff(c, d, a, b, x2, 17, 0x242070db);
  b = ff(b, c, d, a, x3, 22, 0xc1bdceee);
  a = ff(a, b, c, d, x4, 7, 0xf57c0faf);
  d = ff(d, a, b, c, x5, 12, 0x4787c62a);
  c = ff(c, d, a, b, x6, 17, 0xa8304613);
  b = ff(b, c, d, a, x7, 22, 0xfd469501);
  a = ff(a, b, c, d, x8, 7, 0x698098d8);
  d = ff(d, a, b, c, x9, 12, 0x8b44f7af);
  c = ff(c, d, a, b, x10, 17, 0xffff5bb1);
  b = ff(b, c, d, a, x11, 22, 0x895cd7be);
  a = ff(a, b, c, d, x12, 7, 0x6b901122);
  d = ff(d, a, b, c, x13, 12, 0xfd987193);
  c = ff(c, d, a, b, x14, 17, 0xa679438e);
  b = ff(b, c, d, a, x15, 22, 0x49b40821);

  a = gg(a, b, c, d, x1, 5, 0xf61e2562);
  d = gg(d, a, b, c, x6, 9, 0xc040b340);
  c = gg(c, d, a, b, x11, 14, 0x265e5a51);
  b = gg(b, c, d, a, x0, 20, 0xe9b6c7aa);
  a = gg(a, b, c, d, x5, 5, 0xd62f105d);
  d = gg(d, a, b, c, x10, 9, 0x02441453);
  c = gg(c, d, a, b, x15, 14, 0xd8a1e681);
  b = gg(b, c, d, a, x4, 20, 0xe7d3fbc8);
  a = gg(a, b, c, d, x9, 5, 0x21e1cde6);
  d = gg(d, a, b, c, x14, 9, 0xc33707d6);
  c = gg(c, d, a, b, x3, 14, 0xf4d50d87);
  b = gg(b, c, d, a, x8, 20, 0x455a14ed);
  a = gg(a, b, c, d, x13, 5, 0xa9e3e905);
  d = gg(d, a, b, c, x2, 9, 0xfcefa3f8);
  c = gg(c, d, a, b, x7, 14, 0x676f02d9);
  b = gg(b, c, d, a, x12, 20, 0x8d2a4c8a);

  a = hh(a, b, c, d, x5, 4, 0xfffa3942);
  d = hh(d, a, b, c, x8, 11, 0x8771f681);
  c = hh(c, d, a, b, x11, 16, 0x6d9d6122);
  b = hh(b, c, d, a, x14, 23, 0xfde5380c);
  a = hh(a, b, c, d, x1, 4, 0xa4beea44);
  d = hh(d, a, b, c, x4, 11, 0x4bdecfa9);
  c = hh(c, d, a, b, x7, 16, 0xf6bb4b60);
  b = hh(b, c, d, a, x10, 23, 0xbebfbc70);
  a = hh(a, b, c, d, x13, 4, 0x289b7ec6);
  d = hh(d, a, b, c, x0, 11, 0xeaa127fa);
  c = hh(c, d, a, b, x3, 16, 0xd4ef3085);
  b = hh(b, c, d, a, x6, 23, 0x04881d05);
  a = hh(a, b, c, d, x9, 4, 0xd9d4d039);
  d = hh(d, a, b, c, x12, 11, 0xe6db99e5);
  c = hh(c, d, a, b, x15, 16, 0x1fa27cf8);
  b = hh(b, c, d, a, x2, 23, 0xc4ac5665);

  a = ii(a, b, c, d, x0, 6, 0xf4292244);
  d = ii(d, a, b, c, x7, 10, 0x432aff97);
  c = ii(c, d, a, b, x14, 15, 0xab9423a7);
  b = ii(b, c, d, a, x5, 21, 0xfc93a039);
  a = ii(a, b, c, d, x12, 6, 0x655b59c3);
  d = ii(d, a, b, c, x3, 10, 0x8f0ccc92);
  c = ii(c, d, a, b, x10, 15, 0xffeff47d);
  b = ii(b, c, d, a, x1, 21, 0x85845dd1);
  a = ii(a, b, c, d, x8, 6, 0x6fa87e4f);
  d = ii(d, a, b, c, x15, 10, 0xfe2ce6e0);
  c = ii(c, d, a, b, x6, 15, 0xa3014314);
  b = ii(b, c, d, a, x13, 21, 0x4e0811a1);
  a = ii(a, b, c, d, x4, 6, 0xf7537e82);
  d = ii(d, a, b, c, x11, 10, 0xbd3af235);
  c = ii(c, d, a, b, x2, 15, 0x2ad7d2bb);
  b = ii(b, c, d, a, x9, 21, 0xeb86d391);

  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
}
