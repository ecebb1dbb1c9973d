import type { FlagRef, RowKind } from '@vexil/core';

/**
 * What differs between engines, for code to read (never the engine's name):
 * procedures above the store branch on these, and the conformance suite tests both
 * sides of each.
 */
export interface StoreCapabilities {
  /**
   * true: `append` of several rows lands all or none, even when the engine fails
   * midway. false: every row is still checked before any is written, but an engine
   * failure midway leaves the rows written before it (they read back like any other),
   * and the error is all the caller learns.
   */
  readonly atomicBatch: boolean;
  /**
   * How other processes learn of a change: `push`, the engine delivers it as it
   * commits; `poll`, a cheap change marker is read every `WatchOptions.intervalMs`.
   */
  readonly changeFeed: 'push' | 'poll';
}

/** A row to append. The store sets `CreatedTime` (equal to the row's WTIME) itself. */
export interface NewRow {
  kind: RowKind;
  ref: FlagRef;
  fields: Readonly<Record<string, unknown>>;
  /**
   * Optimistic concurrency: the WTIME of the newest stored row of this kind the
   * writer based the row on (`null`: none). When another row of the kind was stored
   * (or is being stored) since, the whole batch is refused with RevisionConflictError
   * and nothing is written.
   */
  expectedLatest?: string | null;
}

/** A row as stored: its decoded key, and its columns decoded to values (not yet validated). */
export interface StoredRow {
  kind: RowKind;
  ref: FlagRef;
  /** UTC `YYYY-MM-DD HH:MM:SS.ffffff`, strictly increasing per flag across both row kinds. */
  wtime: string;
  /** The full row key in the runbook system's layout. */
  key: string;
  fields: Record<string, unknown>;
}

/** A row appended by some process: enough to drop cached data for its flag. */
export interface FlagChange {
  kind: RowKind;
  ref: FlagRef;
  wtime: string;
}

export interface WatchOptions {
  /** For `poll` engines: how often the change marker is read. 1000 ms by default. */
  intervalMs?: number;
  /** Called when a poll or a subscription fails; watching goes on. */
  onError?: (error: unknown) => void;
}

/** Stops a watch; resolves when no further listener call can happen. */
export type StopWatching = () => Promise<void>;

export interface HistoryOptions {
  /** At most this many rows, newest first. */
  limit?: number;
}

/**
 * Where flags are kept: the one interface every storage engine implements, next to
 * EvaluationLogSink. It is deliberately small: rows are appended and read back, never
 * edited. Procedures (add a flag, roll back, …) live above it and are written once
 * for every engine; what differs between engines is stated in `capabilities`.
 */
export interface FlagStore {
  /** `memory`, `sqlite`, … for messages and metrics. */
  readonly engine: string;
  readonly capabilities: StoreCapabilities;

  /**
   * Appends rows, giving each a WTIME later than every earlier row of its flag
   * (the clock's time, bumped by a microsecond on a tie) and `CreatedTime` = WTIME.
   * Returns the rows as stored, in the order given.
   */
  append(rows: readonly NewRow[]): Promise<StoredRow[]>;

  /** The newest row of one kind for a flag, read in time independent of the flag's history. */
  latest(kind: RowKind, ref: FlagRef): Promise<StoredRow | undefined>;

  /** The row written at exactly `wtime`, if any. */
  get(kind: RowKind, ref: FlagRef, wtime: string): Promise<StoredRow | undefined>;

  /** Rows of one kind for a flag, newest first. */
  history(kind: RowKind, ref: FlagRef, options?: HistoryOptions): Promise<StoredRow[]>;

  /** The newest FLAG row of every flag in a project, ordered by flag type then name. */
  listFlags(project: string): Promise<StoredRow[]>;

  /** The projects that have at least one flag, in name order (for "no such project; known projects: …"). */
  listProjects(): Promise<string[]>;

  /** Every row of a project (both kinds), in key order: for `vexil doctor` and exports. */
  scanProject(project: string): Promise<StoredRow[]>;

  /**
   * Calls `listener` with rows appended from now on by any process sharing the
   * store, this one included — pushed by the engine or found by polling a cheap
   * change marker (`capabilities.changeFeed`). Rows written by other tools that do
   * not touch the marker may go unseen; caches keep their TTL as the upper bound.
   */
  watch(listener: (changes: readonly FlagChange[]) => void, options?: WatchOptions): StopWatching;

  /** Resolves when the engine answers; rejects with UnavailableError when it does not. */
  ping(): Promise<void>;

  close(): Promise<void>;
}

export interface StoreOptions {
  /** Microseconds since the epoch; tests pin it to check tie-breaking. */
  now?: () => number;
}
