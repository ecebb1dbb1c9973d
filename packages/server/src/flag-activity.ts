import {
  configuredShares,
  type FlagRef,
  formatWTime,
  isVexilError,
  parseRevision,
  type ResultValue,
  type Revision,
} from '@vexil/core';
import type { EvaluationLogEntry, EvaluationLogSink, FlagStore } from '@vexil/store';

/** Log rows a monitoring view reads at most; past it, the answer says `truncated`. */
export const ACTIVITY_MAX_ROWS = 100_000;
/** How far back it may look, in minutes (a day). */
export const ACTIVITY_MAX_MINUTES = 1440;
/** Recent evaluations listed, newest first. */
export const ACTIVITY_RECENT = 50;

export interface FlagActivity {
  /** Every minute of the window, oldest first (ISO 8601, UTC), with its evaluations by group. */
  perMinute: { minute: string; groups: Record<string, number> }[];
  /** Each group seen or configured: its share of the evaluations read, beside the revision in force's percentage. */
  shares: { group: string; observed: number; configured: number | null }[];
  /** Of the served evaluations, the share answered from the service's cache; null when none was served. */
  cacheHitRate: number | null;
  recent: {
    requestId: string;
    instanceId: string;
    value: ResultValue;
    group: string;
    time: string;
    source: 'served' | 'reported';
  }[];
  /** The window's first minute's start (ISO 8601). */
  since: string;
  /** Rows read; true `truncated`: more were logged, the figures are of the first ACTIVITY_MAX_ROWS (by instance id). */
  evaluations: number;
  truncated: boolean;
}

const MINUTE_MS = 60_000;

/** A log time (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC) as the ISO 8601 start of its minute. */
function minuteOf(time: string): string {
  return `${time.slice(0, 10)}T${time.slice(11, 16)}:00.000Z`;
}

function revisionOf(fields: Record<string, unknown> | undefined, ref: FlagRef): Revision | undefined {
  if (fields === undefined) return undefined;
  try {
    return parseRevision(fields, { mode: 'stored', flagType: ref.flagType, name: ref.name });
  } catch (error) {
    if (isVexilError(error)) return undefined; // a row that does not validate configures nothing
    throw error;
  }
}

/**
 * A flag's evaluations in the last `minutes` minutes, from the evaluation log (served
 * and reported rows): per minute and group, each group's share beside its configured
 * percentage (core's configuredShares of the revision in force), the cache-hit rate of
 * the served ones and the newest few.
 */
export async function flagActivity(
  store: FlagStore & EvaluationLogSink,
  ref: FlagRef,
  minutes: number,
  options: { now?: number; maxRows?: number } = {},
): Promise<FlagActivity> {
  const now = options.now ?? Date.now();
  const maxRows = options.maxRows ?? ACTIVITY_MAX_ROWS;
  const start = Math.floor(now / MINUTE_MS) * MINUTE_MS - (minutes - 1) * MINUTE_MS;
  const [read, latest] = await Promise.all([
    store.readLogs({
      project: ref.project,
      flagType: ref.flagType,
      flagName: ref.name,
      since: formatWTime(start * 1000),
      limit: maxRows + 1,
    }),
    store.latest('REVISION', ref),
  ]);
  const truncated = read.length > maxRows;
  const entries: EvaluationLogEntry[] = truncated ? read.slice(0, maxRows) : read;

  const perMinute = new Map<string, Record<string, number>>();
  for (let t = start; t <= now; t += MINUTE_MS) perMinute.set(new Date(t).toISOString(), {});
  const byGroup = new Map<string, number>();
  let served = 0;
  let hits = 0;
  for (const entry of entries) {
    const minute = perMinute.get(minuteOf(entry.time));
    // A row stamped after now (a client's clock ahead) counts in the shares, not in a minute to come.
    if (minute !== undefined) minute[entry.group] = (minute[entry.group] ?? 0) + 1;
    byGroup.set(entry.group, (byGroup.get(entry.group) ?? 0) + 1);
    if (entry.reported !== true) {
      served++;
      if (entry.cacheHit) hits++;
    }
  }

  const revision = revisionOf(latest?.fields, ref);
  const configured = revision === undefined ? [] : configuredShares(revision);
  const shares = configured.map(({ group, percentage }) => ({
    group,
    observed: entries.length === 0 ? 0 : (byGroup.get(group) ?? 0) / entries.length,
    configured: percentage,
  }));
  for (const [group, count] of byGroup) {
    if (!configured.some((share) => share.group === group)) {
      shares.push({ group, observed: count / entries.length, configured: null });
    }
  }

  const recent = [...entries]
    .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0))
    .slice(0, ACTIVITY_RECENT)
    .map((entry) => ({
      requestId: entry.requestId,
      instanceId: entry.instanceId,
      value: entry.value,
      group: entry.group,
      time: entry.time,
      source: entry.reported === true ? ('reported' as const) : ('served' as const),
    }));

  return {
    perMinute: [...perMinute].map(([minute, groups]) => ({ minute, groups })),
    shares,
    cacheHitRate: served === 0 ? null : hits / served,
    recent,
    since: new Date(start).toISOString(),
    evaluations: entries.length,
    truncated,
  };
}
