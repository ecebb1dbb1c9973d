import { formatValue, InvalidInputError } from './errors.js';
import { FLAG_TYPES, isFlagType, RUNBOOK_FLAG_TYPES } from './flag-types.js';
import { digestHex } from './hash/index.js';
import type { FlagType } from './types.js';

/**
 * The project snapshot of the SDK protocol (docs/sdk-protocol.md): what
 * `GET /sdk/v1/projects/{project}/snapshot` answers, the `snapshot` event of the
 * change stream, and the shape of a bootstrap or cache file.
 */

/** One flag of a project snapshot: its newest revision exactly as stored. */
export interface ProjectSnapshotFlag {
  readonly name: string;
  readonly flagType: FlagType;
  /** The time of the newest revision, UTC `YYYY-MM-DD HH:MM:SS.ffffff`. */
  readonly wtime: string;
  readonly revision: Readonly<Record<string, unknown>>;
}

export interface ProjectSnapshot {
  readonly project: string;
  /** A hash over each flag's type, name and revision time (see `snapshotVersion`); also the snapshot's ETag. */
  readonly version: string;
  /** One entry per flag that has a revision (archived ones included), by flag type, then name. */
  readonly flags: readonly ProjectSnapshotFlag[];
}

/** A `change` event of the stream: a flag's new newest revision and the project version after it. */
export interface FlagUpdate extends ProjectSnapshotFlag {
  readonly project: string;
  readonly version: string;
}

/** What identifies a flag's content in a snapshot version. */
export interface VersionedFlag {
  readonly flagType: string;
  readonly name: string;
  readonly wtime: string;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Flags in the protocol's order: by flag type, then name (a new array). */
export function sortSnapshotFlags<T extends { readonly flagType: string; readonly name: string }>(
  flags: Iterable<T>,
): T[] {
  return [...flags].sort((a, b) =>
    a.flagType === b.flagType ? compare(a.name, b.name) : compare(a.flagType, b.flagType),
  );
}

/**
 * The version of a project's content: sha256 over each flag's type, name and
 * revision time, in the protocol's order, as the first 32 hex digits. The same on
 * every replica and in every client for the same newest revisions, so a client can
 * compute the version of what it really holds.
 */
export function snapshotVersion(sortedFlags: readonly VersionedFlag[]): string {
  let text = '';
  for (const flag of sortedFlags) text += `${flag.flagType}\n${flag.name}\n${flag.wtime}\n`;
  return digestHex('sha256', text).slice(0, 32);
}

/** A project's snapshot from its flags in any order: sorted, with its version. */
export function buildProjectSnapshot(project: string, flags: Iterable<ProjectSnapshotFlag>): ProjectSnapshot {
  const sorted = sortSnapshotFlags(flags);
  return { project, version: snapshotVersion(sorted), flags: sorted };
}

/** The snapshot version as its entity tag (`ETag`, `If-None-Match`): quoted. */
export function snapshotETag(version: string): string {
  return `"${version}"`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const FLAG_MODEL_TYPES = FLAG_TYPES.filter((type) => !RUNBOOK_FLAG_TYPES.includes(type))
  .map((type) => `"${type}"`)
  .join(', ');

function fault(field: string, message: string): InvalidInputError {
  return new InvalidInputError(message, { field });
}

/**
 * Checks one flag of a snapshot or a change event; `at` names it in messages and is
 * the start of the error's `field`. Throws InvalidInputError naming the part at fault.
 */
export function parseSnapshotFlag(value: unknown, at: string): ProjectSnapshotFlag {
  if (!isRecord(value)) throw fault(at, `${at} must be an object {name, flagType, wtime, revision}`);
  const { name, flagType, wtime, revision } = value;
  if (typeof name !== 'string' || name === '') throw fault(`${at}.name`, `${at}.name must be a flag name`);
  if (!isFlagType(flagType)) {
    // The runbook's two types first, as this message always named them; then the flag model's.
    throw fault(
      `${at}.flagType`,
      `${at}.flagType must be "feature" or "data", got ${formatValue(flagType)} (or one of the flag model's types: ${FLAG_MODEL_TYPES})`,
    );
  }
  if (typeof wtime !== 'string') throw fault(`${at}.wtime`, `${at}.wtime must be a revision time`);
  if (!isRecord(revision)) throw fault(`${at}.revision`, `${at}.revision must be an object`);
  return { name, flagType, wtime, revision };
}

/**
 * Checks the shape of a snapshot (from the service, a bootstrap or a cache file);
 * throws InvalidInputError naming the part at fault. Revisions are checked later,
 * one flag at a time (`compileFlag`), so one bad revision only costs its own flag.
 */
export function parseProjectSnapshot(value: unknown): ProjectSnapshot {
  if (!isRecord(value)) throw fault('snapshot', 'a snapshot must be a JSON object {project, version, flags}');
  const { project, version, flags } = value;
  if (typeof project !== 'string' || project === '') throw fault('project', 'the snapshot has no "project"');
  if (typeof version !== 'string') throw fault('version', 'the snapshot has no "version"');
  if (!Array.isArray(flags)) throw fault('flags', 'the snapshot has no "flags" list');
  return { project, version, flags: flags.map((flag: unknown, i) => parseSnapshotFlag(flag, `flags[${i}]`)) };
}

/** Checks a `change` event's data; the result holds the flag's fields, the project and the version. */
export function parseFlagUpdate(value: unknown): FlagUpdate {
  const flag = parseSnapshotFlag(value, 'the change');
  const { project, version } = value as Record<string, unknown>;
  if (typeof project !== 'string' || typeof version !== 'string') {
    throw fault(typeof project !== 'string' ? 'project' : 'version', 'the change has no "project" or "version"');
  }
  return { ...flag, project, version };
}

/** The flag's own fields of a snapshot flag or a change event (which also carries the project and version). */
export function snapshotFlagOf(flag: ProjectSnapshotFlag): ProjectSnapshotFlag {
  return { name: flag.name, flagType: flag.flagType, wtime: flag.wtime, revision: flag.revision };
}
