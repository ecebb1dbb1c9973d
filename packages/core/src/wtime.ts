import { InvalidInputError } from './errors.js';

/**
 * Row times are UTC `YYYY-MM-DD HH:MM:SS.ffffff`, the runbook system's format. They
 * sort as strings in time order, which is what makes row-key order time order.
 * Times travel as integer microseconds since the epoch (safe in a double until 2255).
 */
const WTIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6})$/;

// The service formats a time for every evaluation it logs; the date and clock part
// changes once a second, so it is formatted once a second.
let cachedSecond = -1;
let cachedPrefix = '';

// The microseconds as two ready-made halves: String(number) puts every new string into
// V8's number-to-string cache, which lives in the old generation, so each formatted
// time outlived its request and was promoted (most of what survived the service's
// young-generation collections under load).
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

export function formatWTime(micros: number): string {
  if (!Number.isSafeInteger(micros) || micros < 0) {
    throw new InvalidInputError(`time must be a non-negative whole number of microseconds, got ${micros}`);
  }
  const second = Math.floor(micros / 1_000_000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString(); // 2024-09-25T18:42:51.000Z
    cachedPrefix = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
    cachedSecond = second;
  }
  const fraction = micros % 1_000_000;
  return cachedPrefix + THREE_DIGITS[Math.floor(fraction / 1000)]! + THREE_DIGITS[fraction % 1000]!;
}

export function parseWTime(text: string): number {
  const match = WTIME_PATTERN.exec(text);
  if (!match) {
    throw new InvalidInputError(`time ${JSON.stringify(text)} is not in the form YYYY-MM-DD HH:MM:SS.ffffff (UTC)`, {
      field: 'WTIME',
    });
  }
  const [, y, mo, d, h, mi, s, us] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const millis = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(millis);
  if (
    check.getUTCDate() !== Number(d) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    throw new InvalidInputError(`time ${JSON.stringify(text)} is not a real calendar time`, { field: 'WTIME' });
  }
  return millis * 1000 + Number(us);
}

export function isWTime(text: string): boolean {
  return WTIME_PATTERN.test(text);
}
