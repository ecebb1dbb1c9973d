import { assertProjectName, type FlagType, InvalidInputError } from '@vexil/core';
import type { AccessEvent, AccessStore, FlagStore, StoredRow } from '@vexil/store';
import { ACTOR_FIELDS } from './actor.js';

/** What a change did, for people. */
export const AUDIT_ACTIONS = [
  'add',
  'update',
  'revision',
  'rollback',
  'archive',
  'disable',
  'enable',
  'segment',
  'token-create',
  'token-revoke',
  'settings',
  'webhook-add',
  'webhook-remove',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One change: who made it, when, from where, on behalf of whom. */
export interface AuditEntry {
  /** ISO 8601, UTC, with microseconds. */
  time: string;
  action: AuditAction;
  /** Who did it: the token's owner, or the OS user of a CLI command (OwnerID); absent for rows written by other tools without one. */
  actor?: string;
  onBehalfOf?: string;
  address?: string;
  tokenId?: string;
  project?: string;
  flagType?: FlagType;
  name?: string;
  /** The revision's time (flags and segments), or the token id / project (access changes). */
  subject?: string;
  detail?: string;
}

export interface AuditQuery {
  project?: string | undefined;
  /** ISO 8601 date or time: changes at or after it. */
  since?: string | undefined;
  /** The newest this many; 100 by default. */
  limit?: number | undefined;
}

export const DEFAULT_AUDIT_LIMIT = 100;
const MAX_AUDIT_LIMIT = 10_000;

/** A WTIME (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC) as ISO 8601. */
function wtimeIso(wtime: string): string {
  return `${wtime.replace(' ', 'T')}Z`;
}

/** An ISO time with milliseconds (Date#toISOString) as one with microseconds, so both kinds sort together. */
function microsIso(iso: string): string {
  return iso.replace(/\.(\d{3})Z$/, '.$1000Z');
}

function parseSince(since: string | undefined): string | undefined {
  if (since === undefined || since === '') return undefined;
  const time = /^\d{4}-\d{2}-\d{2}$/.test(since) ? Date.parse(`${since}T00:00:00Z`) : Date.parse(since);
  if (!/^\d{4}-\d{2}-\d{2}/.test(since) || Number.isNaN(time)) {
    throw new InvalidInputError(
      `since must be an ISO 8601 date or time (2024-09-25 or 2024-09-25T18:00:00Z), got ${JSON.stringify(since)}`,
      { field: 'since' },
    );
  }
  return microsIso(new Date(time).toISOString());
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_AUDIT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) {
    throw new InvalidInputError(`limit must be a whole number from 1 to ${MAX_AUDIT_LIMIT}, got ${limit}`, {
      field: 'limit',
    });
  }
  return limit;
}

function text(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The changes a project's rows record, in time order per flag. */
function rowEntries(rows: readonly StoredRow[]): AuditEntry[] {
  const entries: AuditEntry[] = [];
  const seenFlag = new Set<string>();
  const disabled = new Map<string, boolean>();
  for (const row of rows) {
    const id = `${row.ref.flagType}#${row.ref.name}`;
    const fields = row.fields;
    let action: AuditAction;
    let detail: string | undefined;
    if (row.kind === 'FLAG') {
      action = seenFlag.has(id) ? 'update' : 'add';
      seenFlag.add(id);
      detail = text(fields, 'Description');
    } else {
      const wasDisabled = disabled.get(id) === true;
      const isDisabled = fields.Disabled === true;
      disabled.set(id, isDisabled);
      if (text(fields, 'RollbackOf') !== undefined) action = 'rollback';
      else if (fields.Archived === true) action = 'archive';
      else if (isDisabled && !wasDisabled) action = 'disable';
      else if (!isDisabled && wasDisabled) action = 'enable';
      else action = 'revision';
      detail = text(fields, 'Comment');
    }
    if (row.ref.flagType === 'segment') {
      detail = `${action}${detail === undefined ? '' : `: ${detail}`}`;
      action = 'segment';
    }
    const entry: AuditEntry = {
      time: wtimeIso(row.wtime),
      action,
      project: row.ref.project,
      flagType: row.ref.flagType,
      name: row.ref.name,
      subject: row.wtime,
    };
    const actor = text(fields, ACTOR_FIELDS.owner);
    if (actor !== undefined) entry.actor = actor;
    const onBehalfOf = text(fields, ACTOR_FIELDS.onBehalfOf);
    if (onBehalfOf !== undefined) entry.onBehalfOf = onBehalfOf;
    const address = text(fields, ACTOR_FIELDS.address);
    if (address !== undefined) entry.address = address;
    const tokenId = text(fields, ACTOR_FIELDS.tokenId);
    if (tokenId !== undefined) entry.tokenId = tokenId;
    if (detail !== undefined) entry.detail = detail;
    entries.push(entry);
  }
  return entries;
}

function eventEntry(event: AccessEvent): AuditEntry {
  const entry: AuditEntry = {
    time: microsIso(event.time),
    action: event.action,
    actor: event.actor,
    subject: event.subject,
  };
  if (event.address !== undefined) entry.address = event.address;
  if (event.tokenId !== undefined) entry.tokenId = event.tokenId;
  if (event.projects.length === 1) entry.project = event.projects[0]!;
  if (event.detail !== undefined) entry.detail = event.detail;
  return entry;
}

/**
 * Who changed what: flag and segment changes read from their rows (each records its
 * actor), token and settings changes from the access store. Newest first.
 */
export async function readAudit(flags: FlagStore, access: AccessStore, query: AuditQuery = {}): Promise<AuditEntry[]> {
  const limit = checkLimit(query.limit);
  const since = parseSince(query.since);
  if (query.project !== undefined) assertProjectName(query.project, 'project');
  const projects = query.project !== undefined ? [query.project] : await flags.listProjects();
  const entries: AuditEntry[] = [];
  for (const project of projects) entries.push(...rowEntries(await flags.scanProject(project)));
  const events = await access.readAccessEvents({
    project: query.project,
    since: since?.replace(/(\.\d{3})\d{3}Z$/, '$1Z'),
  });
  entries.push(...events.map(eventEntry));
  return entries
    .filter((entry) => since === undefined || entry.time >= since)
    .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0))
    .slice(0, limit);
}
