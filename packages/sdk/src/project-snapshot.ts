import { type CompiledRevision, compileRevision, describe, digestHex, type FlagType, isVexilError } from '@vexil/core';
import { VexilClientError } from './client-errors.js';

/** One flag of a project snapshot (docs/sdk-protocol.md): its newest revision exactly as stored. */
export interface ProjectSnapshotFlag {
  readonly name: string;
  readonly flagType: FlagType;
  /** The time of the newest revision, UTC `YYYY-MM-DD HH:MM:SS.ffffff`. */
  readonly wtime: string;
  readonly revision: Readonly<Record<string, unknown>>;
}

/**
 * What `GET /sdk/v1/projects/{project}/snapshot` answers, and the shape of a bootstrap
 * or cache file: `curl -fsS $VEXIL_URL/sdk/v1/projects/shop/snapshot > flags.json`.
 */
export interface ProjectSnapshot {
  readonly project: string;
  /** A hash over each flag's type, name and revision time; also the snapshot's ETag. */
  readonly version: string;
  readonly flags: readonly ProjectSnapshotFlag[];
}

/** A `change` event of the stream: a flag's new newest revision and the project version after it. */
export interface FlagUpdate extends ProjectSnapshotFlag {
  readonly project: string;
  readonly version: string;
}

/** A snapshot flag checked and compiled once, when it arrives: what every get looks up. */
export interface FlagEntry {
  readonly flag: ProjectSnapshotFlag;
  readonly name: string;
  readonly flagType: FlagType;
  readonly wtime: string;
  /** Ready to evaluate; undefined when the flag is archived or its revision does not validate. */
  readonly compiled: CompiledRevision | undefined;
  /** Why the flag answers the default (archived, or a revision that does not validate). */
  readonly problem: VexilClientError | undefined;
  /** No treatment gives anybody its value: every answer is the control value (OpenFeature's STATIC). */
  readonly isStatic: boolean;
}

/** Checks a snapshot flag's revision as the service does for /get-feature-flag, and compiles it. */
export function compileEntry(flag: ProjectSnapshotFlag): FlagEntry {
  const base = { flag, name: flag.name, flagType: flag.flagType, wtime: flag.wtime };
  try {
    const compiled = compileRevision(flag.revision, { flagType: flag.flagType, name: flag.name });
    const revision = compiled.revision;
    if (compiled.archived) {
      const problem = new VexilClientError(
        'FLAG_NOT_FOUND',
        `${flag.flagType} flag ${flag.name} is archived: it answers the default`,
        { operation: 'evaluate', flagName: flag.name },
      );
      return { ...base, compiled: undefined, problem, isStatic: false };
    }
    const isStatic = !revision.Treatments.some((t) => t.PercentRollout > 0 || t.OverrideList.length > 0);
    return { ...base, compiled, problem: undefined, isStatic };
  } catch (error) {
    const detail = isVexilError(error) && error.field !== undefined ? ` at ${error.field}` : '';
    const problem = new VexilClientError(
      'PARSE_ERROR',
      `the newest revision of ${flag.flagType} flag ${flag.name} (${flag.wtime}) does not validate${detail}: ${
        error instanceof Error ? error.message : String(error)
      }; it answers the default until a revision fixes it`,
      { operation: 'evaluate', flagName: flag.name, cause: error },
    );
    return { ...base, compiled: undefined, problem, isStatic: false };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks one flag of a snapshot or an update; `at` names it in messages. */
export function parseSnapshotFlag(value: unknown, at: string): ProjectSnapshotFlag {
  if (!isRecord(value)) throw new TypeError(`${at} must be an object {name, flagType, wtime, revision}`);
  const { name, flagType, wtime, revision } = value;
  if (typeof name !== 'string' || name === '') throw new TypeError(`${at}.name must be a flag name`);
  if (flagType !== 'feature' && flagType !== 'data') {
    throw new TypeError(`${at}.flagType must be "feature" or "data", got ${describe(flagType)}`);
  }
  if (typeof wtime !== 'string') throw new TypeError(`${at}.wtime must be a revision time`);
  if (!isRecord(revision)) throw new TypeError(`${at}.revision must be an object`);
  return { name, flagType, wtime, revision };
}

/**
 * Checks the shape of a snapshot (from the service, a bootstrap or a cache file);
 * throws TypeError naming the part at fault. Revisions are checked later, one flag at a
 * time, so one bad revision only costs its own flag.
 */
export function parseSnapshot(value: unknown): ProjectSnapshot {
  if (!isRecord(value)) throw new TypeError('a snapshot must be a JSON object {project, version, flags}');
  const { project, version, flags } = value;
  if (typeof project !== 'string' || project === '') throw new TypeError('the snapshot has no "project"');
  if (typeof version !== 'string') throw new TypeError('the snapshot has no "version"');
  if (!Array.isArray(flags)) throw new TypeError('the snapshot has no "flags" list');
  return { project, version, flags: flags.map((flag: unknown, i) => parseSnapshotFlag(flag, `flags[${i}]`)) };
}

/** Checks a `change` event's data. */
export function parseUpdate(value: unknown): FlagUpdate {
  const flag = parseSnapshotFlag(value, 'the change');
  const { project, version } = value as Record<string, unknown>;
  if (typeof project !== 'string' || typeof version !== 'string') {
    throw new TypeError('the change has no "project" or "version"');
  }
  return { ...flag, project, version };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Flags in the protocol's order: by flag type, then name. */
export function sortFlags<T extends { flagType: string; name: string }>(flags: Iterable<T>): T[] {
  return [...flags].sort((a, b) =>
    a.flagType === b.flagType ? compare(a.name, b.name) : compare(a.flagType, b.flagType),
  );
}

/**
 * The version of a project's content, computed as the service computes it (sha256 over
 * each flag's type, name and revision time, in protocol order; the first 32 hex
 * digits). The client holds the version of what it really has, so a missed change
 * shows as a mismatch and resuming from it asks the service for a full snapshot.
 */
export function snapshotVersion(flags: readonly { flagType: string; name: string; wtime: string }[]): string {
  let text = '';
  for (const flag of flags) text += `${flag.flagType}\n${flag.name}\n${flag.wtime}\n`;
  return digestHex('sha256', text).slice(0, 32);
}
