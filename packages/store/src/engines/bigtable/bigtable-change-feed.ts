import type { GetRowsOptions } from '@google-cloud/bigtable';
import { type FlagType, type RowKind, UnavailableError } from '@vexil/core';
import type * as Store from '../../flag-store.js';
import { pollChanges } from '../../poll-changes.js';
import {
  type BigtableTables,
  CHANGE_FAMILY,
  columnData,
  familyFilter,
  HEAD_FAMILY,
  type RawRow,
  toBuffer,
} from './bigtable-tables.js';

/**
 * The change feed, in the side table: `SEQ` (family `head`) counts appends, and
 * `CHANGE#{n}` (family `change`, kept 7 days) holds what append `n` wrote. Bigtable
 * pushes nothing, so a watch polls the markers after the last it has seen.
 * Internal to the package.
 */

/** A change marker number that has not appeared after this long is given up on (its writer died). */
const CHANGE_GAP_MS = 30_000;
/** Change markers read per poll. */
const CHANGE_PAGE = 1000;
/** Change markers numbered just before a watch started that are checked for having started after it. */
const CHANGE_LOOKBACK = 20;

const SEQ_KEY = 'SEQ';
const SEQ_COLUMN = 'SEQ';
const CHANGE_PREFIX = 'CHANGE#';
/** Just after every change marker key. */
const CHANGE_END = 'CHANGE$';

/** Numbers this append (one atomic increment of `SEQ`) and writes what it stored under that number. */
export async function markChange(tables: BigtableTables, rows: readonly Store.StoredRow[]): Promise<void> {
  if (rows.length === 0) return;
  const { side } = tables;
  const [result] = await tables.call(side.id, () =>
    side.table.row(SEQ_KEY).createRules({ column: `${HEAD_FAMILY}:${SEQ_COLUMN}`, increment: 1 }, tables.gax()),
  );
  const seq = seqFromRuleResult(result);
  const changes = rows.map((r) => [r.kind, r.ref.project, r.ref.flagType, r.ref.name, r.wtime]);
  const data = {
    [CHANGE_FAMILY]: columnData([
      ['Rows', JSON.stringify(changes)],
      ['Time', String(Date.now() * 1000)],
    ]),
  };
  await tables.call(side.id, () => side.table.insert([{ key: changeKey(seq), data }], tables.gax()));
}

/** Polls the change markers from now on (see FlagStore.watch). */
export function watchChanges(
  tables: BigtableTables,
  listener: (changes: readonly Store.FlagChange[]) => void,
  options: Store.WatchOptions,
): Store.StopWatching {
  tables.checkOpen();
  const startedAt = Date.now() * 1000;
  let high: number | undefined;
  /**
   * Marker numbers not seen yet although later ones were (their append is still
   * writing its marker, or died): when they were first missed, and for numbers
   * taken before the watch started, the time their marker must not be older than.
   */
  const missing = new Map<number, { since: number; notBefore?: number }>();
  const readMarkers = (which: GetRowsOptions) =>
    tables.read(tables.side, { ...which, filter: familyFilter(CHANGE_FAMILY) });

  // Read the counter now, so that changes from here on are the ones reported; the
  // few numbered just before it are checked by time (an append racing the start).
  const begin = async (): Promise<Store.FlagChange[]> => {
    const seq = await readSeq(tables);
    const from = Math.max(1, seq - CHANGE_LOOKBACK + 1);
    const changes: Store.FlagChange[] = [];
    if (seq >= from) {
      const rows = await readMarkers({
        ranges: [{ start: changeKey(from), end: { value: changeKey(seq), inclusive: true } }],
      });
      const found = new Set<number>();
      for (const raw of rows) {
        const n = changeSeq(raw.key);
        if (n !== undefined) found.add(n);
        changes.push(...decodeChanges(raw, startedAt));
      }
      const now = Date.now();
      for (let n = from; n <= seq; n++) if (!found.has(n)) missing.set(n, { since: now, notBefore: startedAt });
    }
    high = seq;
    return changes;
  };
  let starting: Promise<Store.FlagChange[]> | undefined = begin();
  starting.catch(() => {
    // reported (and retried) by the first poll
  });

  const read = async (): Promise<Store.FlagChange[]> => {
    const changes: Store.FlagChange[] = [];
    if (high === undefined) {
      starting ??= begin();
      try {
        changes.push(...(await starting));
      } finally {
        starting = undefined;
      }
    }
    const from = high! + 1;
    const rows = await readMarkers({
      ranges: [{ start: changeKey(from), end: { value: CHANGE_END, inclusive: false } }],
      limit: CHANGE_PAGE,
    });
    const now = Date.now();
    for (const raw of rows) {
      const seq = changeSeq(raw.key);
      if (seq === undefined || seq <= high!) continue;
      // Numbers skipped over belong to appends still writing their marker (or that died).
      if (seq - high! - 1 <= CHANGE_PAGE) for (let n = high! + 1; n < seq; n++) missing.set(n, { since: now });
      high = seq;
      changes.push(...decodeChanges(raw));
    }
    if (missing.size > 0) {
      const late = await readMarkers({ keys: [...missing.keys()].map(changeKey) });
      for (const raw of late) {
        const seq = changeSeq(raw.key);
        const gap = seq === undefined ? undefined : missing.get(seq);
        if (gap === undefined) continue;
        missing.delete(seq!);
        changes.push(...decodeChanges(raw, gap.notBefore));
      }
      for (const [seq, gap] of missing) if (now - gap.since > CHANGE_GAP_MS) missing.delete(seq);
    }
    return changes;
  };
  return pollChanges(read, listener, options);
}

async function readSeq(tables: BigtableTables): Promise<number> {
  const [raw] = await tables.read(tables.side, { keys: [SEQ_KEY], filter: familyFilter(HEAD_FAMILY) });
  const cell = raw?.cells.get(SEQ_COLUMN);
  return cell !== undefined && cell.length === 8 ? Number(cell.readBigInt64BE()) : 0;
}

/** The changes a marker holds; with `sinceMicros`, none if the marker was written before then. */
function decodeChanges(raw: RawRow, sinceMicros?: number): Store.FlagChange[] {
  const time = Number(raw.cells.get('Time')?.toString('utf8'));
  if (sinceMicros !== undefined && !(time >= sinceMicros)) return [];
  return parseChanges(raw.cells.get('Rows')?.toString('utf8'));
}

function changeKey(seq: number): string {
  return `${CHANGE_PREFIX}${String(seq).padStart(16, '0')}`;
}

function changeSeq(key: string): number | undefined {
  if (!key.startsWith(CHANGE_PREFIX)) return undefined;
  const n = Number(key.slice(CHANGE_PREFIX.length));
  return Number.isSafeInteger(n) ? n : undefined;
}

function seqFromRuleResult(result: unknown): number {
  const families = (result as { row?: { families?: { columns?: { cells?: { value?: unknown }[] }[] }[] } })?.row
    ?.families;
  const value = families?.[0]?.columns?.[0]?.cells?.[0]?.value;
  if (value === undefined || value === null) throw new UnavailableError('Bigtable returned no change counter value');
  const bytes = toBuffer(value as Buffer | string | Uint8Array | number);
  return Number(bytes.readBigInt64BE());
}

function parseChanges(text: string | undefined): Store.FlagChange[] {
  if (text === undefined) return [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  const out: Store.FlagChange[] = [];
  for (const item of list) {
    if (!Array.isArray(item) || item.length !== 5 || !item.every((part) => typeof part === 'string')) continue;
    const [kind, project, flagType, name, wtime] = item as [RowKind, string, FlagType, string, string];
    out.push({ kind, ref: { project, flagType, name }, wtime });
  }
  return out;
}
