import {
  buildProjectSnapshot,
  type FlagRef,
  type FlagUpdate,
  type ProjectSnapshot,
  type ProjectSnapshotFlag,
  type SegmentLookup,
  segmentLookupOf,
} from '@vexil/core';
import type { FlagChange, FlagStore } from '@vexil/store';
import type { LogSink } from './evaluation-log.js';
import { type CachedFlag, FlagCache, hasRevision, type SnapshotEntry } from './flag-cache.js';
import type { StoreHealth } from './store-health.js';
import { refLabel } from './views.js';
import { withTimeout } from './with-timeout.js';

// The snapshot format, its version and the change event are the SDK protocol's, defined once in core.
export { type FlagUpdate, type ProjectSnapshot, snapshotVersion } from '@vexil/core';

export type UpdateListener = (update: FlagUpdate) => void;

export interface ProjectSnapshotsOptions {
  /** A store call slower than this fails (504). */
  storeTimeoutMs: number;
  /**
   * A snapshot read from the store longer ago than this is read again before it is
   * served (0: every time). The flag-cache TTL: the bound for writers that bypass
   * the change feed. Differences found are sent to subscribers as changes.
   */
  refreshMs: number;
  /**
   * The flag cache whose entries the snapshots are made of (the evaluator's, so that
   * one compiled entry serves /get-feature-flag, OFREP and the snapshot). By default
   * one of their own that keeps only what the snapshots hold.
   */
  flags?: FlagCache | undefined;
  /** Projects kept at most; the least recently asked for without subscribers go first. */
  maxProjects?: number;
  /** A project nobody asked for (and nobody streams) for this long is dropped. */
  idleMs?: number;
  /**
   * Told of every project read's outcome. While the store does not answer, a project
   * is served as last read (or, never read as a whole, from the flag cache's last data
   * of its flags), and read again in the background instead of on the request's time.
   */
  health?: StoreHealth | undefined;
  logger?: LogSink | undefined;
}

/** A project's snapshot with the flag-cache entries it is made of, in the same order. */
export interface ProjectView {
  readonly snapshot: ProjectSnapshot;
  /** `entries[i].flag` is `snapshot.flags[i]`; each entry's `compiled` is what evaluates it (segments included). */
  readonly entries: readonly SnapshotEntry[];
  /** The snapshot's segments, by name: what its flags' rules are evaluated with. */
  readonly segments: SegmentLookup;
}

interface Entry {
  project: string;
  /** The flag-cache entries of the project's listed flags that have a revision, by cache key. */
  flags: Map<string, SnapshotEntry>;
  view: ProjectView;
  /** When the oldest data in the snapshot was read from the store (0: read again before serving). */
  readAt: number;
  askedAt: number;
  listeners: Set<UpdateListener>;
  refreshing?: Promise<void> | undefined;
}

const DEFAULT_MAX_PROJECTS = 1000;
const DEFAULT_IDLE_MS = 10 * 60_000;
const SWEEP_MS = 30_000;
/** Store reads in flight at once while a project is read in full. */
const READ_CONCURRENCY = 16;

/**
 * Project snapshots for the SDK protocol and OFREP: views over the flag cache, each
 * a project's list of flags and segments (from the store) with the cache entries of
 * their newest revisions and a version. A snapshot pins its entries in the cache, so an evicted
 * entry does not leave it and comes back without a store read. The change feed
 * keeps them current: a change reads the flag's newest revision into the cache once,
 * updates the snapshot and its version, and is handed to every subscriber of the
 * project (the open change streams). Changes are applied one batch at a time, in
 * order. Memory is bounded: projects nobody asked for recently are dropped (and
 * unpin their entries); projects with subscribers stay.
 */
export class ProjectSnapshots {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry>>();
  private readonly flags: FlagCache;
  private tail: Promise<void> = Promise.resolve();
  private sweeper: NodeJS.Timeout | undefined;
  private failing = false;
  private closed = false;
  private readonly maxProjects: number;
  private readonly idleMs: number;

  constructor(
    private readonly store: FlagStore,
    private readonly options: ProjectSnapshotsOptions,
  ) {
    this.flags = options.flags ?? new FlagCache(store, { ttlMs: 0, size: 1, storeTimeoutMs: options.storeTimeoutMs });
    this.maxProjects = options.maxProjects ?? DEFAULT_MAX_PROJECTS;
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  }

  /** The project's snapshot and its entries; `cached` is false when it had to be read from the store. */
  async read(project: string): Promise<ProjectView & { cached: boolean }> {
    const entry = this.entries.get(project);
    if (entry !== undefined && !this.isStale(entry)) {
      this.touch(entry);
      return { ...entry.view, cached: true };
    }
    return { ...(await this.ensure(project)).view, cached: false };
  }

  /**
   * Registers `listener` for the project's changes and answers the snapshot it
   * applies to: every change after that snapshot reaches the listener, none before.
   */
  async subscribe(
    project: string,
    listener: UpdateListener,
  ): Promise<{ snapshot: ProjectSnapshot; unsubscribe: () => void }> {
    const entry = await this.ensure(project);
    // From here on synchronous: no change can slip between the snapshot and the registration.
    if (this.entries.get(project) !== entry) this.keepEntry(entry);
    entry.listeners.add(listener);
    this.touch(entry);
    return {
      snapshot: entry.view.snapshot,
      unsubscribe: () => {
        entry.listeners.delete(listener);
        entry.askedAt = Date.now();
      },
    };
  }

  /** The change feed's listener: applies changes to the projects held in memory. */
  onChanges(changes: readonly FlagChange[]): void {
    if (this.closed) return;
    const refs = new Map<string, FlagRef>();
    for (const change of changes) {
      // FLAG rows (metadata) are not part of a snapshot; a new flag enters with its first revision.
      if (change.kind !== 'REVISION') continue;
      if (!this.entries.has(change.ref.project) && !this.loading.has(change.ref.project)) continue;
      refs.set(this.flags.keyOf(change.ref), change.ref);
    }
    if (refs.size > 0) void this.serial(() => this.applyChanges([...refs.values()]));
  }

  /** Projects held in memory (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops idle projects and re-reads stale ones that have subscribers; runs by itself every 30 s. */
  async sweep(now = Date.now()): Promise<void> {
    const refreshes: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      if (entry.listeners.size === 0) {
        if (now - entry.askedAt >= this.idleMs) this.drop(entry);
      } else if (this.options.refreshMs > 0 && this.isStale(entry, now)) {
        refreshes.push(this.refresh(entry).catch(() => undefined));
      }
    }
    await Promise.all(refreshes);
  }

  /** Stops applying changes; waits for the batch being applied. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.tail;
    for (const entry of this.entries.values()) {
      entry.listeners.clear();
      this.drop(entry);
    }
  }

  // ------------------------------------------------------------ loading

  /** The project's entry, read from the store when missing, re-read when stale. */
  private async ensure(project: string): Promise<Entry> {
    const entry = this.entries.get(project);
    if (entry === undefined) return this.load(project);
    if (this.isStale(entry)) {
      if (this.options.health?.stale === true) {
        // The store is not answering: serve what is held now, try the store meanwhile.
        void this.refresh(entry).catch(() => undefined);
      } else {
        try {
          await this.refresh(entry);
        } catch (error) {
          // Served as last read; read again when next asked for.
          this.options.health?.failed(error);
        }
      }
    }
    this.touch(entry);
    return entry;
  }

  private load(project: string): Promise<Entry> {
    let pending = this.loading.get(project);
    if (pending === undefined) {
      const readAt = Date.now();
      pending = this.readProject(project, false)
        .then(
          ({ flags, oldest }) => this.entries.get(project) ?? this.insert(project, flags, Math.min(readAt, oldest)),
          (error: unknown) => {
            this.options.health?.failed(error);
            // Never read as a whole: made of the last data of the flags served before, read again when next asked for.
            const known = this.flags.lastKnownOf(project);
            if (known.length === 0) throw error;
            return this.entries.get(project) ?? this.insert(project, new Map(known.map((e) => [e.key, e])), 0);
          },
        )
        .finally(() => this.loading.delete(project));
      this.loading.set(project, pending);
    }
    return pending;
  }

  /**
   * Re-reads a project in full from the store and applies what differs, as changes
   * (one refresh at a time per project). The flag cache keeps what it reads, and
   * keeps the entries of revisions it already held.
   */
  private refresh(entry: Entry): Promise<void> {
    entry.refreshing ??= this.serial(async () => {
      const readAt = Date.now();
      const { flags } = await this.readProject(entry.project, true);
      entry.readAt = readAt;
      for (const flag of flags.values()) {
        const current = entry.flags.get(flag.key);
        if (current === undefined || flag.wtime > current.wtime) this.apply(entry, flag);
      }
    }).finally(() => {
      entry.refreshing = undefined;
    });
    return entry.refreshing;
  }

  /**
   * The cache entries of the project's listed flags that have a revision, and when
   * the oldest of them was read from the store. `fresh`: every one read from the
   * store now; else the cache's entries where it holds them.
   */
  private async readProject(
    project: string,
    fresh: boolean,
  ): Promise<{ flags: Map<string, SnapshotEntry>; oldest: number }> {
    const rows = await this.timed(this.store.listFlags(project), () => `listing the flags of project ${project}`);
    this.options.health?.answered();
    const flags = new Map<string, SnapshotEntry>();
    let oldest = Number.POSITIVE_INFINITY;
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const ref = rows[next++]!.ref;
        const found: CachedFlag = await (fresh ? this.flags.fetch(ref) : this.flags.get(ref));
        oldest = Math.min(oldest, found.fetchedAt);
        if (hasRevision(found)) flags.set(found.key, found);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, rows.length) }, worker));
    return { flags, oldest };
  }

  private insert(project: string, flags: Map<string, SnapshotEntry>, readAt: number): Entry {
    const entry: Entry = {
      project,
      flags,
      view: viewOf(project, flags),
      readAt,
      askedAt: Date.now(),
      listeners: new Set(),
    };
    this.keepEntry(entry);
    for (const old of this.entries.values()) {
      if (this.entries.size <= this.maxProjects) break;
      if (old.listeners.size === 0 && old !== entry) this.drop(old);
    }
    if (this.sweeper === undefined && !this.closed) {
      this.sweeper = setInterval(() => void this.sweep(), Math.min(SWEEP_MS, this.idleMs));
      this.sweeper.unref();
    }
    return entry;
  }

  /** Holds the project in memory, pinning its flags' cache entries. */
  private keepEntry(entry: Entry): void {
    this.entries.set(entry.project, entry);
    for (const flag of entry.flags.values()) this.flags.pin(flag);
  }

  /** Lets the project go, and with it the pins of its flags' cache entries. */
  private drop(entry: Entry): void {
    if (this.entries.get(entry.project) === entry) this.entries.delete(entry.project);
    for (const flag of entry.flags.values()) this.flags.unpin(flag);
  }

  // ------------------------------------------------------------ changes

  private async applyChanges(refs: FlagRef[]): Promise<void> {
    for (const ref of refs) {
      await this.loading.get(ref.project)?.catch(() => undefined);
      const entry = this.entries.get(ref.project);
      if (entry === undefined || this.closed) continue;
      try {
        // The change feed has dropped the flag from the cache: this reads the new revision, once.
        const found = await this.flags.get(ref);
        if (!hasRevision(found)) continue;
        const current = entry.flags.get(found.key);
        if (current !== undefined && found.wtime <= current.wtime) continue;
        // As a full read would: a flag is listed by its FLAG row.
        if (current === undefined && (await this.store.latest('FLAG', ref)) === undefined) continue;
        this.apply(entry, found);
        this.failing = false;
      } catch (error) {
        entry.readAt = 0; // read the project again before serving it
        if (!this.failing) {
          this.options.logger?.warn(
            { err: error, flag: refLabel(ref) },
            'project snapshots: cannot read a changed flag; the project is read again when next asked for',
          );
        }
        this.failing = true;
      }
    }
  }

  private apply(entry: Entry, flag: SnapshotEntry): void {
    const old = entry.flags.get(flag.key);
    entry.flags.set(flag.key, flag);
    if (this.entries.get(entry.project) === entry) {
      if (old !== undefined) this.flags.unpin(old);
      this.flags.pin(flag);
    }
    entry.view = viewOf(entry.project, entry.flags);
    const update: FlagUpdate = { project: entry.project, ...flag.flag, version: entry.view.snapshot.version };
    for (const listener of entry.listeners) {
      try {
        listener(update);
      } catch (error) {
        this.options.logger?.error({ err: error }, 'project snapshots: a subscriber failed');
      }
    }
  }

  // ------------------------------------------------------------ helpers

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private isStale(entry: Entry, now = Date.now()): boolean {
    return entry.readAt === 0 || now - entry.readAt >= this.options.refreshMs;
  }

  /** Marks the project as just asked for (most recently used last). */
  private touch(entry: Entry): void {
    entry.askedAt = Date.now();
    if (this.entries.get(entry.project) === entry) {
      this.entries.delete(entry.project);
      this.entries.set(entry.project, entry);
    }
  }

  private timed<T>(work: Promise<T>, what: () => string): Promise<T> {
    return withTimeout(work, this.options.storeTimeoutMs, what);
  }
}

/** The snapshot of a project's entries, the entries in the snapshot's order, and its segments. */
function viewOf(project: string, flags: ReadonlyMap<string, SnapshotEntry>): ProjectView {
  const byFlag = new Map<ProjectSnapshotFlag, SnapshotEntry>();
  for (const entry of flags.values()) byFlag.set(entry.flag, entry);
  const snapshot = buildProjectSnapshot(project, byFlag.keys());
  const entries = snapshot.flags.map((flag) => byFlag.get(flag)!);
  const segments = entries.flatMap(({ compiled }) => (compiled.state === 'segment' ? [compiled] : []));
  return { snapshot, entries, segments: segmentLookupOf(segments) };
}
