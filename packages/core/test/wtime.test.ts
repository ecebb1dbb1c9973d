import { describe, expect, it } from 'vitest';
import { formatWTime, InvalidInputError, isWTime, parseWTime } from '../src/index.js';

const SECOND = Date.UTC(2024, 8, 25, 18, 42, 51) * 1000;

describe('WTIME', () => {
  it('formats microseconds since the epoch as UTC YYYY-MM-DD HH:MM:SS.ffffff, every digit in place', () => {
    expect(formatWTime(SECOND)).toBe('2024-09-25 18:42:51.000000');
    expect(formatWTime(SECOND + 5)).toBe('2024-09-25 18:42:51.000005');
    expect(formatWTime(SECOND + 1_000)).toBe('2024-09-25 18:42:51.001000');
    expect(formatWTime(SECOND + 123_456)).toBe('2024-09-25 18:42:51.123456');
    expect(formatWTime(SECOND + 999_999)).toBe('2024-09-25 18:42:51.999999');
    expect(formatWTime(SECOND + 1_000_000)).toBe('2024-09-25 18:42:52.000000');
    expect(formatWTime(0)).toBe('1970-01-01 00:00:00.000000');
  });

  it('round-trips through parseWTime and sorts as strings in time order', () => {
    const times = [0, 1, 999, 1_000, 59_999_999, 86_400_000_000, SECOND, SECOND + 7, SECOND + 1_000_001];
    for (const micros of times) expect(parseWTime(formatWTime(micros))).toBe(micros);
    const formatted = times.map(formatWTime);
    expect([...formatted].sort()).toEqual(formatted.slice().sort((a, b) => parseWTime(a) - parseWTime(b)));
    expect(formatted.every(isWTime)).toBe(true);
  });

  it('refuses times that are not whole non-negative microseconds, and text that is not a real time', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) expect(() => formatWTime(bad)).toThrow(InvalidInputError);
    expect(() => parseWTime('2024-02-30 00:00:00.000000')).toThrow(/not a real calendar time/);
    expect(() => parseWTime('2024-09-25T18:42:51Z')).toThrow(/YYYY-MM-DD HH:MM:SS.ffffff/);
  });
});
