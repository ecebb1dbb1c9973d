/**
 * Instants for the `before`/`after` operators and the `expires` metadata key: RFC 3339
 * date-times with an offset, or dates `YYYY-MM-DD` (midnight UTC). Parsed by hand,
 * not with `Date.parse`, whose accepted forms vary between engines (it takes local
 * times, two-digit years and more) and which drops digits past the millisecond: a rule
 * must decide alike in the service and in every SDK.
 */
export interface Instant {
  /** Whole seconds since 1970-01-01T00:00:00Z (negative before). */
  readonly seconds: number;
  /** The fraction of a second as its decimal digits, without trailing zeros (`"5"` is .5). */
  readonly fraction: string;
}

const DIGIT_0 = 48;

/** The number the `count` digits at `at` spell, or -1 when one is not a digit. */
function digitsAt(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] as number);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** Days since 1970-01-01 of `YYYY-MM-DD` at the start of `text`, or undefined. */
function dateAt(text: string): number | undefined {
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return undefined; // '-'
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day);
}

/** The longest date-time accepted; bounds the digits of a fraction an attribute can make us read. */
export const MAX_INSTANT_LENGTH = 64;

/** Whether `text` is a calendar date `YYYY-MM-DD` that exists. */
export function isCalendarDate(text: string): boolean {
  return text.length === 10 && dateAt(text) !== undefined;
}

/** The days since 1970-01-01 of a calendar date `YYYY-MM-DD`, or undefined when it is not one. */
export function calendarDateDays(text: string): number | undefined {
  return text.length === 10 ? dateAt(text) : undefined;
}

/**
 * Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`T` and `Z` in
 * either case, as RFC 3339 allows); undefined for anything else, including impossible
 * dates and times (February 30th, 24:00, second 60).
 */
export function parseInstant(text: string): Instant | undefined {
  const length = text.length;
  if (length === 10) {
    const days = dateAt(text);
    return days === undefined ? undefined : { seconds: days * 86400, fraction: '' };
  }
  if (length < 20 || length > MAX_INSTANT_LENGTH) return undefined;
  const days = dateAt(text);
  if (days === undefined) return undefined;
  const t = text.charCodeAt(10);
  if (t !== 84 && t !== 116) return undefined; // T t
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined; // ':'
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  let at = 19;
  let fractionEnd = at;
  if (text.charCodeAt(at) === 46) {
    // '.' then one digit or more
    at++;
    while (at < length) {
      const d = text.charCodeAt(at) - DIGIT_0;
      if (!(d >= 0 && d <= 9)) break;
      at++;
    }
    if (at === 20) return undefined;
    fractionEnd = at;
  }
  let offsetSeconds = 0;
  const zone = text.charCodeAt(at);
  if (zone === 90 || zone === 122) {
    // Z z
    if (at + 1 !== length) return undefined;
  } else if (zone === 43 || zone === 45) {
    // + -
    if (at + 6 !== length || text.charCodeAt(at + 3) !== 58) return undefined;
    const offsetHour = digitsAt(text, at + 1, 2);
    const offsetMinute = digitsAt(text, at + 4, 2);
    if (offsetHour < 0 || offsetHour > 23 || offsetMinute < 0 || offsetMinute > 59) return undefined;
    offsetSeconds = (zone === 43 ? 1 : -1) * (offsetHour * 3600 + offsetMinute * 60);
  } else {
    return undefined;
  }
  let fraction = fractionEnd > 20 ? text.slice(20, fractionEnd) : '';
  let trimmed = fraction.length;
  while (trimmed > 0 && fraction.charCodeAt(trimmed - 1) === DIGIT_0) trimmed--;
  if (trimmed !== fraction.length) fraction = fraction.slice(0, trimmed);
  return { seconds: days * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds, fraction };
}

/** Compares two instants: negative when `a` is earlier, 0 when the same, positive when later. */
export function compareInstants(a: Instant, b: Instant): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  // Fractions without trailing zeros compare as digit strings: "05" < "5" < "51".
  return a.fraction === b.fraction ? 0 : a.fraction < b.fraction ? -1 : 1;
}

/** The instant as seconds since the epoch in a double, to compare with Unix-time number attributes. */
export function instantSeconds(instant: Instant): number {
  return instant.fraction === '' ? instant.seconds : instant.seconds + Number(`0.${instant.fraction}`);
}
