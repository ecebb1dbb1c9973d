import { formatWTime } from '@vexil/core';

/** The current time as a WTIME (UTC `YYYY-MM-DD HH:MM:SS.ffffff`), to the microsecond. */
export function nowWTime(): string {
  return formatWTime(Math.floor((performance.timeOrigin + performance.now()) * 1000));
}
