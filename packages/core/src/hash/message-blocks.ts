/**
 * The Merkle–Damgård framing md5, sha1 and sha256 share: full 64-byte blocks straight
 * from the input, then the tail, the 0x80 marker, zeros and the bit length as a 64-bit
 * integer (little-endian for md5, big-endian for the SHAs) in one or two final blocks.
 * Internal to the hash folder.
 */
export type Compress = (bytes: Uint8Array, offset: number) => void;

/**
 * The final block(s). All zeros between calls: each call clears what it wrote, which
 * is cheaper than zero-filling. One buffer serves every algorithm (calls never nest).
 */
const tail = new Uint8Array(128);

export function feedMessage(bytes: Uint8Array, length: number, compress: Compress, littleEndianLength: boolean): void {
  const rem = length % 64;
  const full = length - rem;
  for (let p = 0; p < full; p += 64) compress(bytes, p);
  for (let i = 0; i < rem; i++) tail[i] = bytes[full + i]!;
  tail[rem] = 0x80;
  const end = rem < 56 ? 64 : 128;
  const high = Math.floor(length / 0x20000000) >>> 0;
  const low = (length * 8) >>> 0;
  if (littleEndianLength) {
    for (let i = 0; i < 4; i++) {
      tail[end - 8 + i] = low >>> (8 * i);
      tail[end - 4 + i] = high >>> (8 * i);
    }
  } else {
    for (let i = 0; i < 4; i++) {
      tail[end - 8 + i] = high >>> (24 - 8 * i);
      tail[end - 4 + i] = low >>> (24 - 8 * i);
    }
  }
  compress(tail, 0);
  if (end === 128) compress(tail, 64);
  for (let i = 0; i <= rem; i++) tail[i] = 0;
  for (let i = end - 8; i < end; i++) tail[i] = 0;
}
