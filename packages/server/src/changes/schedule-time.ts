import { InvalidInputError, parseInstant } from '@vexil/core';

/**
 * A schedule's time: ISO 8601 / RFC 3339 with a zone (`Z` or `±HH:MM`), strictly
 * after `nowMs`. A time without a zone is refused rather than read in the server's
 * zone, which the caller cannot see. Answers milliseconds since the epoch.
 */
export function parseScheduleTime(value: unknown, nowMs: number, field = 'at'): number {
  const example = new Date(nowMs + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  if (typeof value !== 'string' || value === '') {
    throw new InvalidInputError(`${field} is required: when the revision takes effect, e.g. ${example}`, { field });
  }
  const instant = value.length > 10 ? parseInstant(value) : undefined;
  if (instant === undefined) {
    throw new InvalidInputError(
      `${field} ${JSON.stringify(value)} is not an ISO 8601 time with a zone: write e.g. ${example} or 2030-01-31T09:00:00+01:00`,
      { field, hint: 'a time without a zone (Z or ±HH:MM) is refused: the server cannot know which zone you meant' },
    );
  }
  const ms = instant.seconds * 1000 + Number(instant.fraction.slice(0, 3).padEnd(3, '0'));
  if (ms <= nowMs) {
    throw new InvalidInputError(
      `${field} ${value} is not in the future (it is now ${new Date(nowMs).toISOString()}): a scheduled revision takes effect later; write the revision directly to change the flag now`,
      { field },
    );
  }
  return ms;
}
