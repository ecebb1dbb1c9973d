import type { CompiledRevision, EvaluationResult, FlagRef, SegmentLookup } from '@vexil/core';
import type { FlagStore } from '@vexil/store';
import { type CachedFlag, FlagCache } from './flag-cache.js';
import type { ServiceMetrics } from './metrics.js';
import type { StoreHealth } from './store-health.js';

export interface FlagEvaluatorOptions {
  /** 0 turns the flag-data cache off. */
  flagCacheTtlMs: number;
  flagCacheSize: number;
  storeTimeoutMs: number;
  metrics?: ServiceMetrics | undefined;
  /** Told of every store read; while reads fail, flags read before are served from their last data. */
  health?: StoreHealth | undefined;
}

export interface FlagEvaluation extends EvaluationResult {
  /** Whether the flag data (and the segments its rules use) came from the cache (the log's CacheFlag). */
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
      health: options.health,
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
    if (cached !== undefined) return this.answer(ref, cached, instanceId, true);
    return flags.load(ref, key).then((loaded) => this.answer(ref, loaded, instanceId, false));
  }

  /** Drops a flag's cached data, so the next evaluation reads the store. */
  invalidate(ref: FlagRef): void {
    this.flags.invalidate(ref);
  }

  invalidateAll(): void {
    this.flags.invalidateAll();
  }

  /**
   * The entry's answer for `instanceId`, the context `{targetingKey: instanceId}`. A
   * revision whose rules name segments is evaluated with the project's segments from
   * the flag cache (once the store has answered for those it does not hold).
   */
  private answer(
    ref: FlagRef,
    entry: CachedFlag,
    instanceId: string,
    cacheHit: boolean,
  ): FlagEvaluation | Promise<FlagEvaluation> {
    const revision = entry.revision;
    if (revision === undefined) throw entry.error;
    // Archived revisions throw their documented error from evaluate(), whatever their rules.
    if (revision.segmentNames.length === 0 || revision.archived) {
      return evaluation(revision.evaluate(instanceId), cacheHit, entry.wtime);
    }
    const segments = this.flags.segments(ref.project, revision.segmentNames);
    if (segments instanceof Promise) {
      return segments.then((lookup) => withSegments(revision, instanceId, lookup, false, entry.wtime));
    }
    return withSegments(revision, instanceId, segments, cacheHit, entry.wtime);
  }
}

function withSegments(
  revision: CompiledRevision,
  instanceId: string,
  segments: SegmentLookup,
  cacheHit: boolean,
  wtime: string,
): FlagEvaluation {
  return evaluation(revision.evaluate(instanceId, undefined, segments), cacheHit, wtime);
}

function evaluation(result: EvaluationResult, cacheHit: boolean, revision: string): FlagEvaluation {
  return {
    value: result.value,
    group: result.group,
    cacheHit,
    revision,
  };
}
