import {
  type CompiledFlag,
  type CompiledRevision,
  type CompiledSegment,
  type CompiledSegmentEntry,
  compileFlag,
  compileSegmentFlag,
  EmptyFlagDataException,
  type FlagRef,
  FlagTypeMismatchError,
  type ProjectSnapshotFlag,
  type SegmentLookup,
  VALUE_FLAG_TYPES,
  type VexilError,
} from '@vexil/core';
import type { FlagStore } from '@vexil/store';
import { LRUCache } from 'lru-cache';
import { nested } from './nested-map.js';
import type { StoreHealth } from './store-health.js';
import { refLabel } from './views.js';
import { withTimeout } from './with-timeout.js';

/**
 * A flag's (or a segment's) newest revision as read from the store, compiled once: the
 * one entry that `/get-feature-flag`, OFREP and the project snapshots all answer
 * from. Every entry has the same fields, filled or undefined, so the evaluation hot
 * path reads them from one object shape without asking which kind it holds.
 */
export interface CachedFlag {
  /** The cache key, `project#flagType#name`. */
  readonly key: string;
  /** The newest revision as stored, in the snapshot's form; undefined: the flag has no revision. */
  readonly flag: ProjectSnapshotFlag | undefined;
  /** `compileFlag` of a flag (compiled, archived or invalid), `compileSegmentFlag` of a segment. */
  readonly compiled: CompiledFlag | CompiledSegmentEntry | undefined;
  /** What `/get-feature-flag` evaluates (archived revisions too: they throw the documented error). */
  readonly revision: CompiledRevision | undefined;
  /** A segment's membership, what rules that name it ask; undefined for flags and for segments that do not validate. */
  readonly segment: CompiledSegment | undefined;
  /** What `/get-feature-flag` answers with when there is no `revision`: no revision, or one that does not validate. */
  readonly error: VexilError | undefined;
  /** The revision's time; '' without one. */
  readonly wtime: string;
  /** When the store last confirmed this entry (ms since the epoch). */
  fetchedAt: number;
}

/** A cache entry that belongs in a project snapshot: the flag has a revision. */
export type SnapshotEntry = CachedFlag & {
  readonly flag: ProjectSnapshotFlag;
  readonly compiled: CompiledFlag | CompiledSegmentEntry;
};

export function hasRevision(entry: CachedFlag): entry is SnapshotEntry {
  return entry.flag !== undefined;
}

export interface FlagCacheOptions {
  /** How long an entry answers without asking the store again; 0 turns the cache off. */
  ttlMs: number;
  /** Entries kept at most (least recently used go first). */
  size: number;
  /** A store call slower than this fails (504). */
  storeTimeoutMs: number;
  /** Told of every store read's outcome; while reads fail, flags read before are served from their last data. */
  health?: StoreHealth | undefined;
}

/** A flag that does not exist yet is remembered only briefly, so a new flag is served promptly. */
const MISSING_TTL_MS = 1000;
/**
 * While the store does not answer, a flag served from its last data is asked of the
 * store again at most this often: the requests in between are answered from the
 * cache at once instead of each waiting for the store's timeout.
 */
const STALE_RETRY_MS = 1000;

/**
 * The server's one cache of compiled flags, by flag: the runbook system's flag-data
 * cache (TTL minutes, LRU-bounded). Concurrent misses for one flag share a single
 * store read. Project snapshots are views over its entries and pin the ones they
 * hold: an entry the LRU evicted comes back from its pin, without a store read, for
 * the rest of its TTL, and a revision read again is not compiled again.
 */
export class FlagCache {
  private readonly entries: LRUCache<string, CachedFlag> | undefined;
  private readonly loading = new Map<string, Promise<CachedFlag>>();
  /** Entries held by project snapshots, by key (one holder per key: the flag's project). */
  private readonly pinned = new Map<string, CachedFlag>();
  private readonly keys = new CacheKeys();
  /**
   * The last data read of every flag and segment that had a revision, kept whatever
   * the LRU and the TTL say: what is served while the store does not answer. As
   * bounded as the store (only real flags get here; the store never deletes one).
   */
  private readonly lastKnown = new Map<string, CachedFlag>();

  constructor(
    private readonly store: FlagStore,
    private readonly options: FlagCacheOptions,
  ) {
    this.entries =
      options.ttlMs > 0
        ? // Staleness to 100 ms is plenty for TTLs of seconds and minutes; the default (1 ms)
          // reads the clock and arms a timer every millisecond under load.
          new LRUCache({ max: options.size, ttl: options.ttlMs, ttlResolution: 100 })
        : undefined;
  }

  /** Whether entries are kept at all (a TTL of 0 reads the store for every evaluation). */
  get enabled(): boolean {
    return this.entries !== undefined;
  }

  /** The ref's cache key, made once per ref (see CacheKeys). */
  keyOf(ref: FlagRef): string {
    return this.keys.of(ref);
  }

  /** The entry under `key` if the cache holds it, synchronously: the evaluation hot path. */
  peek(key: string): CachedFlag | undefined {
    return this.entries?.get(key);
  }

  /** The ref's entry: from the cache, else from its pin while fresh, else read from the store. */
  get(ref: FlagRef): CachedFlag | Promise<CachedFlag> {
    const key = this.keys.of(ref);
    return this.entries?.get(key) ?? this.load(ref, key);
  }

  /** The ref's entry after a cache miss: from its pin while fresh, else read from the store. */
  load(ref: FlagRef, key: string): Promise<CachedFlag> {
    const held = this.pinned.get(key);
    if (held !== undefined && this.entries !== undefined) {
      const left = held.fetchedAt + this.options.ttlMs - Date.now();
      if (left > 0) {
        this.entries.set(key, held, { ttl: left });
        return Promise.resolve(held);
      }
    }
    return this.fetch(ref, key);
  }

  /** The ref's entry read from the store now (or by a read already under way), and cached. */
  fetch(ref: FlagRef, key = this.keys.of(ref)): Promise<CachedFlag> {
    let pending = this.loading.get(key);
    if (pending === undefined) {
      const read = this.read(ref, key).then(
        (entry) => {
          this.options.health?.answered();
          this.remember(entry);
          // A read that began before an invalidation answers its own callers but is not kept.
          if (this.loading.get(key) === pending) this.keep(entry);
          return entry;
        },
        (error: unknown) => {
          this.options.health?.failed(error);
          const known = this.lastKnown.get(key);
          if (known === undefined) throw error;
          // Served from its last data; asked of the store again shortly.
          this.entries?.set(key, known, { ttl: Math.min(STALE_RETRY_MS, this.options.ttlMs) });
          return known;
        },
      );
      pending = read.finally(() => {
        if (this.loading.get(key) === pending) this.loading.delete(key);
      });
      this.loading.set(key, pending);
    }
    return pending;
  }

  /**
   * The project's segments named by a revision's rules, as the lookup evaluation asks:
   * from the cache, read from the store where it does not hold them (synchronously
   * when it holds them all). A name without a segment that validates looks up
   * nothing, so conditions on it do not hold.
   */
  segments(project: string, names: readonly string[]): SegmentLookup | Promise<SegmentLookup> {
    const found = new Map<string, CompiledSegment | undefined>();
    let reads: Promise<void>[] | undefined;
    for (const name of names) {
      const ref: FlagRef = { project, flagType: 'segment', name };
      const key = this.keys.of(ref);
      const cached = this.entries?.get(key);
      if (cached !== undefined) found.set(name, cached.segment);
      else {
        reads ??= [];
        reads.push(this.load(ref, key).then((entry) => void found.set(name, entry.segment)));
      }
    }
    const lookup: SegmentLookup = (name) => found.get(name);
    return reads === undefined ? lookup : Promise.all(reads).then(() => lookup);
  }

  /** Drops the flag's entry (a pinned one stays in its snapshot but is read again when next asked for). */
  invalidate(ref: FlagRef): void {
    const key = cacheKey(ref);
    this.entries?.delete(key);
    this.loading.delete(key);
    const held = this.pinned.get(key);
    if (held !== undefined) held.fetchedAt = 0;
  }

  invalidateAll(): void {
    this.entries?.clear();
    this.loading.clear();
    for (const held of this.pinned.values()) held.fetchedAt = 0;
  }

  /** Keeps `entry` for a project snapshot that holds it, replacing the one it held before. */
  pin(entry: CachedFlag): void {
    this.pinned.set(entry.key, entry);
  }

  /** Lets `entry` go when no snapshot holds it any more. */
  unpin(entry: CachedFlag): void {
    if (this.pinned.get(entry.key) === entry) this.pinned.delete(entry.key);
  }

  /** Whether any flag has data to be served from while the store does not answer. */
  get servesLastKnown(): boolean {
    return this.lastKnown.size > 0;
  }

  /**
   * The last data read of the project's flags and segments that had a revision (the
   * store may not be answering): what a project snapshot is made of when the store
   * cannot list the project.
   */
  lastKnownOf(project: string): SnapshotEntry[] {
    const prefix = `${project}#`;
    const found: SnapshotEntry[] = [];
    for (const [key, entry] of this.lastKnown) {
      if (key.startsWith(prefix) && hasRevision(entry)) found.push(entry);
    }
    return found;
  }

  /** Keeps the entry as the flag's last known data, unless a newer revision is known already. */
  private remember(entry: CachedFlag): void {
    if (entry.flag === undefined) return;
    const known = this.lastKnown.get(entry.key);
    if (known === undefined || known.wtime <= entry.wtime) this.lastKnown.set(entry.key, entry);
  }

  private keep(entry: CachedFlag): void {
    if (this.entries === undefined) return;
    if (entry.flag === undefined)
      this.entries.set(entry.key, entry, { ttl: Math.min(MISSING_TTL_MS, this.options.ttlMs) });
    else this.entries.set(entry.key, entry);
  }

  private async read(ref: FlagRef, key: string): Promise<CachedFlag> {
    const row = await withTimeout(
      this.store.latest('REVISION', ref),
      this.options.storeTimeoutMs,
      () => `reading ${refLabel(ref)}`,
    );
    const fetchedAt = Date.now();
    if (row === undefined) {
      return this.entryOf(key, undefined, undefined, undefined, undefined, await this.missing(ref), fetchedAt);
    }
    // The revision read again: the entry compiled from it stays the one entry of that revision.
    const known = this.entries?.peek(key, { allowStale: true }) ?? this.pinned.get(key);
    if (known !== undefined && known.flag !== undefined && known.wtime === row.wtime) {
      known.fetchedAt = fetchedAt;
      return known;
    }
    const flag: ProjectSnapshotFlag = {
      name: ref.name,
      flagType: ref.flagType,
      wtime: row.wtime,
      revision: row.fields,
    };
    // Rows may come from other tools: checked as stored data (a bad row is a 500, or the runbook's 400s).
    if (ref.flagType === 'segment') {
      const segment = compileSegmentFlag(flag);
      return segment.state === 'invalid'
        ? this.entryOf(key, flag, segment, undefined, undefined, segment.error, fetchedAt)
        : this.entryOf(key, flag, segment, undefined, segment.segment, segmentNotAFlag(ref), fetchedAt);
    }
    const compiled = compileFlag(flag);
    // An archived revision stays compiled: its evaluate() throws the documented EmptyFlagDataException.
    return compiled.state === 'invalid'
      ? this.entryOf(key, flag, compiled, undefined, undefined, compiled.error, fetchedAt)
      : this.entryOf(key, flag, compiled, compiled.compiled, undefined, undefined, fetchedAt);
  }

  /** Why a flag has no revision to answer from: it exists with another type (said so), or not at all. */
  private async missing(ref: FlagRef): Promise<VexilError> {
    const notFound = new EmptyFlagDataException(
      `no revision of flag ${refLabel(ref)}; check the project, type and name`,
      { field: 'flag_name' },
    );
    if (ref.flagType === 'segment') return notFound;
    const others = VALUE_FLAG_TYPES.filter((type) => type !== ref.flagType);
    const rows = await Promise.all(
      others.map((flagType) =>
        withTimeout(
          this.store.latest('FLAG', { ...ref, flagType }),
          this.options.storeTimeoutMs,
          () => `reading ${refLabel({ ...ref, flagType })}`,
        ),
      ),
    );
    const other = others.find((_, i) => rows[i] !== undefined);
    return other === undefined ? notFound : new FlagTypeMismatchError(ref.name, ref.flagType, other, 'http');
  }

  /** Every entry made here, with its fields in one order: one object shape for the hot path. */
  private entryOf(
    key: string,
    flag: ProjectSnapshotFlag | undefined,
    compiled: CompiledFlag | CompiledSegmentEntry | undefined,
    revision: CompiledRevision | undefined,
    segment: CompiledSegment | undefined,
    error: VexilError | undefined,
    fetchedAt: number,
  ): CachedFlag {
    return {
      key,
      flag,
      compiled,
      revision,
      segment,
      error,
      wtime: flag?.wtime ?? '',
      fetchedAt,
    };
  }
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

/** What `/get-feature-flag` answers when asked to evaluate a segment. */
function segmentNotAFlag(ref: FlagRef): VexilError {
  return new EmptyFlagDataException(
    `${ref.name} in project ${ref.project} is a segment, not a flag: segments are used by flags' rules, not evaluated`,
    { field: 'flag_type' },
  );
}
