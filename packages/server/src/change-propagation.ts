import type { FlagChange, FlagStore, StopWatching } from '@vexil/store';
import type { LogSink } from './evaluation-log.js';
import type { FlagEvaluator } from './flag-evaluator.js';

/**
 * Keeps the flag-data cache honest across replicas: every row appended to the store
 * (by this process, another replica, or the CLI) drops that flag's cached data, so
 * the next evaluation reads the new revision. The cache TTL stays the upper bound
 * for writers that bypass the change marker. The same (single) watch also feeds
 * `listeners`, such as the project snapshots behind the SDK change stream.
 */
export function propagateChanges(
  store: FlagStore,
  evaluator: FlagEvaluator,
  options: {
    intervalMs: number;
    logger?: LogSink | undefined;
    listeners?: readonly ((changes: readonly FlagChange[]) => void)[];
  },
): StopWatching {
  let failing = false;
  return store.watch(
    (changes) => {
      failing = false;
      for (const change of changes) evaluator.invalidate(change.ref);
      for (const listener of options.listeners ?? []) {
        try {
          listener(changes);
        } catch (error) {
          options.logger?.error({ err: error }, 'change feed: a listener failed');
        }
      }
    },
    {
      intervalMs: options.intervalMs,
      onError: (error) => {
        // One line per outage, not one per poll.
        if (!failing)
          options.logger?.warn({ err: error }, 'change feed: cannot read changes; cached flags expire by TTL');
        failing = true;
      },
    },
  );
}
