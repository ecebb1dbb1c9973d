import { setTimeout as sleep } from 'node:timers/promises';
import { type FlagRef, flagRowPrefix, isWTime, parseWTime, type RowKind, UnavailableError } from '@vexil/core';
import type { NewRow } from '../../flag-store.js';
import { BatchWTimes, checkExpectedLatest, defaultNow, flagId, lastWTimeOf, prefixEnd, sameRef } from '../../rows.js';
import { parseKey } from './bigtable-rows.js';
import { type BigtableTables, columnData, familyFilter, HEAD_FAMILY, KEYS_ONLY } from './bigtable-tables.js';

/**
 * How long a WTIME handed out but not (yet) stored counts as a write in progress for
 * `expectedLatest`: an append stores its rows right after reserving, so an older one
 * is a write that failed, and must not refuse every later write based on the flag.
 */
const IN_FLIGHT_MICROS = 30_000_000;

/** Attempts at moving a flag's head before an append gives up (another writer kept winning). */
const MAX_RESERVE_ATTEMPTS = 100;

/** What the head row of a flag says. */
export interface Head {
  /** The newest WTIME handed out for the flag, across both kinds. */
  LAST?: string;
  /** A stored row of the kind: no row of the kind older than it needs reading. */
  FLAG?: string;
  REVISION?: string;
}

/**
 * The per-flag head rows of the side table (`HEAD#{project}#{type}#{name}`, family
 * `head`) and the compare-and-set that moves them:
 *
 * - `LAST`, the newest WTIME handed out for the flag, moved by a conditional mutation
 *   that fails if another process moved it first: WTIMEs stay strictly increasing
 *   across processes without multi-row transactions.
 * - `FLAG` / `REVISION`, the WTIME of a stored row of that kind with nothing newer
 *   except rows stored after it, where `latest` starts reading.
 *
 * Internal to the package.
 */
export class FlagHeads {
  readonly #tables: BigtableTables;
  readonly #now: (() => number) | undefined;

  constructor(tables: BigtableTables, now: (() => number) | undefined) {
    this.#tables = tables;
    this.#now = now;
  }

  /**
   * Hands out `count` strictly increasing WTIMEs for a flag: after the head's LAST and
   * after every stored row of the flag (rows other tools wrote after the head's
   * pointers included), then moves LAST with a conditional mutation that fails if
   * another process moved it first — in which case it starts over.
   */
  async reserve(ref: FlagRef, count: number, expected: readonly NewRow[] = []): Promise<string[]> {
    for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
      const head = await this.read(ref);
      const stored = await this.#newestStored(ref, head);
      if (expected.length > 0) {
        // Checked against the head this reservation's compare-and-set is conditioned on:
        // two writers based on the same revision cannot both pass (the second's CAS fails,
        // and its next round sees the first one's WTIME).
        const newestStored = [stored.FLAG, stored.REVISION].reduce<string | undefined>(
          (a, b) => (a === undefined || (b !== undefined && b > a) ? b : a),
          undefined,
        );
        const inFlight =
          head.LAST !== undefined &&
          (newestStored === undefined || head.LAST > newestStored) &&
          (this.#now ?? defaultNow)() - parseWTime(head.LAST) < IN_FLIGHT_MICROS;
        for (const row of expected) checkExpectedLatest(row, inFlight ? head.LAST : stored[row.kind]);
      }
      const wtimes = new BatchWTimes(this.#now, () => lastWTimeOf(head.LAST, stored.FLAG, stored.REVISION));
      const times = Array.from({ length: count }, () => wtimes.next(ref));
      const set: Record<string, string> = { LAST: times[times.length - 1]! };
      // Adopt rows other tools wrote: the pointers may start there next time.
      for (const kind of ['FLAG', 'REVISION'] as const) {
        const newest = stored[kind];
        if (newest !== undefined && (head[kind] === undefined || newest > head[kind])) set[kind] = newest;
      }
      if (await this.#compareAndSet(ref, head.LAST, set)) return times;
      // Another writer moved the head: wait a little (jittered, growing) and read it again.
      await sleep(Math.min(50, 1 + attempt * 2) * Math.random());
    }
    throw new UnavailableError(
      `could not reserve a WTIME for ${ref.project}/${ref.flagType}/${ref.name}: other writers kept moving its head`,
      { hint: 'retry the write' },
    );
  }

  async read(ref: FlagRef): Promise<Head> {
    const [raw] = await this.#tables.read(this.#tables.side, {
      keys: [headKey(ref)],
      filter: familyFilter(HEAD_FAMILY),
    });
    const head: Head = {};
    if (raw === undefined) return head;
    for (const column of ['LAST', 'FLAG', 'REVISION'] as const) {
      const value = raw.cells.get(column)?.toString('utf8');
      if (value !== undefined && value !== '') head[column] = value;
    }
    return head;
  }

  /** Points the head's `kind` at `wtime` unless it already points at a newer row. */
  async advancePointer(ref: FlagRef, kind: RowKind, wtime: string): Promise<void> {
    const row = this.#tables.side.table.row(headKey(ref));
    await this.#tables.call(this.#tables.side.id, () =>
      row.filter(
        [
          familyFilter(HEAD_FAMILY)[0],
          { column: { name: `^${kind}$`, cellLimit: 1 } },
          { value: { start: Buffer.from(wtime) } },
        ],
        { onNoMatch: pointTo(kind, wtime), gaxOptions: this.#tables.gax() },
      ),
    );
  }

  /** Points the head's `kind` at `wtime` if it still points at `expected` (a row since deleted). */
  async replacePointer(ref: FlagRef, kind: RowKind, expected: string | undefined, wtime: string): Promise<void> {
    if (expected === undefined) return this.advancePointer(ref, kind, wtime);
    const row = this.#tables.side.table.row(headKey(ref));
    await this.#tables.call(this.#tables.side.id, () =>
      row.filter(
        [
          familyFilter(HEAD_FAMILY)[0],
          { column: { name: `^${kind}$`, cellLimit: 1 } },
          { value: { start: Buffer.from(expected), end: Buffer.from(expected) } },
        ],
        { onMatch: pointTo(kind, wtime), gaxOptions: this.#tables.gax() },
      ),
    );
  }

  /** The newest stored WTIME of each kind, reading keys only, from the head's pointers on. */
  async #newestStored(ref: FlagRef, head: Head): Promise<{ FLAG?: string; REVISION?: string }> {
    const ranges = (['FLAG', 'REVISION'] as const).map((kind) => {
      const prefix = flagRowPrefix(kind, ref);
      const pointer = head[kind];
      return {
        start: pointer === undefined ? prefix : prefix + pointer,
        end: { value: prefixEnd(prefix), inclusive: false },
      };
    });
    const rows = await this.#tables.read(this.#tables.flags, { ranges, filter: KEYS_ONLY });
    const newest: { FLAG?: string; REVISION?: string } = {};
    for (const raw of rows) {
      const parsed = parseKey(raw.key);
      if (parsed === undefined || !isWTime(parsed.wtime) || !sameRef(parsed.ref, ref)) continue;
      const known = newest[parsed.kind];
      if (known === undefined || parsed.wtime > known) newest[parsed.kind] = parsed.wtime;
    }
    return newest;
  }

  /** Sets head columns if LAST is still `expected` (absent when undefined); false when another writer moved it. */
  async #compareAndSet(ref: FlagRef, expected: string | undefined, set: Record<string, string>): Promise<boolean> {
    const row = this.#tables.side.table.row(headKey(ref));
    const columns = Object.keys(set);
    const mutations = [
      { method: 'delete', data: columns.map((c) => `${HEAD_FAMILY}:${c}`) },
      { method: 'insert', data: { [HEAD_FAMILY]: columnData(Object.entries(set)) } },
    ];
    const last = [familyFilter(HEAD_FAMILY)[0], { column: { name: '^LAST$', cellLimit: 1 } }];
    const gaxOptions = this.#tables.gax();
    if (expected === undefined) {
      const [matched] = await this.#tables.call(this.#tables.side.id, () =>
        row.filter(last, { onNoMatch: mutations, gaxOptions }),
      );
      return !matched;
    }
    const [matched] = await this.#tables.call(this.#tables.side.id, () =>
      row.filter([...last, { value: { start: Buffer.from(expected), end: Buffer.from(expected) } }], {
        onMatch: mutations,
        gaxOptions,
      }),
    );
    return matched === true;
  }
}

export function headKey(ref: FlagRef): string {
  return `HEAD#${flagId(ref)}`;
}

/** The mutations that set the head's `kind` column to `wtime`. */
function pointTo(kind: RowKind, wtime: string): object[] {
  return [
    { method: 'delete', data: [`${HEAD_FAMILY}:${kind}`] },
    { method: 'insert', data: { [HEAD_FAMILY]: columnData([[kind, wtime]]) } },
  ];
}
