/**
 * A time typed into a `datetime-local` input carries no zone; the API wants ISO 8601 with
 * one (docs/change-management.md), so the form says which zone it means and these add it.
 */

/** `+01:00` for 60, `-05:30` for -330, `Z` is never used so the offset stays visible. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${sign}${hh}:${mm}`;
}

const LOCAL = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/;

/** `2030-01-31T09:00` at offset 60 → `2030-01-31T09:00:00+01:00`; undefined when the input is not such a time. */
export function isoWithOffset(local: string, offsetMinutes: number): string | undefined {
  const match = LOCAL.exec(local.trim());
  if (match === null) return undefined;
  return `${match[1]}T${match[2]}${match[3] ?? ':00'}${formatOffset(offsetMinutes)}`;
}

/** The browser zone's offset from UTC, in minutes, at that wall-clock time (summer time counts). */
export function browserOffsetAt(local: string): number {
  const when = new Date(local.trim());
  return Number.isNaN(when.getTime()) ? -new Date().getTimezoneOffset() : -when.getTimezoneOffset();
}

/** A wall-clock time for a `datetime-local` input: `minutes` from `now`, in the zone at `offsetMinutes`. */
export function localInputValue(now: Date, minutes: number, offsetMinutes: number): string {
  const shifted = new Date(now.getTime() + (minutes + offsetMinutes) * 60_000);
  return shifted.toISOString().slice(0, 16);
}
