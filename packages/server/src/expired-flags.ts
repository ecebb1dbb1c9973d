import {
  expiryOf,
  type FlagRef,
  isExpired,
  isValueFlagType,
  isVexilError,
  METADATA_KEYS,
  parseRevision,
  type Revision,
} from '@vexil/core';
import type { FlagStore, StoredRow } from '@vexil/store';
import { withTimeout } from './with-timeout.js';

/** A flag whose `Metadata.expires` day is over: it should be gone (docs/flag-model.md#revision-fields). */
export interface ExpiredFlag {
  project: string;
  flagType: string;
  name: string;
  /** `YYYY-MM-DD`, UTC: the last day the flag was meant to live. */
  expires: string;
  /** The owning team (`Metadata.owner`), when set. */
  owner?: string | undefined;
  /** The removal ticket (`Metadata.ticket`), when set. */
  ticket?: string | undefined;
  /** The WTIME of the revision in force, which holds the metadata. */
  revision: string;
}

/**
 * The flag of a revision in force, when it has outlived its `Metadata.expires` on
 * `now` (core's rule: expired from the next UTC day on). Archived flags are gone
 * already; a revision that does not validate is `vexil doctor`'s other report.
 */
export function expiredFlagOf(row: StoredRow, now: Date): ExpiredFlag | undefined {
  if (row.kind !== 'REVISION' || !isValueFlagType(row.ref.flagType)) return undefined;
  let revision: Revision;
  try {
    revision = parseRevision(row.fields, { mode: 'stored', flagType: row.ref.flagType, name: row.ref.name });
  } catch (error) {
    if (isVexilError(error)) return undefined;
    throw error;
  }
  if (revision.Archived === true || !isExpired(revision, now)) return undefined;
  const metadata = revision.Metadata ?? {};
  const text = (key: string) => {
    const value = metadata[key];
    return value === undefined ? undefined : String(value);
  };
  return {
    project: row.ref.project,
    flagType: row.ref.flagType,
    name: row.ref.name,
    expires: expiryOf(revision) as string,
    owner: text(METADATA_KEYS.owner),
    ticket: text(METADATA_KEYS.ticket),
    revision: row.wtime,
  };
}

/** The flags of a project past their expiry day, by type then name. */
export async function findExpiredFlags(store: FlagStore, project: string, now: number): Promise<ExpiredFlag[]> {
  const flags = (await store.listFlags(project)).filter((row) => isValueFlagType(row.ref.flagType));
  const latest = await Promise.all(flags.map((row) => store.latest('REVISION', row.ref as FlagRef)));
  const expired: ExpiredFlag[] = [];
  for (const row of latest) {
    const found = row && expiredFlagOf(row, new Date(now));
    if (found) expired.push(found);
  }
  return expired;
}

/** Expired flags per project, every project of the store listed (0 where none), for the `/metrics` gauge. */
export async function countExpiredFlags(store: FlagStore, now: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const project of await store.listProjects()) {
    counts.set(project, (await findExpiredFlags(store, project, now)).length);
  }
  return counts;
}

export interface ExpiredFlagCounterOptions {
  /** How long a count is kept before the store is read again; expiry days change once a day. */
  maxAgeMs?: number;
  /** The longest a count may take; past it, the last count stands. */
  timeoutMs: number;
  now?: () => number;
}

/**
 * The expired-flag counts for `/metrics`, read from the store when scraped at most once
 * per `maxAgeMs` (reading means every project's flags and revisions in force). A scrape
 * while a count runs shares it; a count that fails or times out leaves the last one
 * (none before the first success), so `/metrics` itself never fails for it.
 */
export class ExpiredFlagCounter {
  readonly #store: FlagStore;
  readonly #maxAgeMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #last: { at: number; counts: ReadonlyMap<string, number> } | undefined;
  #running: Promise<ReadonlyMap<string, number>> | undefined;

  constructor(store: FlagStore, options: ExpiredFlagCounterOptions) {
    this.#store = store;
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now ?? Date.now;
  }

  /** The counts per project; `undefined` until one count has succeeded. */
  readonly counts = async (): Promise<ReadonlyMap<string, number> | undefined> => {
    const now = this.#now();
    if (this.#last !== undefined && now - this.#last.at < this.#maxAgeMs) return this.#last.counts;
    this.#running ??= withTimeout(countExpiredFlags(this.#store, now), this.#timeoutMs, () => 'counting expired flags')
      .then((counts) => {
        this.#last = { at: now, counts };
        return counts;
      })
      .finally(() => {
        this.#running = undefined;
      });
    try {
      return await this.#running;
    } catch {
      return this.#last?.counts;
    }
  };
}
