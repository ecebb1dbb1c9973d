import {
  buildProjectSnapshot,
  type CompiledFlag,
  compileFlag,
  type FlagRef,
  type FlagType,
  type FlagUpdate,
  type ProjectSnapshot,
  type ProjectSnapshotFlag,
} from '@vexil/core';
import type { FlagChange, FlagStore, StoredRow } from '@vexil/store';
import type { LogSink } from './evaluation-log.js';
import { withTimeout } from './flag-evaluator.js';
import { refLabel } from './views.js';

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
  /** Projects kept at most; the least recently asked for without subscribers go first. */
  maxProjects?: number;
  /** A project nobody asked for (and nobody streams) for this long is dropped. */
  idleMs?: number;
  logger?: LogSink | undefined;
}

interface Entry {
  project: string;
  /** By `flagType#name`. */
  flags: Map<string, ProjectSnapshotFlag>;
  snapshot: ProjectSnapshot;
  /** When the last full read from the store started (0: read again before serving). */
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
 * Project snapshots for the SDK protocol and OFREP: each project's flags with their
 * newest revisions, read from the store once and then kept current by the change
 * feed. A change reads the flag's newest revision once, updates the snapshot and
 * its version, and is handed to every subscriber of the project (the open change
 * streams). Changes are applied one batch at a time, in order. Memory is bounded:
 * projects nobody asked for recently are dropped; projects with subscribers stay.
 */
export class ProjectSnapshots {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry>>();
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
    this.maxProjects = options.maxProjects ?? DEFAULT_MAX_PROJECTS;
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  }

  /** The project's snapshot; `cached` is false when it had to be read from the store. */
  async read(project: string): Promise<{ snapshot: ProjectSnapshot; cached: boolean }> {
    const entry = this.entries.get(project);
    if (entry !== undefined && !this.isStale(entry)) {
      this.touch(entry);
      return { snapshot: entry.snapshot, cached: true };
    }
    return { snapshot: (await this.ensure(project)).snapshot, cached: false };
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
    if (this.entries.get(project) !== entry) this.entries.set(project, entry);
    entry.listeners.add(listener);
    this.touch(entry);
    return {
      snapshot: entry.snapshot,
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
      refs.set(`${change.ref.project}#${flagKey(change.ref)}`, change.ref);
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
    for (const [project, entry] of this.entries) {
      if (entry.listeners.size === 0) {
        if (now - entry.askedAt >= this.idleMs) this.entries.delete(project);
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
    for (const entry of this.entries.values()) entry.listeners.clear();
    this.entries.clear();
  }

  // ------------------------------------------------------------ loading

  /** The project's entry, read from the store when missing, re-read when stale. */
  private async ensure(project: string): Promise<Entry> {
    const entry = this.entries.get(project);
    if (entry === undefined) return this.load(project);
    if (this.isStale(entry)) await this.refresh(entry);
    this.touch(entry);
    return entry;
  }

  private load(project: string): Promise<Entry> {
    let pending = this.loading.get(project);
    if (pending === undefined) {
      const readAt = Date.now();
      pending = this.readProject(project)
        .then((flags) => this.entries.get(project) ?? this.insert(project, flags, readAt))
        .finally(() => this.loading.delete(project));
      this.loading.set(project, pending);
    }
    return pending;
  }

  /** Re-reads a project in full and applies what differs, as changes (one refresh at a time per project). */
  private refresh(entry: Entry): Promise<void> {
    entry.refreshing ??= this.serial(async () => {
      const readAt = Date.now();
      const flags = await this.readProject(entry.project);
      entry.readAt = readAt;
      for (const [key, flag] of flags) {
        const current = entry.flags.get(key);
        if (current === undefined || flag.wtime > current.wtime) this.apply(entry, flag);
      }
    }).finally(() => {
      entry.refreshing = undefined;
    });
    return entry.refreshing;
  }

  private async readProject(project: string): Promise<Map<string, ProjectSnapshotFlag>> {
    const rows = await this.timed(this.store.listFlags(project), () => `listing the flags of project ${project}`);
    const flags = new Map<string, ProjectSnapshotFlag>();
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const ref = rows[next++]!.ref;
        const revision = await this.timed(this.store.latest('REVISION', ref), () => `reading ${refLabel(ref)}`);
        if (revision !== undefined) flags.set(flagKey(ref), snapshotFlag(revision));
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, rows.length) }, worker));
    return flags;
  }

  private insert(project: string, flags: Map<string, ProjectSnapshotFlag>, readAt: number): Entry {
    const now = Date.now();
    const entry: Entry = {
      project,
      flags,
      snapshot: buildProjectSnapshot(project, flags.values()),
      readAt,
      askedAt: now,
      listeners: new Set(),
    };
    this.entries.set(project, entry);
    for (const [name, old] of this.entries) {
      if (this.entries.size <= this.maxProjects) break;
      if (old.listeners.size === 0 && old !== entry) this.entries.delete(name);
    }
    if (this.sweeper === undefined && !this.closed) {
      this.sweeper = setInterval(() => void this.sweep(), Math.min(SWEEP_MS, this.idleMs));
      this.sweeper.unref();
    }
    return entry;
  }

  // ------------------------------------------------------------ changes

  private async applyChanges(refs: FlagRef[]): Promise<void> {
    for (const ref of refs) {
      await this.loading.get(ref.project)?.catch(() => undefined);
      const entry = this.entries.get(ref.project);
      if (entry === undefined || this.closed) continue;
      try {
        const row = await this.timed(this.store.latest('REVISION', ref), () => `reading ${refLabel(ref)}`);
        if (row === undefined) continue;
        const current = entry.flags.get(flagKey(ref));
        if (current !== undefined && row.wtime <= current.wtime) continue;
        // As a full read would: a flag is listed by its FLAG row.
        if (current === undefined && (await this.store.latest('FLAG', ref)) === undefined) continue;
        this.apply(entry, snapshotFlag(row));
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

  private apply(entry: Entry, flag: ProjectSnapshotFlag): void {
    entry.flags.set(flagKey(flag), flag);
    entry.snapshot = buildProjectSnapshot(entry.project, entry.flags.values());
    const update: FlagUpdate = { project: entry.project, ...flag, version: entry.snapshot.version };
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

function flagKey(flag: { flagType: FlagType; name: string }): string {
  return `${flag.flagType}#${flag.name}`;
}

function snapshotFlag(row: StoredRow): ProjectSnapshotFlag {
  return { name: row.ref.name, flagType: row.ref.flagType, wtime: row.wtime, revision: row.fields };
}

// Snapshot flags are immutable (a change makes a new one), so each is compiled once, when first evaluated.
const compiledFlags = new WeakMap<ProjectSnapshotFlag, CompiledFlag>();

/** A snapshot flag's newest revision, checked as stored data (as /get-feature-flag does) and compiled. */
export function compiledFlagOf(flag: ProjectSnapshotFlag): CompiledFlag {
  let compiled = compiledFlags.get(flag);
  if (compiled === undefined) {
    compiled = compileFlag(flag);
    compiledFlags.set(flag, compiled);
  }
  return compiled;
}
