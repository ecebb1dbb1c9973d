import type { CompiledRevision, InstanceDigest } from '@vexil/core';

export interface HashCacheOptions {
  /** Digests kept at most, over all hash scopes. */
  maxEntries: number;
  ttlMs: number;
  /** Counts each lookup; called on the hot path, so keep it cheap. */
  onLookup?: ((hit: boolean) => void) | undefined;
  now?: () => number;
}

/** Words of the longest digest (sha256); every slot has room for it. */
const SLOT_WORDS = 8;
/**
 * UTF-16 code units of the longest id cached (a UUID has 36). Ids are copied into the
 * table: keeping the request's string would keep the whole request URL it was cut
 * from, up to 100,000 times. Longer ids are hashed every time.
 */
const MAX_ID_UNITS = 48;
/** Per slot in `tags`: scope number (0: empty), the id's 32-bit hash, the id's length. */
const TAGS = 3;
const INITIAL_SLOTS = 1024;

/**
 * The runbook system's instance-id hash cache (PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS),
 * written by hand: an md5 of a short id costs a few hundred nanoseconds here, so a
 * cache only pays if a lookup costs less. A general LRU did not (a key string
 * concatenated per lookup, per-entry bookkeeping, garbage on every miss). This is a
 * two-way set-associative table in flat typed arrays: an id and its hash scope
 * (algorithm and salt, numbered once per compiled revision) pick a pair of slots; a
 * hit copies the stored words out, a miss replaces the less recently used slot of the
 * pair. Ids are kept as code units, not strings (see MAX_ID_UNITS). No
 * allocation per lookup, at most `maxEntries` slots (grown from a small table as it
 * thrashes), and each slot remembers when it was computed, so nothing is served past
 * the TTL.
 */
export class HashCache {
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly onLookup: ((hit: boolean) => void) | undefined;
  private readonly scopeNumbers = new Map<string, number>();
  private capacity: number;
  /** Fresh digests replaced by others since the table last grew: the sign that it is too small. */
  private evictions = 0;
  private useCounter = 0;
  /** Per slot, the id's code units. */
  private ids: Uint16Array;
  /** Per slot, side by side so that a miss reads one cache line (see TAGS); compared before the id itself is. */
  private tags: Int32Array;
  /** Per slot: when the digest was computed, and its last use (a counter; the pair's less recent one is replaced). */
  private stamps: Float64Array;
  private words: Uint32Array;

  constructor(options: HashCacheOptions) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs;
    this.maxEntries = Math.max(1, options.maxEntries);
    this.onLookup = options.onLookup;
    this.capacity = Math.min(this.maxEntries, INITIAL_SLOTS);
    this.ids = new Uint16Array(this.capacity * MAX_ID_UNITS);
    this.tags = new Int32Array(this.capacity * TAGS);
    this.stamps = new Float64Array(this.capacity * 2);
    this.words = new Uint32Array(this.capacity * SLOT_WORDS);
  }

  /** The digest function for one compiled revision: its ids looked up here, computed by it on a miss. */
  digestFor(compiled: CompiledRevision): InstanceDigest {
    let scope = this.scopeNumbers.get(compiled.hashScope);
    if (scope === undefined) {
      scope = this.scopeNumbers.size + 1;
      this.scopeNumbers.set(compiled.hashScope, scope);
    }
    const tag = scope;
    const length = compiled.digest('').length;
    // Evaluation is synchronous and reads the words at once, like core's own digest buffer.
    const out = new Uint32Array(length);
    return (instanceId) => {
      if (instanceId.length > MAX_ID_UNITS) {
        this.onLookup?.(false);
        return compiled.digest(instanceId);
      }
      const now = this.now();
      const hash = idHash(instanceId, tag);
      const slot = this.find(instanceId, tag, hash, now);
      this.onLookup?.(slot >= 0);
      if (slot >= 0) {
        this.stamps[slot * 2 + 1] = ++this.useCounter;
        const base = slot * SLOT_WORDS;
        for (let w = 0; w < length; w++) out[w] = this.words[base + w]!;
        return out;
      }
      const digest = compiled.digest(instanceId);
      if (this.evictions >= this.capacity / 4 && this.capacity < this.maxEntries) this.grow();
      this.store(instanceId, tag, hash, digest, 0, now, ++this.useCounter);
      return digest;
    };
  }

  /** Digests held and not yet past the TTL. */
  get size(): number {
    const now = this.now();
    let size = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      if (this.tags[slot * TAGS] !== 0 && now - this.stamps[slot * 2]! < this.ttlMs) size++;
    }
    return size;
  }

  /** The slot holding a fresh digest of `id` in scope `tag`, or -1. */
  private find(id: string, tag: number, hash: number, now: number): number {
    const first = this.pairOf(hash);
    const end = Math.min(first + 2, this.capacity);
    for (let slot = first; slot < end; slot++) {
      if (this.holds(slot, id, tag, hash)) return now - this.stamps[slot * 2]! < this.ttlMs ? slot : -1;
    }
    return -1;
  }

  private holds(slot: number, id: string, tag: number, hash: number): boolean {
    const t = slot * TAGS;
    if (this.tags[t + 1] !== hash || this.tags[t] !== tag || this.tags[t + 2] !== id.length) return false;
    const base = slot * MAX_ID_UNITS;
    for (let i = 0; i < id.length; i++) if (this.ids[base + i] !== id.charCodeAt(i)) return false;
    return true;
  }

  /** Files `words[from … from + digest length]` as the digest of `id` in scope `tag`. */
  private store(
    id: string,
    tag: number,
    hash: number,
    words: Uint32Array,
    from: number,
    computed: number,
    used: number,
  ): void {
    const first = this.pairOf(hash);
    const second = first + 1;
    let slot = first;
    // The slot already holding this id (expired), else an empty one, else the less recently used.
    if (second < this.capacity && !this.holds(first, id, tag, hash)) {
      if (
        this.holds(second, id, tag, hash) ||
        (this.tags[first * TAGS] !== 0 &&
          (this.tags[second * TAGS] === 0 || this.stamps[second * 2 + 1]! < this.stamps[first * 2 + 1]!))
      ) {
        slot = second;
      }
    }
    if (
      this.tags[slot * TAGS] !== 0 &&
      !this.holds(slot, id, tag, hash) &&
      computed - this.stamps[slot * 2]! < this.ttlMs
    ) {
      this.evictions++;
    }
    const idBase = slot * MAX_ID_UNITS;
    for (let i = 0; i < id.length; i++) this.ids[idBase + i] = id.charCodeAt(i);
    this.tags[slot * TAGS] = tag;
    this.tags[slot * TAGS + 1] = hash;
    this.tags[slot * TAGS + 2] = id.length;
    this.stamps[slot * 2] = computed;
    this.stamps[slot * 2 + 1] = used;
    const base = slot * SLOT_WORDS;
    for (let w = 0; w < SLOT_WORDS && from + w < words.length; w++) this.words[base + w] = words[from + w]!;
  }

  private pairOf(hash: number): number {
    return ((hash >>> 0) % this.capacity) & ~1;
  }

  private grow(): void {
    const { ids, tags, stamps, words } = this;
    const old = this.capacity;
    this.capacity = Math.min(this.maxEntries, old * 2);
    this.ids = new Uint16Array(this.capacity * MAX_ID_UNITS);
    this.tags = new Int32Array(this.capacity * TAGS);
    this.stamps = new Float64Array(this.capacity * 2);
    this.words = new Uint32Array(this.capacity * SLOT_WORDS);
    for (let slot = 0; slot < old; slot++) {
      const tag = tags[slot * TAGS]!;
      if (tag === 0) continue;
      const from = slot * MAX_ID_UNITS;
      this.store(
        String.fromCharCode(...ids.subarray(from, from + tags[slot * TAGS + 2]!)),
        tag,
        tags[slot * TAGS + 1]!,
        words,
        slot * SLOT_WORDS,
        stamps[slot * 2]!,
        stamps[slot * 2 + 1]!,
      );
    }
    this.evictions = 0;
  }
}

/** FNV-1a over the UTF-16 code units, seeded by the scope, so one id spreads differently per scope. */
function idHash(id: string, tag: number): number {
  let hash = 0x811c9dc5 ^ Math.imul(tag, 0x9e3779b1);
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash;
}
