import type { CompiledRevision, InstanceDigest } from '@vexil/core';

export interface HashCacheOptions {
  /** Entries kept at most, over all hash scopes. */
  maxEntries: number;
  ttlMs: number;
  /** Counts each lookup; called on the hot path, so keep it cheap. */
  onLookup?: ((hit: boolean) => void) | undefined;
  now?: () => number;
}

/**
 * The runbook system's instance-id hash cache (PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS),
 * written by hand because a general LRU cost more per evaluation than the md5 it
 * saves: it wants one key string (algorithm, salt and id concatenated) per lookup and
 * keeps per-entry TTL bookkeeping. Here digests are filed by hash scope (algorithm
 * and salt, resolved once per compiled revision) and then by the id as it came in,
 * in two generations: new digests go to the current one; when it holds half the
 * entries, or is half the TTL old, it becomes the previous one and the previous one
 * is dropped; a previous generation a whole TTL old is dropped too. So at most
 * `maxEntries` digests are held, and none is served longer than the TTL after it was
 * computed.
 */
export class HashCache {
  private current = new Map<string, Map<string, Uint32Array>>();
  private previous = new Map<string, Map<string, Uint32Array>>();
  private currentSize = 0;
  private currentSince: number;
  private previousSince: number;
  private readonly now: () => number;
  private readonly generationEntries: number;
  private readonly generationMs: number;

  constructor(private readonly options: HashCacheOptions) {
    this.now = options.now ?? Date.now;
    this.currentSince = this.now();
    this.previousSince = this.currentSince;
    this.generationEntries = Math.max(1, Math.floor(options.maxEntries / 2));
    this.generationMs = options.ttlMs / 2;
  }

  /** The digest function for one compiled revision: its ids looked up here, computed by it on a miss. */
  digestFor(compiled: CompiledRevision): InstanceDigest {
    const scope = compiled.hashScope;
    return (instanceId) => {
      this.expire(this.now());
      let words = this.current.get(scope)?.get(instanceId) ?? this.previous.get(scope)?.get(instanceId);
      this.options.onLookup?.(words !== undefined);
      if (words === undefined) {
        // The compiled revision's digest is a reused buffer: keep a copy.
        words = compiled.digest(instanceId).slice();
        this.store(scope, instanceId, words);
      }
      return words;
    };
  }

  get size(): number {
    let size = this.currentSize;
    for (const ids of this.previous.values()) size += ids.size;
    return size;
  }

  private store(scope: string, instanceId: string, words: Uint32Array): void {
    if (this.currentSize >= this.generationEntries) this.rotate(this.now());
    let ids = this.current.get(scope);
    if (ids === undefined) {
      ids = new Map();
      this.current.set(scope, ids);
    }
    ids.set(instanceId, words);
    this.currentSize++;
  }

  private expire(now: number): void {
    if (now - this.currentSince >= this.generationMs) this.rotate(now);
    if (now - this.previousSince >= this.options.ttlMs && this.previous.size > 0) this.previous = new Map();
  }

  private rotate(now: number): void {
    this.previous = this.current;
    this.previousSince = this.currentSince;
    this.current = new Map();
    this.currentSize = 0;
    this.currentSince = now;
  }
}
