import type { SnapshotEntry } from './flag-cache.js';
import type { ProjectSnapshot, ProjectSnapshots } from './project-snapshots.js';

/** The label value every reported project, flag or group the store does not know is counted under. */
export const OTHER_LABEL = 'other';

/** The metric labels of one reported evaluation. */
export interface EvaluationLabels {
  readonly project: string;
  readonly flag: string;
  readonly group: string;
}

/** Gives a reported evaluation the labels it may be counted under. */
export type ReportedLabels = (flagType: string | undefined, flagName: string, group: string) => EvaluationLabels;

const UNKNOWN: EvaluationLabels = Object.freeze({ project: OTHER_LABEL, flag: OTHER_LABEL, group: OTHER_LABEL });

// Per snapshot (immutable; a change makes a new one): flag type and name → the groups its newest revision can give.
const groupsBySnapshot = new WeakMap<ProjectSnapshot, Map<string, ReadonlySet<string>>>();

/**
 * The labels of evaluations reported for `project` (`POST /sdk/v1/evaluations`), which a
 * stranger may fill with any names: a flag keeps its name only when the project has
 * it with a revision that can answer with the reported group; anything else is
 * counted under `other`, so the metrics' label sets stay as bounded as the store.
 * A project that cannot be read now (the store is down) counts everything under `other`.
 */
export async function reportedLabels(
  snapshots: ProjectSnapshots,
  project: string | undefined,
): Promise<ReportedLabels> {
  if (project === undefined) return () => UNKNOWN;
  let groups: Map<string, ReadonlySet<string>>;
  try {
    const view = await snapshots.read(project);
    groups = groupsOf(view.snapshot, view.entries);
  } catch {
    return () => UNKNOWN;
  }
  if (groups.size === 0) return () => UNKNOWN;
  const unknownFlag: EvaluationLabels = Object.freeze({ project, flag: OTHER_LABEL, group: OTHER_LABEL });
  return (flagType, flagName, group) => {
    const known = groups.get(`${flagType}\u0000${flagName}`);
    if (known === undefined) return unknownFlag;
    return { project, flag: flagName, group: known.has(group) ? group : OTHER_LABEL };
  };
}

function groupsOf(snapshot: ProjectSnapshot, entries: readonly SnapshotEntry[]): Map<string, ReadonlySet<string>> {
  let groups = groupsBySnapshot.get(snapshot);
  if (groups !== undefined) return groups;
  groups = new Map();
  for (const entry of entries) {
    // An archived flag keeps its groups: a client may report what it evaluated just before.
    // Segments are not evaluated, so never reported.
    if (entry.compiled.state === 'compiled' || entry.compiled.state === 'archived') {
      groups.set(`${entry.flag.flagType}\u0000${entry.flag.name}`, entry.compiled.compiled.groups);
    }
  }
  groupsBySnapshot.set(snapshot, groups);
  return groups;
}
