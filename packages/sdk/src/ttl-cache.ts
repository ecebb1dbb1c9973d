/**
 * A small LRU cache whose entries expire after a TTL but are kept (until evicted) so a
 * failed refresh can still answer the last known value. A Map keeps insertion order,
 * which is the LRU order when each hit re-inserts its key; that is all lru-cache
 * would add here.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The entry for `key` (most recently used from now on), with whether it is still fresh. */
  get(key: string): { value: V; fresh: boolean } | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { value: entry.value, fresh: this.now() < entry.expires };
  }

  set(key: string, value: V): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
