import { describe, expect, it } from 'vitest';
import { calendarDateDays, compareInstants, isCalendarDate, parseInstant } from '../src/index.js';

function seconds(text: string): number {
  const instant = parseInstant(text);
  if (instant === undefined) throw new Error(`${text} should parse`);
  return instant.seconds;
}

describe('parseInstant', () => {
  it('reads dates as midnight UTC and date-times with Z or an offset as the same instants Date does', () => {
    for (const text of [
      '2026-12-01',
      '1970-01-01',
      '1969-12-31',
      '2000-02-29',
      '0001-01-01',
      '9999-12-31',
      '2026-12-01T09:30:00Z',
      '2026-12-01T09:30:00+02:00',
      '2026-12-01T09:30:00-05:30',
      '1900-03-01T00:00:00Z',
      '0000-02-29',
      '2000-02-29T23:59:59+14:00',
    ]) {
      const iso = text.length === 10 ? `${text}T00:00:00Z` : text;
      const expected = new Date(iso).getTime() / 1000;
      expect(expected, text).not.toBeNaN();
      expect(seconds(text), text).toBe(expected);
    }
    expect(seconds('0001-01-01')).toBe(-62135596800);
  });

  it('takes T and Z in lower case and -00:00, as RFC 3339 allows', () => {
    expect(seconds('2026-12-01t09:30:00z')).toBe(seconds('2026-12-01T09:30:00Z'));
    expect(seconds('2026-12-01T09:30:00-00:00')).toBe(seconds('2026-12-01T09:30:00Z'));
  });

  it('keeps fractional seconds exactly, past the millisecond', () => {
    const a = parseInstant('2026-12-01T09:30:00.0001Z');
    const b = parseInstant('2026-12-01T09:30:00Z');
    const c = parseInstant('2026-12-01T09:30:00.000100000Z');
    if (a === undefined || b === undefined || c === undefined) throw new Error('should parse');
    expect(compareInstants(a, b)).toBeGreaterThan(0);
    expect(compareInstants(a, c)).toBe(0);
    expect(
      compareInstants(parseInstant('2026-01-01T00:00:00.05Z')!, parseInstant('2026-01-01T00:00:00.5Z')!),
    ).toBeLessThan(0);
    expect(
      compareInstants(parseInstant('2026-01-01T00:00:00.5Z')!, parseInstant('2026-01-01T00:00:00.51Z')!),
    ).toBeLessThan(0);
  });

  it('compares instants across offsets', () => {
    const utc = parseInstant('2026-12-01T09:30:00Z')!;
    const paris = parseInstant('2026-12-01T10:30:00+01:00')!;
    expect(compareInstants(utc, paris)).toBe(0);
  });

  it.each([
    '',
    '2026-12-1',
    '2026/12/01',
    '2026-13-01',
    '2026-00-10',
    '2026-02-29',
    '1900-02-29',
    '2026-04-31',
    '2026-12-01T09:30:00',
    '2026-12-01T09:30Z',
    '2026-12-01 09:30:00Z',
    '2026-12-01T24:00:00Z',
    '2026-12-01T09:60:00Z',
    '2026-12-01T09:30:60Z',
    '2026-12-01T09:30:00.Z',
    '2026-12-01T09:30:00+0100',
    '2026-12-01T09:30:00+24:00',
    '2026-12-01T09:30:00+01:60',
    '2026-12-01T09:30:00ZZ',
    '+2026-12-01',
    '12026-12-01',
    'December 1, 2026',
    '1764581400',
    `2026-12-01T09:30:00.${'1'.repeat(60)}Z`,
  ])('refuses %j', (text) => {
    expect(parseInstant(text)).toBeUndefined();
  });
});

describe('calendar dates', () => {
  it('accepts only real YYYY-MM-DD dates', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2023-02-29')).toBe(false);
    expect(isCalendarDate('2026-12-01T00:00:00Z')).toBe(false);
    expect(calendarDateDays('1970-01-02')).toBe(1);
  });
});
