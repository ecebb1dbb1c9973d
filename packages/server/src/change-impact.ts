import { compileRevision, type FlagRef, formatWTime, jsonEquals, type ResultValue } from '@vexil/core';
import type { EvaluationLogEntry, EvaluationLogSink } from '@vexil/store';
import type { FlagAdmin, RevisionInput } from './flag-admin.js';

/** Log rows an impact preview reads at most; past it, the answer says `truncated`. */
export const IMPACT_MAX_ROWS = 100_000;
/** How far back a preview may look, in days. */
export const IMPACT_MAX_DAYS = 30;

const DAY_MICROS = 86_400_000_000;

/** Instance ids that would go from one answer to another. */
export interface ImpactTransition {
  /** `group (value)`, e.g. `control (false)`: what they got last. */
  from: string;
  /** `group (value)`: what the draft would answer them. */
  to: string;
  fromGroup: string;
  fromValue: ResultValue;
  toGroup: string;
  toValue: ResultValue;
  /** Whether the value differs (a group can change with the value staying the same). */
  valueChanged: boolean;
  count: number;
}

/** What a draft revision would change for the instance ids seen in the log lately. */
export interface ChangeImpact {
  /** Distinct instance ids in the rows read. */
  instances: number;
  /** Of them, those whose value the draft would change. */
  changed: number;
  unchanged: number;
  /** Every from → to pair where the group or the value changes, most instance ids first. */
  transitions: ImpactTransition[];
  /** The oldest log time read from (UTC `YYYY-MM-DD HH:MM:SS.ffffff`). */
  since: string;
  /** true: more rows than IMPACT_MAX_ROWS were logged since then; the figures are of the first ones read (by instance id). */
  truncated: boolean;
  /** The rows read, by source: served by the service or reported by SDKs. */
  rows: { served: number; reported: number };
}

const describe = (group: string, value: ResultValue) => `${group} (${JSON.stringify(value)})`;

/** The newest row of each instance id (by log time). */
function newestByInstance(entries: readonly EvaluationLogEntry[]): Map<string, EvaluationLogEntry> {
  const newest = new Map<string, EvaluationLogEntry>();
  for (const entry of entries) {
    const known = newest.get(entry.instanceId);
    if (known === undefined || entry.time > known.time) newest.set(entry.instanceId, entry);
  }
  return newest;
}

/**
 * A draft revision's impact: the draft is checked as a write would check it (the same
 * errors; nothing is written), then each instance id evaluated for the flag in the last
 * `days` days — served and reported rows alike: both are ids that get the flag — is
 * evaluated with the draft as `/get-feature-flag` would (the context `{targetingKey:
 * id}`, the project's segments) and compared with its newest logged answer.
 */
export async function previewImpact(
  admin: FlagAdmin,
  logs: EvaluationLogSink,
  ref: FlagRef,
  input: RevisionInput,
  days: number,
  options: { now?: number; maxRows?: number } = {},
): Promise<ChangeImpact> {
  const now = options.now ?? Date.now();
  const maxRows = options.maxRows ?? IMPACT_MAX_ROWS;
  const draft = await admin.draftRevision(ref, input);
  const compiled = compileRevision(draft, { flagType: ref.flagType, name: ref.name });
  const segments = await admin.segmentLookup(ref.project, compiled.segmentNames);
  const since = formatWTime(now * 1000 - days * DAY_MICROS);
  const read = await logs.readLogs({
    project: ref.project,
    flagType: ref.flagType,
    flagName: ref.name,
    since,
    limit: maxRows + 1,
  });
  const truncated = read.length > maxRows;
  const entries = truncated ? read.slice(0, maxRows) : read;
  const reported = entries.filter((entry) => entry.reported === true).length;

  let changed = 0;
  const transitions = new Map<string, ImpactTransition>();
  const newest = newestByInstance(entries);
  for (const [instanceId, last] of newest) {
    const next = compiled.evaluate(instanceId, undefined, segments);
    const valueChanged = !jsonEquals(last.value, next.value);
    if (valueChanged) changed++;
    if (!valueChanged && last.group === next.group) continue;
    const key = JSON.stringify([last.group, last.value, next.group, next.value]);
    const known = transitions.get(key);
    if (known !== undefined) known.count++;
    else {
      transitions.set(key, {
        from: describe(last.group, last.value),
        to: describe(next.group, next.value),
        fromGroup: last.group,
        fromValue: last.value,
        toGroup: next.group,
        toValue: next.value,
        valueChanged,
        count: 1,
      });
    }
  }
  return {
    instances: newest.size,
    changed,
    unchanged: newest.size - changed,
    transitions: [...transitions.values()].sort((a, b) => b.count - a.count || (a.from < b.from ? -1 : 1)),
    since,
    truncated,
    rows: { served: entries.length - reported, reported },
  };
}
