import { describe, expect, it } from 'vitest';
import { formatOffset, isoWithOffset, localInputValue } from '../src/words/schedule-time.js';

describe('schedule times', () => {
  it('writes offsets with their sign, hours and minutes', () => {
    expect(formatOffset(60)).toBe('+01:00');
    expect(formatOffset(0)).toBe('+00:00');
    expect(formatOffset(-330)).toBe('-05:30');
    expect(formatOffset(345)).toBe('+05:45');
  });

  it('adds seconds and the offset to a datetime-local value', () => {
    expect(isoWithOffset('2030-01-31T09:00', 60)).toBe('2030-01-31T09:00:00+01:00');
    expect(isoWithOffset('2030-01-31T09:00:15', -300)).toBe('2030-01-31T09:00:15-05:00');
  });

  it('refuses what is not a date and time, so the API is never sent a time without a zone by accident', () => {
    expect(isoWithOffset('', 0)).toBeUndefined();
    expect(isoWithOffset('2030-01-31', 0)).toBeUndefined();
    expect(isoWithOffset('tomorrow 9am', 0)).toBeUndefined();
  });

  it('fills the input with a wall-clock time in the chosen zone', () => {
    const now = new Date('2030-01-31T08:00:00Z');
    expect(localInputValue(now, 60, 0)).toBe('2030-01-31T09:00');
    expect(localInputValue(now, 60, 120)).toBe('2030-01-31T11:00');
    expect(localInputValue(now, 0, -600)).toBe('2030-01-30T22:00');
  });
});
