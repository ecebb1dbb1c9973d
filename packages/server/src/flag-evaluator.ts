import {
  type CompiledRevision,
  compileFlag,
  EmptyFlagDataException,
  type EvaluationResult,
  type FlagRef,
  FlagTypeMismatchError,
  type InstanceDigest,
  TimeoutError,
  type VexilError,
} from '@vexil/core';
import type { FlagStore } from '@vexil/store';
import { LRUCache } from 'lru-cache';
import { HashCache } from './hash-cache.js';
import type { ServiceMetrics } from './metrics.js';
import { nested } from './nested-map.js';
import { refLabel } from './views.js';

export interface FlagEvaluatorOptions {
  /** 0 turns the flag-data cache off. */
  flagCacheTtlMs: number;
  flagCacheSize: number;
  /** 0 turns the hash cache off. */
  hashCacheTtlMs: number;
  hashCacheSize: number;
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
 * What a flag lookup found: a revision ready to evaluate (with its ids' digests
 * looked up in the hash cache when that is on), or the error it answers with.
 */
type Loaded = { compiled: CompiledRevision; digest: InstanceDigest | undefined; wtime: string } | { error: VexilError };

/** A flag that does not exist yet is remembered only briefly, so a new flag is served promptly. */
const MISSING_TTL_MS = 1000;

/**
 * Answers evaluations from the store through the runbook system's two caches: flag
 * data by flag (TTL minutes) and instance-id hashes (TTL days). Both are LRU-bounded.
 * Concurrent misses for one flag share a single store read.
 */
export class FlagEvaluator {
  private readonly flags: LRUCache<string, Loaded> | undefined;
  private readonly loading = new Map<string, Promise<Loaded>>();
  private readonly keys = new CacheKeys();
  private readonly hashes: HashCache | undefined;
  private readonly metrics: ServiceMetrics | undefined;

  constructor(
    private readonly store: FlagStore,
    private readonly options: FlagEvaluatorOptions,
  ) {
    this.metrics = options.metrics;
    this.flags =
      options.flagCacheTtlMs > 0
        ? // Staleness to 100 ms is plenty for TTLs of seconds and minutes; the default (1 ms)
          // reads the clock and arms a timer every millisecond under load.
          new LRUCache({ max: options.flagCacheSize, ttl: options.flagCacheTtlMs, ttlResolution: 100 })
        : undefined;
    const hashLookups = options.metrics?.cacheHits.hash;
    this.hashes =
      options.hashCacheTtlMs > 0
        ? new HashCache({
            maxEntries: options.hashCacheSize,
            ttlMs: options.hashCacheTtlMs,
            onLookup: hashLookups && ((hit) => hashLookups[hit ? 'hit' : 'miss'].inc()),
          })
        : undefined;
  }

  /**
   * Evaluates from the flag cache when it holds the flag (synchronously: no promise
   * on the hot path), else once the store has answered. Errors are thrown, or
   * rejected when the store was read.
   */
  evaluate(ref: FlagRef, instanceId: string): FlagEvaluation | Promise<FlagEvaluation> {
    const key = this.keys.of(ref);
    const cached = this.flags?.get(key);
    if (this.flags) this.metrics?.cacheHits.flag[cached === undefined ? 'miss' : 'hit'].inc();
    if (cached !== undefined) return answer(cached, instanceId, true);
    return this.load(ref, key).then((loaded) => answer(loaded, instanceId, false));
  }

  /** Drops a flag's cached data, so the next evaluation reads the store. */
  invalidate(ref: FlagRef): void {
    this.flags?.delete(cacheKey(ref));
  }

  invalidateAll(): void {
    this.flags?.clear();
  }

  private load(ref: FlagRef, key: string): Promise<Loaded> {
    let pending = this.loading.get(key);
    if (pending === undefined) {
      pending = this.read(ref, key).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async read(ref: FlagRef, key: string): Promise<Loaded> {
    const row = await withTimeout(
      this.store.latest('REVISION', ref),
      this.options.storeTimeoutMs,
      () => `reading ${refLabel(ref)}`,
    );
    let loaded: Loaded;
    if (row === undefined) {
      loaded = { error: await this.missing(ref) };
      this.flags?.set(key, loaded, { ttl: Math.min(MISSING_TTL_MS, this.options.flagCacheTtlMs) });
      return loaded;
    }
    // Rows may come from other tools: checked as stored data (a bad row is a 500, or the runbook's 400s).
    const flag = compileFlag({ flagType: ref.flagType, name: ref.name, revision: row.fields });
    // An archived revision stays compiled: its evaluate() throws the documented EmptyFlagDataException.
    loaded =
      flag.state === 'invalid'
        ? { error: flag.error }
        : { compiled: flag.compiled, digest: this.hashes?.digestFor(flag.compiled), wtime: row.wtime };
    this.flags?.set(key, loaded);
    return loaded;
  }

  /** Why a flag has no revision to answer from: it exists with the other type (said so), or not at all. */
  private async missing(ref: FlagRef): Promise<VexilError> {
    const other = ref.flagType === 'feature' ? 'data' : 'feature';
    const flag = await withTimeout(
      this.store.latest('FLAG', { ...ref, flagType: other }),
      this.options.storeTimeoutMs,
      () => `reading ${refLabel({ ...ref, flagType: other })}`,
    );
    if (flag !== undefined) return new FlagTypeMismatchError(ref.name, ref.flagType, other, 'http');
    return new EmptyFlagDataException(`no revision of flag ${refLabel(ref)}; check the project, type and name`, {
      field: 'flag_name',
    });
  }
}

function answer(loaded: Loaded, instanceId: string, cacheHit: boolean): FlagEvaluation {
  if ('error' in loaded) throw loaded.error;
  const result = loaded.compiled.evaluate(instanceId, loaded.digest);
  return { value: result.value, group: result.group, cacheHit, revision: loaded.wtime };
}

/** Keys kept at most by CacheKeys before it starts over: request parameters are not trusted to be few. */
const MAX_INTERNED_KEYS = 100_000;

/**
 * The flag cache's key of each ref, made once: a key concatenated per request had to
 * be flattened and hashed again on every lookup, which showed in the profile. Looking
 * the three parts up in nested maps hashes short strings and allocates nothing.
 */
class CacheKeys {
  private readonly byProject = new Map<string, Map<string, Map<string, string>>>();
  private count = 0;

  of(ref: FlagRef): string {
    const byName = nested(nested(this.byProject, ref.project), ref.flagType);
    let key = byName.get(ref.name);
    if (key === undefined) {
      if (++this.count > MAX_INTERNED_KEYS) {
        this.byProject.clear();
        this.count = 0;
      }
      key = cacheKey(ref);
      byName.set(ref.name, key);
    }
    return key;
  }
}

function cacheKey(ref: FlagRef): string {
  return `${ref.project}#${ref.flagType}#${ref.name}`;
}

export function withTimeout<T>(work: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`Timeout error occurred for : ${what()} (no answer after ${ms} ms)`)),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
