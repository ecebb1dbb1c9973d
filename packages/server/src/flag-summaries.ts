import { isValueFlagType, isVexilError, parseRevision, type RevisionMetadata, type ValueFlagType } from '@vexil/core';
import type { EvaluationLogSink, FlagStore, StoredRow } from '@vexil/store';
import { ACTOR_FIELDS } from './access/actor.js';

/** Who made a flag's newest row (FLAG or REVISION), and when. */
export interface LastChange {
  /** The row's WTIME. */
  time: string;
  /** `revision`: new rules (or a rollback, archive, kill switch…); `flag`: the description changed or the flag was added. */
  kind: 'flag' | 'revision';
  /** OwnerID: the token's owner (API), the OS user (CLI), or what another tool wrote. */
  owner?: string;
  onBehalfOf?: string;
  tokenId?: string;
  comment?: string;
}

/** One flag of the dashboard's flags page: everything it shows, from one scan of the project. */
export interface FlagSummary {
  flagType: ValueFlagType;
  name: string;
  description?: string;
  /** The WTIME of the flag's first FLAG row. */
  createdTime: string;
  /** The revision in force, as stored (a row that does not validate is shown as it is, see `problem`). */
  latestRevision?: { wtime: string; revision: Record<string, unknown> };
  revisionCount: number;
  lastChange: LastChange;
  archived: boolean;
  disabled: boolean;
  /** The revision in force's Metadata (owner, ticket, expires and any other keys); {} when none. */
  metadata: RevisionMetadata;
  /** The newest evaluation-log time of the flag (served or reported), UTC `YYYY-MM-DD HH:MM:SS.ffffff`; null when never logged. */
  lastEvaluated: string | null;
  /** Present when the revision in force does not validate: what core says is wrong with it. */
  problem?: { message: string; field?: string };
}

interface FlagRows {
  flags: StoredRow[];
  revisions: StoredRow[];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function lastChangeOf(row: StoredRow): LastChange {
  const change: LastChange = { time: row.wtime, kind: row.kind === 'FLAG' ? 'flag' : 'revision' };
  const owner = text(row.fields[ACTOR_FIELDS.owner]);
  const onBehalfOf = text(row.fields[ACTOR_FIELDS.onBehalfOf]);
  const tokenId = text(row.fields[ACTOR_FIELDS.tokenId]);
  const comment = text(row.fields.Comment);
  if (owner !== undefined) change.owner = owner;
  if (onBehalfOf !== undefined) change.onBehalfOf = onBehalfOf;
  if (tokenId !== undefined) change.tokenId = tokenId;
  if (comment !== undefined) change.comment = comment;
  return change;
}

function summaryOf(flagType: ValueFlagType, name: string, rows: FlagRows): Omit<FlagSummary, 'lastEvaluated'> {
  // Rows of a flag arrive in key order: by kind, then time, so the last of each kind is its newest.
  const flag = rows.flags[rows.flags.length - 1]!;
  const latest = rows.revisions[rows.revisions.length - 1];
  const newest = latest !== undefined && latest.wtime > flag.wtime ? latest : flag;
  const summary: Omit<FlagSummary, 'lastEvaluated'> = {
    flagType,
    name,
    createdTime: rows.flags[0]!.wtime,
    revisionCount: rows.revisions.length,
    lastChange: lastChangeOf(newest),
    archived: latest?.fields.Archived === true,
    disabled: latest?.fields.Disabled === true,
    metadata: {},
  };
  const description = text(flag.fields.Description);
  if (description !== undefined) summary.description = description;
  if (latest !== undefined) {
    summary.latestRevision = { wtime: latest.wtime, revision: latest.fields };
    try {
      const revision = parseRevision(latest.fields, { mode: 'stored', flagType, name });
      summary.metadata = revision.Metadata ?? {};
    } catch (error) {
      if (!isVexilError(error)) throw error;
      summary.problem =
        error.field === undefined ? { message: error.message } : { message: error.message, field: error.field };
    }
  }
  return summary;
}

/**
 * Every flag of a project (archived ones too; segments are not flags), by type then
 * name, from one scan of the project's rows and one question to the log for the
 * flags' last evaluations: never a query per flag. Undefined when the project has no rows.
 */
export async function summarizeFlags(
  store: FlagStore & EvaluationLogSink,
  project: string,
): Promise<FlagSummary[] | undefined> {
  const rows = await store.scanProject(project);
  if (rows.length === 0) return undefined;
  const byFlag = new Map<string, { flagType: ValueFlagType; name: string; rows: FlagRows }>();
  for (const row of rows) {
    const { flagType, name } = row.ref;
    if (!isValueFlagType(flagType)) continue;
    const id = `${flagType}#${name}`;
    let entry = byFlag.get(id);
    if (entry === undefined) {
      entry = { flagType, name, rows: { flags: [], revisions: [] } };
      byFlag.set(id, entry);
    }
    (row.kind === 'FLAG' ? entry.rows.flags : entry.rows.revisions).push(row);
  }
  for (const entry of byFlag.values()) {
    // Key order is by kind first on some layouts: sort each kind by time, to be sure of "newest last".
    entry.rows.flags.sort((a, b) => (a.wtime < b.wtime ? -1 : a.wtime > b.wtime ? 1 : 0));
    entry.rows.revisions.sort((a, b) => (a.wtime < b.wtime ? -1 : a.wtime > b.wtime ? 1 : 0));
  }
  // A REVISION row without a FLAG row (another tool's leftovers) is no flag: evaluation answers "no flag data" for it.
  const flags = [...byFlag.values()]
    .filter((entry) => entry.rows.flags.length > 0)
    .sort((a, b) => (a.flagType === b.flagType ? compare(a.name, b.name) : compare(a.flagType, b.flagType)));
  const evaluated = await store.lastLogTimes(
    project,
    flags.map((entry) => ({ flagType: entry.flagType, flagName: entry.name })),
  );
  return flags.map((entry, i) => ({
    ...summaryOf(entry.flagType, entry.name, entry.rows),
    lastEvaluated: evaluated[i] ?? null,
  }));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
