import type { FlagChange, StopWatching, WatchOptions } from './flag-store.js';

export const DEFAULT_POLL_MS = 1000;

/**
 * The watch loop of engines without notifications: read the change marker every
 * `intervalMs` (never two reads at once), hand non-empty results to the listener.
 * `read` returns the changes since the previous call and keeps its own cursor.
 */
export function pollChanges(
  read: () => Promise<FlagChange[]>,
  listener: (changes: readonly FlagChange[]) => void,
  options: WatchOptions = {},
): StopWatching {
  const intervalMs = options.intervalMs ?? DEFAULT_POLL_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const tick = async () => {
    try {
      const changes = await read();
      if (!stopped && changes.length > 0) listener(changes);
    } catch (error) {
      if (!stopped) options.onError?.(error);
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalMs);
    timer.unref?.();
  };
  schedule();

  return async () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    await running;
  };
}
