import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidHashAlgorithmException } from '../src/errors.js';
import { DIGEST_BITS, digest, digestHex, digestWords, utf8Bytes } from '../src/hash/index.js';
import type { HashAlgorithm } from '../src/types.js';

const ALGORITHMS: readonly HashAlgorithm[] = ['md5', 'sha1', 'sha256'];
const encoder = new TextEncoder();

/** node:crypto's digest of exactly the bytes TextEncoder gives for a string. */
function reference(algorithm: HashAlgorithm, input: string | Uint8Array): Buffer {
  return createHash(algorithm)
    .update(typeof input === 'string' ? encoder.encode(input) : input)
    .digest();
}

function referenceWords(algorithm: HashAlgorithm, input: string | Uint8Array): number[] {
  const bytes = reference(algorithm, input);
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readUInt32BE(i * 4));
}

function label(input: string | Uint8Array): string {
  if (typeof input !== 'string') return `Uint8Array(${input.length})`;
  const codes = Array.from(input.slice(0, 12), (ch) => ch.charCodeAt(0).toString(16)).join(' ');
  return `string(${input.length}) [${codes}${input.length > 12 ? ' …' : ''}]`;
}

/** Checks all three outputs of all three algorithms against node:crypto. */
function expectMatchesNode(input: string): void {
  for (const algorithm of ALGORITHMS) {
    const expected = reference(algorithm, input);
    const what = `${algorithm} of ${label(input)}`;
    expect(digestHex(algorithm, input), what).toBe(expected.toString('hex'));
    expect(Array.from(digest(algorithm, input)), what).toEqual(Array.from(expected));
    expect(Array.from(digestWords(algorithm, input)), what).toEqual(referenceWords(algorithm, input));
  }
}

/** mulberry32: a small seeded PRNG, so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}

/** Random strings mixing ASCII, 2- and 3-byte BMP, astral pairs (emoji) and every kind of lone surrogate. */
function randomStrings(count: number, seed: number): string[] {
  const random = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const piece = (): string => {
    const kind = random();
    if (kind < 0.45) return String.fromCharCode(int(0x20, 0x7e));
    if (kind < 0.5) return String.fromCharCode(int(0x00, 0x7f));
    if (kind < 0.6) return String.fromCharCode(int(0x80, 0x7ff));
    if (kind < 0.7) return String.fromCharCode(random() < 0.5 ? int(0x800, 0xd7ff) : int(0xe000, 0xffff));
    if (kind < 0.78) return String.fromCodePoint(int(0x1f300, 0x1faff));
    if (kind < 0.83) return String.fromCodePoint(int(0x10000, 0x10ffff));
    if (kind < 0.89) return String.fromCharCode(int(0xd800, 0xdbff)); // lone high surrogate
    if (kind < 0.95) return String.fromCharCode(int(0xdc00, 0xdfff)); // lone low surrogate
    return String.fromCharCode(int(0xdc00, 0xdfff), int(0xd800, 0xdbff)); // low before high: two lone ones
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const size = random();
    const length = size < 0.7 ? int(0, 24) : size < 0.95 ? int(25, 160) : int(161, 1200);
    let s = '';
    while (s.length < length) s += piece();
    out.push(s);
  }
  return out;
}

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.';
const asciiOfLength = (n: number) => Array.from({ length: n }, (_, i) => ASCII[(i * 7 + n) % ASCII.length]).join('');
const CORPUS = randomStrings(4000, 20240611);

describe('hash known vectors', () => {
  const vectors: Record<HashAlgorithm, Record<string, string>> = {
    md5: {
      '': 'd41d8cd98f00b204e9800998ecf8427e',
      abc: '900150983cd24fb0d6963f7d28e17f72',
      'The quick brown fox jumps over the lazy dog': '9e107d9d372bb6826bd81d3542a419d6',
      '12345678901234567890123456789012345678901234567890123456789012345678901234567890':
        '57edf4a22be3c955ac49da2e2107b67a',
    },
    sha1: {
      '': 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
      abc: 'a9993e364706816aba3e25717850c26c9cd0d89d',
      'The quick brown fox jumps over the lazy dog': '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12',
      abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq: '84983e441c3bd26ebaae4aa1f95129e5e54670f1',
    },
    sha256: {
      '': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      abc: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      'The quick brown fox jumps over the lazy dog': 'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592',
      abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq:
        '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    },
  };

  for (const algorithm of ALGORITHMS) {
    it(`${algorithm} gives the RFC/FIPS digests for the published test strings`, () => {
      for (const [input, hex] of Object.entries(vectors[algorithm])) {
        expect(digestHex(algorithm, input)).toBe(hex);
        expect(reference(algorithm, input).toString('hex')).toBe(hex);
      }
    });
  }

  it('sha256 of a million "a" (FIPS 180-2 long message) matches the published digest', () => {
    expect(digestHex('sha256', 'a'.repeat(1_000_000))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });
});

describe('hash results match node:crypto', () => {
  it('hashes the empty string and the empty Uint8Array like node:crypto', () => {
    expectMatchesNode('');
    for (const algorithm of ALGORITHMS) {
      expect(digestHex(algorithm, new Uint8Array(0))).toBe(reference(algorithm, '').toString('hex'));
    }
  });

  it('hashes ASCII strings of every length 0..300, across all padding boundaries, like node:crypto', () => {
    for (let n = 0; n <= 300; n++) expectMatchesNode(asciiOfLength(n));
  });

  it('hashes Uint8Array inputs of every length 0..300 with every byte value like node:crypto', () => {
    for (let n = 0; n <= 300; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n * 17) & 0xff);
      for (const algorithm of ALGORITHMS) {
        const expected = reference(algorithm, bytes);
        expect(digestHex(algorithm, bytes), `${algorithm} of ${label(bytes)}`).toBe(expected.toString('hex'));
        expect(Array.from(digest(algorithm, bytes))).toEqual(Array.from(expected));
      }
    }
  });

  it('hashes a Uint8Array view with a byte offset as just the viewed bytes', () => {
    const backing = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff);
    const view = backing.subarray(7, 7 + 130);
    for (const algorithm of ALGORITHMS) {
      expect(digestHex(algorithm, view)).toBe(reference(algorithm, Buffer.from(view)).toString('hex'));
    }
  });

  it('hashes thousands of random strings with non-ASCII, emoji and lone surrogates like node:crypto over TextEncoder bytes', () => {
    for (const s of CORPUS) expectMatchesNode(s);
  });

  it('hashes the random strings given as UTF-8 Uint8Arrays like node:crypto', () => {
    for (const s of CORPUS.slice(0, 1000)) {
      const bytes = encoder.encode(s);
      for (const algorithm of ALGORITHMS) {
        expect(digestHex(algorithm, bytes), `${algorithm} of ${label(s)}`).toBe(
          reference(algorithm, bytes).toString('hex'),
        );
      }
    }
  });

  it('hashes strings longer than the reused scratch buffer, then short ones again, like node:crypto', () => {
    const long = [
      asciiOfLength(100_000),
      randomStrings(1, 7)[0]!.repeat(60).slice(0, 20_001),
      '€😀\uD800'.repeat(9_000),
      'é'.repeat(16 * 1024),
    ];
    for (const s of long) {
      expectMatchesNode(s);
      expectMatchesNode('user-123456');
      expectMatchesNode('flag_name:Ä123456😀');
    }
  });

  it('treats a string and its UTF-8 bytes as the same input', () => {
    for (const s of ['user-123456', 'flag_name:A123456', 'naïve-ユーザー-😀', '\uD83D']) {
      for (const algorithm of ALGORITHMS) {
        expect(digestHex(algorithm, s)).toBe(digestHex(algorithm, utf8Bytes(s)));
      }
    }
  });
});

describe('digestWords', () => {
  it('returns 4, 5 and 8 big-endian words that read the hex digest left to right', () => {
    const expectedLengths: Record<HashAlgorithm, number> = { md5: 4, sha1: 5, sha256: 8 };
    for (const algorithm of ALGORITHMS) {
      const words = digestWords(algorithm, 'user-123456');
      expect(words).toBeInstanceOf(Uint32Array);
      expect(words.length).toBe(expectedLengths[algorithm]);
      expect(words.length * 32).toBe(DIGEST_BITS[algorithm]);
      const hex = Array.from(words, (w) => w.toString(16).padStart(8, '0')).join('');
      expect(hex).toBe(digestHex(algorithm, 'user-123456'));
    }
    // md5 is little-endian inside; the words must still be in hex order.
    expect(Array.from(digestWords('md5', 'abc'))).toEqual([0x90015098, 0x3cd24fb0, 0xd6963f7d, 0x28e17f72]);
  });

  it('returns a fresh array each call, unaffected by later calls or by the caller mutating an earlier result', () => {
    for (const algorithm of ALGORITHMS) {
      const first = digestWords(algorithm, 'user-1');
      const copy = Array.from(first);
      const second = digestWords(algorithm, 'user-2');
      expect(second).not.toBe(first);
      expect(Array.from(first)).toEqual(copy);
      second.fill(0);
      expect(Array.from(digestWords(algorithm, 'user-2'))).toEqual(referenceWords(algorithm, 'user-2'));
    }
  });
});

describe('digest', () => {
  it('returns a fresh array and leaves the input bytes untouched', () => {
    const input = Uint8Array.from({ length: 70 }, (_, i) => i);
    const before = Array.from(input);
    for (const algorithm of ALGORITHMS) {
      const a = digest(algorithm, input);
      const b = digest(algorithm, input);
      expect(a).not.toBe(b);
      expect(a.length * 8).toBe(DIGEST_BITS[algorithm]);
      a.fill(0);
      expect(Array.from(b)).toEqual(Array.from(reference(algorithm, input)));
    }
    expect(Array.from(input)).toEqual(before);
  });
});

describe('unknown algorithms', () => {
  it('are rejected with InvalidHashAlgorithmException by every entry point', () => {
    const bad = 'sha512' as HashAlgorithm;
    expect(() => digestWords(bad, 'x')).toThrow(InvalidHashAlgorithmException);
    expect(() => digest(bad, 'x')).toThrow(InvalidHashAlgorithmException);
    expect(() => digest(bad, new Uint8Array(1))).toThrow(InvalidHashAlgorithmException);
    expect(() => digestHex(bad, 'x')).toThrow(InvalidHashAlgorithmException);
  });
});

describe('DIGEST_BITS', () => {
  it('gives 128, 160 and 256 bits and cannot be changed', () => {
    expect(DIGEST_BITS).toEqual({ md5: 128, sha1: 160, sha256: 256 });
    expect(Object.isFrozen(DIGEST_BITS)).toBe(true);
  });
});

describe('utf8Bytes', () => {
  it('encodes ASCII of every length 0..300 exactly like TextEncoder', () => {
    for (let n = 0; n <= 300; n++) {
      const s = asciiOfLength(n);
      expect(Array.from(utf8Bytes(s))).toEqual(Array.from(encoder.encode(s)));
    }
  });

  it('encodes thousands of random strings with non-ASCII, emoji and lone surrogates exactly like TextEncoder', () => {
    for (const s of CORPUS) {
      expect(Array.from(utf8Bytes(s)), label(s)).toEqual(Array.from(encoder.encode(s)));
    }
  });

  it('encodes each boundary code point and turns each lone surrogate into U+FFFD like TextEncoder', () => {
    const cases = [
      '\u0000',
      '\u007f',
      '\u0080',
      '\u07ff',
      '\u0800',
      '\ud7ff',
      '\ue000',
      '\uffff',
      '\ud800\udc00', // U+10000
      '\udbff\udfff', // U+10FFFF
      '\ud800', // lone high at the end
      '\udc00', // lone low
      '\ud800a', // high then ASCII
      '\ud800\ud800\udc00', // lone high, then a pair
      '\udc00\ud800', // low before high
      'a\udfffb\ud83d',
    ];
    for (const s of cases) {
      expect(Array.from(utf8Bytes(s)), label(s)).toEqual(Array.from(encoder.encode(s)));
    }
    expect(Array.from(utf8Bytes('\ud800x\udc00'))).toEqual([0xef, 0xbf, 0xbd, 0x78, 0xef, 0xbf, 0xbd]);
  });

  it('returns an array of exactly the encoded length, fresh each call', () => {
    const a = utf8Bytes('héllo😀');
    expect(a.length).toBe(10);
    expect(a.buffer.byteLength).toBe(10);
    expect(utf8Bytes('héllo😀')).not.toBe(a);
  });
});
