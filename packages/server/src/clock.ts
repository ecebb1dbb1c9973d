import { formatWTime } from '@vexil/core';

// Read once: `performance.timeOrigin` is a getter that showed in the service's profile.
const ORIGIN_MS = performance.timeOrigin;

/** The current time as a WTIME (UTC `YYYY-MM-DD HH:MM:SS.ffffff`), to the microsecond. */
export function nowWTime(): string {
  return formatWTime(Math.floor((ORIGIN_MS + performance.now()) * 1000));
}
