import type { EvaluationResult, FlagRef } from '@vexil/core';
import type { FlagStore } from '@vexil/store';
import { type CachedFlag, FlagCache } from './flag-cache.js';
import type { ServiceMetrics } from './metrics.js';

export interface FlagEvaluatorOptions {
  /** 0 turns the flag-data cache off. */
  flagCacheTtlMs: number;
  flagCacheSize: number;
  storeTimeoutMs: number;
  metrics?: ServiceMetrics | undefined;
}

export interface FlagEvaluation extends EvaluationResult {
  /** Whether the flag data came from the cache (the log's CacheFlag). */
  cacheHit: boolean;
  /** WTIME of the revision that answered. */
  revision: string;
}

/**
 * Answers evaluations from the store through the runbook system's flag-data cache (by
 * flag, TTL minutes, LRU-bounded: the server's one cache of compiled flags, which the
 * project snapshots and OFREP share). Instance ids are hashed on every evaluation: that
 * costs less than the runbook system's hash cache would (docs/perf-history.md).
 */
export class FlagEvaluator {
  /** The flag cache: also what project snapshots are made of. */
  readonly flags: FlagCache;
  /** Whether the flag cache is on, read once: the hot path asks on every evaluation. */
  private readonly cacheOn: boolean;
  private readonly metrics: ServiceMetrics | undefined;

  constructor(store: FlagStore, options: FlagEvaluatorOptions) {
    this.metrics = options.metrics;
    this.flags = new FlagCache(store, {
      ttlMs: options.flagCacheTtlMs,
      size: options.flagCacheSize,
      storeTimeoutMs: options.storeTimeoutMs,
    });
    this.cacheOn = this.flags.enabled;
  }

  /**
   * Evaluates from the flag cache when it holds the flag (synchronously: no promise
   * on the hot path), else once the store has answered. Errors are thrown, or
   * rejected when the store was read.
   */
  evaluate(ref: FlagRef, instanceId: string): FlagEvaluation | Promise<FlagEvaluation> {
    const flags = this.flags;
    const key = flags.keyOf(ref);
    const cached = flags.peek(key);
    if (this.cacheOn) this.metrics?.cacheHits.flag[cached === undefined ? 'miss' : 'hit'].inc();
    if (cached !== undefined) return answer(cached, instanceId, true);
    return flags.load(ref, key).then((loaded) => answer(loaded, instanceId, false));
  }

  /** Drops a flag's cached data, so the next evaluation reads the store. */
  invalidate(ref: FlagRef): void {
    this.flags.invalidate(ref);
  }

  invalidateAll(): void {
    this.flags.invalidateAll();
  }
}

function answer(entry: CachedFlag, instanceId: string, cacheHit: boolean): FlagEvaluation {
  const revision = entry.revision;
  if (revision === undefined) throw entry.error;
  const result = revision.evaluate(instanceId);
  return { value: result.value, group: result.group, cacheHit, revision: entry.wtime };
}
