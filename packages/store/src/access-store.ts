import type { AccessScope } from '@vexil/core';

/** An API token as kept: never its secret, only the secret's SHA-256 (hex), which is how it is found. */
export interface TokenRecord {
  /** Public and short (`tok_…`): what lists, audits and `vexil token revoke` name. */
  id: string;
  /** SHA-256 of the secret, hex: the lookup key. */
  hash: string;
  /** Who the token belongs to: recorded as the `OwnerID` of every change made with it. */
  owner: string;
  scope: AccessScope;
  /** The projects a read or write token may use; empty for admin (every project). */
  projects: string[];
  /** ISO 8601, UTC. */
  createdTime: string;
  /** Who created it (a token's owner, an OS user, `bootstrap`). */
  createdBy: string;
  /** ISO 8601, UTC; absent while the token is valid. */
  revokedTime?: string | undefined;
}

/** Whether a project's revisions take effect only once another token owner approves them. */
export interface ApprovalSettings {
  required: boolean;
  /** A proposal not approved within this many hours expires. */
  expiryHours: number;
}

/** A project's access settings. A project with flags and no settings predates them: evaluation is public. */
export interface ProjectSettings {
  project: string;
  /** true: evaluation routes answer without a token; false: they need a `read` token for the project. */
  publicEvaluation: boolean;
  /** Changes need another owner's approval (docs/change-management.md); off when absent. */
  approvals?: ApprovalSettings | undefined;
  /** ISO 8601, UTC. */
  updatedTime: string;
  updatedBy: string;
}

export const ACCESS_ACTIONS = ['token-create', 'token-revoke', 'settings', 'webhook-add', 'webhook-remove'] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];

/** A change to tokens, settings or webhooks, for the audit view (flag changes are recorded on their rows). */
export interface AccessEvent {
  /** ISO 8601, UTC. */
  time: string;
  action: AccessAction;
  /** Who did it: a token's owner, or the OS user of a CLI command. */
  actor: string;
  /** The token that did it, when over the API. */
  tokenId?: string | undefined;
  /** The caller's address, when over the API. */
  address?: string | undefined;
  /** The projects concerned: a project's settings, a read or write token's projects; empty for an admin token. */
  projects: string[];
  /** What was changed: a token id, a project name. */
  subject: string;
  /** A short description: the new scope and projects, the new setting. */
  detail?: string | undefined;
}

export interface AccessEventQuery {
  /** Events at or after this ISO 8601 time. */
  since?: string | undefined;
  /** Only events concerning this project. */
  project?: string | undefined;
  /** At most this many, the newest ones. */
  limit?: number | undefined;
}

/**
 * The kinds of small records Vexil's features keep beside tokens and settings, each a
 * JSON document under a key (at most 1,000 characters), listed in key order. Add a kind
 * here: every engine keeps any kind in the same table, with no migration.
 */
export const RECORD_KINDS = [
  /** A configured webhook, by id (packages/server webhooks). */
  'webhook',
  /** A webhook delivery and its attempts, by time then id. */
  'webhook-delivery',
  /** A scheduled revision (or a ramp's step), by id (packages/server schedules). */
  'schedule',
  /** A progressive ramp plan and its state, by id. */
  'ramp',
  /** A change waiting for another owner's approval, by id. */
  'proposal',
  /** A pending schedule's place in time, by due time then id: what a scheduler reads on each check. */
  'schedule-due',
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** A record as listed: its key and its document as written. */
export interface FeatureRecord<T extends object> {
  key: string;
  value: T;
}

/**
 * Who may do what: API tokens and per-project access settings, kept beside the flags
 * in the same engine (`StoreEngine.access`) but apart from the runbook system's rows.
 */
export interface AccessStore {
  /** Stores a token, replacing any with the same hash. */
  putToken(token: TokenRecord): Promise<void>;
  /** The token whose secret hashes to `hash`, revoked or not. */
  findToken(hash: string): Promise<TokenRecord | undefined>;
  /** Every token, revoked ones too, oldest first. */
  listTokens(): Promise<TokenRecord[]>;
  /** Marks token `id` revoked at `time` (a token already revoked keeps its time); undefined when there is none. */
  revokeToken(id: string, time: string): Promise<TokenRecord | undefined>;
  projectSettings(project: string): Promise<ProjectSettings | undefined>;
  putProjectSettings(settings: ProjectSettings): Promise<void>;
  appendAccessEvent(event: AccessEvent): Promise<void>;
  /** Events in time order (oldest first). */
  readAccessEvents(query?: AccessEventQuery): Promise<AccessEvent[]>;
  /** Writes a record of a feature (RECORD_KINDS), replacing any under the same kind and key. */
  putRecord(kind: RecordKind, key: string, value: object): Promise<void>;
  /** The record as written (JSON), or undefined. */
  getRecord<T extends object>(kind: RecordKind, key: string): Promise<T | undefined>;
  /** Every record of a kind whose key is at least `from`, in key order (byte order). */
  listRecords<T extends object>(kind: RecordKind, from?: string): Promise<FeatureRecord<T>[]>;
  /** Removes a record; true when there was one. */
  deleteRecord(kind: RecordKind, key: string): Promise<boolean>;
  /**
   * Compare-and-set: writes `value` only if the record is still `expected` as read
   * (the same JSON; `null`: only if there is none), in one step on every engine, so of
   * writers racing from one read exactly one wins. True when written.
   */
  replaceRecord(kind: RecordKind, key: string, expected: object | null, value: object): Promise<boolean>;
}
