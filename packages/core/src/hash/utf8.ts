/**
 * UTF-8 encoding of a JS string, byte for byte what `TextEncoder` produces: a lone
 * surrogate (a high one not followed by a low one, or a low one on its own) becomes
 * U+FFFD. Written out because `@vexil/core` may not depend on `TextEncoder` typings
 * (lib is ES2022 only) and because the hash hot path wants to encode into a reused
 * buffer without allocating.
 */

/** Worst case bytes per UTF-16 code unit: BMP code points above U+07FF and U+FFFD take 3. */
export const MAX_BYTES_PER_CODE_UNIT = 3;

/**
 * Writes the UTF-8 bytes of `input` into `out` from index 0 and returns how many were written.
 * `out` must hold at least `input.length * MAX_BYTES_PER_CODE_UNIT` bytes, or exactly
 * `utf8Length(input)`.
 */
export function encodeUtf8Into(input: string, out: Uint8Array): number {
  const n = input.length;
  let i = 0;
  // ASCII fast path: instance ids and salts are almost always ASCII.
  for (; i < n; i++) {
    const c = input.charCodeAt(i);
    if (c >= 0x80) return encodeFrom(input, i, out, i);
    out[i] = c;
  }
  return n;
}

/** The number of bytes `encodeUtf8Into` writes for `input`. */
export function utf8Length(input: string): number {
  const n = input.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = input.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if ((c & 0xfc00) === 0xd800 && i + 1 < n && (input.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: two code units, four bytes.
      bytes += 2;
      i++;
    } else {
      // The rest of the BMP, and a lone surrogate as U+FFFD.
      bytes += 2;
    }
  }
  return bytes;
}

/** A fresh array holding exactly the UTF-8 bytes of `input`. */
export function utf8Bytes(input: string): Uint8Array {
  const n = input.length;
  let out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = input.charCodeAt(i);
    if (c >= 0x80) {
      const wide = new Uint8Array(utf8Length(input));
      wide.set(out.subarray(0, i));
      encodeFrom(input, i, wide, i);
      out = wide;
      break;
    }
    out[i] = c;
  }
  return out;
}

/** The general encoder: continues from code unit `start`, writing from byte `at`. */
function encodeFrom(input: string, start: number, out: Uint8Array, at: number): number {
  const n = input.length;
  let p = at;
  let i = start;
  while (i < n) {
    let c = input.charCodeAt(i++);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      if ((c & 0xf800) === 0xd800) {
        // A surrogate: a high one followed by a low one is one astral code point.
        const next = i < n ? input.charCodeAt(i) : 0;
        if (c < 0xdc00 && (next & 0xfc00) === 0xdc00) {
          i++;
          const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          out[p++] = 0xf0 | (cp >> 18);
          out[p++] = 0x80 | ((cp >> 12) & 0x3f);
          out[p++] = 0x80 | ((cp >> 6) & 0x3f);
          out[p++] = 0x80 | (cp & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}
