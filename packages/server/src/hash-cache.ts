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
/**
 * A slot, in 32-bit words: scope number (0: empty), the id's 32-bit hash, the id's
 * length, one spare; when the digest was computed and its last use (a counter; the
 * pair's less recent one is replaced), as doubles; the digest; the id's code units,
 * two to a word. Everything but the id sits in the slot's first 64 bytes: a lookup
 * reads one cache line to rule a slot out and one more to compare the id.
 */
const TAG = 0;
const HASH = 1;
const LENGTH = 2;
const COMPUTED = 4;
const USED = 6;
const WORDS = 8;
const ID = WORDS + SLOT_WORDS;
const SLOT = ID + MAX_ID_UNITS / 2;
const INITIAL_SLOTS = 1024;

/** One table, seen as words, doubles and code units. */
class Slots {
  readonly ints: Int32Array;
  readonly words: Uint32Array;
  readonly doubles: Float64Array;
  readonly units: Uint16Array;

  constructor(readonly capacity: number) {
    const buffer = new ArrayBuffer(capacity * SLOT * 4);
    this.ints = new Int32Array(buffer);
    this.words = new Uint32Array(buffer);
    this.doubles = new Float64Array(buffer);
    this.units = new Uint16Array(buffer);
  }
}

/**
 * The runbook system's instance-id hash cache (PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS),
 * written by hand: an md5 of a short id costs a few hundred nanoseconds here, so a
 * cache only pays if a lookup costs less. A general LRU did not (a key string
 * concatenated per lookup, per-entry bookkeeping, garbage on every miss), nor did this
 * table with each field in an array of its own (a lookup touched four cache lines
 * far apart). This is a two-way set-associative table in one flat buffer: an id and
 * its hash scope (algorithm and salt, numbered once per compiled revision) pick a pair
 * of slots; a hit copies the stored words out, a miss replaces the less recently used
 * slot of the pair. Ids are kept as code units, not strings (see MAX_ID_UNITS). No
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
  private slots: Slots;
  /** Fresh digests replaced by others since the table last grew: the sign that it is too small. */
  private evictions = 0;
  private useCounter = 0;

  constructor(options: HashCacheOptions) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs;
    this.maxEntries = Math.max(1, options.maxEntries);
    this.onLookup = options.onLookup;
    this.slots = new Slots(Math.min(this.maxEntries, INITIAL_SLOTS));
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
        const { words, doubles } = this.slots;
        const base = slot * SLOT;
        doubles[(base + USED) / 2] = ++this.useCounter;
        for (let w = 0; w < length; w++) out[w] = words[base + WORDS + w]!;
        return out;
      }
      const digest = compiled.digest(instanceId);
      if (this.evictions >= this.slots.capacity / 4 && this.slots.capacity < this.maxEntries) this.grow();
      this.store(instanceId, tag, hash, digest, 0, now, ++this.useCounter);
      return digest;
    };
  }

  /** Digests held and not yet past the TTL. */
  get size(): number {
    const now = this.now();
    const { ints, doubles, capacity } = this.slots;
    let size = 0;
    for (let slot = 0; slot < capacity; slot++) {
      const base = slot * SLOT;
      if (ints[base + TAG] !== 0 && now - doubles[(base + COMPUTED) / 2]! < this.ttlMs) size++;
    }
    return size;
  }

  /** The slot holding a fresh digest of `id` in scope `tag`, or -1. */
  private find(id: string, tag: number, hash: number, now: number): number {
    const first = this.pairOf(hash);
    const end = Math.min(first + 2, this.slots.capacity);
    for (let slot = first; slot < end; slot++) {
      if (this.holds(slot, id, tag, hash)) {
        return now - this.slots.doubles[(slot * SLOT + COMPUTED) / 2]! < this.ttlMs ? slot : -1;
      }
    }
    return -1;
  }

  private holds(slot: number, id: string, tag: number, hash: number): boolean {
    const { ints, units } = this.slots;
    const base = slot * SLOT;
    if (ints[base + HASH] !== hash || ints[base + TAG] !== tag || ints[base + LENGTH] !== id.length) return false;
    const from = (base + ID) * 2;
    for (let i = 0; i < id.length; i++) if (units[from + i] !== id.charCodeAt(i)) return false;
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
    const { ints, doubles, units, capacity } = this.slots;
    const first = this.pairOf(hash);
    const second = first + 1;
    let slot = first;
    // The slot already holding this id (expired), else an empty one, else the less recently used.
    if (second < capacity && !this.holds(first, id, tag, hash)) {
      if (
        this.holds(second, id, tag, hash) ||
        (ints[first * SLOT + TAG] !== 0 &&
          (ints[second * SLOT + TAG] === 0 ||
            doubles[(second * SLOT + USED) / 2]! < doubles[(first * SLOT + USED) / 2]!))
      ) {
        slot = second;
      }
    }
    const base = slot * SLOT;
    if (
      ints[base + TAG] !== 0 &&
      !this.holds(slot, id, tag, hash) &&
      computed - doubles[(base + COMPUTED) / 2]! < this.ttlMs
    ) {
      this.evictions++;
    }
    const idFrom = (base + ID) * 2;
    for (let i = 0; i < id.length; i++) units[idFrom + i] = id.charCodeAt(i);
    ints[base + TAG] = tag;
    ints[base + HASH] = hash;
    ints[base + LENGTH] = id.length;
    doubles[(base + COMPUTED) / 2] = computed;
    doubles[(base + USED) / 2] = used;
    for (let w = 0; w < SLOT_WORDS && from + w < words.length; w++)
      this.slots.words[base + WORDS + w] = words[from + w]!;
  }

  private pairOf(hash: number): number {
    return ((hash >>> 0) % this.slots.capacity) & ~1;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Slots(Math.min(this.maxEntries, old.capacity * 2));
    for (let slot = 0; slot < old.capacity; slot++) {
      const base = slot * SLOT;
      const tag = old.ints[base + TAG]!;
      if (tag === 0) continue;
      const idFrom = (base + ID) * 2;
      this.store(
        String.fromCharCode(...old.units.subarray(idFrom, idFrom + old.ints[base + LENGTH]!)),
        tag,
        old.ints[base + HASH]!,
        old.words,
        base + WORDS,
        old.doubles[(base + COMPUTED) / 2]!,
        old.doubles[(base + USED) / 2]!,
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
