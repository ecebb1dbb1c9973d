import type { Revision } from '@vexil/core';
import { FlagConfigError } from './flag-config-error.js';
import { checkFlagConfig, type FlagConfigs, type RevisionFlagConfig } from './flag-definitions.js';

/** One flag of a Vexil project snapshot: its name, type (`feature`, `data`, … or `segment`) and newest revision as stored. */
export interface SnapshotFlag {
  readonly name: string;
  readonly flagType: string;
  /** The newest revision; `null` or absent when the flag has none yet. */
  readonly revision?: Revision | Readonly<Record<string, unknown>> | null | undefined;
}

/** A project snapshot as the service answers it (`{ project, version, flags }`), or just its flags. */
export type ProjectSnapshotLike = Iterable<SnapshotFlag> | { readonly flags: Iterable<SnapshotFlag> };

/**
 * Turns a Vexil project snapshot into flags for `FeatureFlags` and the middleware, so
 * call sites written for Merino-style files keep working when the flags move to the
 * Vexil service: `featureFlags.isEnabled('new_ui')` then evaluates the flag's newest
 * revision (override lists, percentages, salt — Vexil's rules, not Merino's bucketing)
 * with the request's session id as the instance id. A `bucketFor` string replaces the
 * session id; `bucketFor` bytes are used as lower-case hex.
 *
 * Only `feature` flags take part (`isEnabled` answers booleans); other types, flags
 * without a revision and archived flags are left out, so checking them is false. Rules
 * that name the snapshot's segments are evaluated with them. A revision that does not
 * validate throws FlagConfigError naming the flag and field. Build it again from each
 * new snapshot: the result is immutable.
 */
export function flagsFromSnapshot(snapshot: ProjectSnapshotLike, source = 'Vexil snapshot'): FlagConfigs {
  const flags: Record<string, RevisionFlagConfig> = Object.create(null);
  const entries = [...(Symbol.iterator in snapshot ? snapshot : snapshot.flags)];
  const segments: Readonly<Record<string, unknown>>[] = [];
  for (const entry of entries) {
    if (typeof entry?.name !== 'string') {
      throw new FlagConfigError({ file: source, reason: 'every snapshot entry needs a string "name"' });
    }
    if (entry.flagType === 'segment' && entry.revision !== null && entry.revision !== undefined) {
      segments.push(entry.revision);
    }
  }
  Object.freeze(segments);
  for (const entry of entries) {
    if (entry.flagType !== 'feature' || entry.revision === null || entry.revision === undefined) continue;
    const config = segments.length === 0 ? { revision: entry.revision } : { revision: entry.revision, segments };
    const checked = checkFlagConfig(entry.name, config, () => ({ file: source }));
    if (checked.kind === 'revision' && !checked.compiled.archived) {
      flags[entry.name] = Object.freeze(
        segments.length === 0
          ? { revision: checked.compiled.revision }
          : { revision: checked.compiled.revision, segments },
      );
    }
  }
  return Object.freeze(flags);
}
