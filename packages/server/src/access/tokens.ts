import { createHash, randomBytes } from 'node:crypto';
import {
  ACCESS_SCOPES,
  type AccessScope,
  assertProjectName,
  InvalidInputError,
  isAccessScope,
  TokenNotFoundError,
} from '@vexil/core';
import type { AccessStore, TokenRecord } from '@vexil/store';
import type { Actor } from './actor.js';

/** Every secret starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'vexil_';

/** Shortest `VEXIL_ADMIN_TOKEN` accepted: a guessable bootstrap token would open every project. */
export const MIN_TOKEN_LENGTH = 24;

/** A new secret: the prefix and 32 random bytes, base64url. */
export function newTokenSecret(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** How a secret is kept and looked up: SHA-256, hex. The secret itself is never stored. */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A public id: `tok_` and 10 random base64url characters. */
export function newTokenId(): string {
  return `tok_${randomBytes(8).toString('base64url').slice(0, 10)}`;
}

/** A token as shown to people and the API: everything but the hash. */
export interface TokenView {
  id: string;
  owner: string;
  scope: AccessScope;
  projects: string[];
  createdTime: string;
  createdBy: string;
  revokedTime?: string;
}

export function tokenView(record: TokenRecord): TokenView {
  const view: TokenView = {
    id: record.id,
    owner: record.owner,
    scope: record.scope,
    projects: [...record.projects],
    createdTime: record.createdTime,
    createdBy: record.createdBy,
  };
  if (record.revokedTime !== undefined) view.revokedTime = record.revokedTime;
  return view;
}

/** What a caller asks for: checked by `checkTokenRequest`. */
export interface TokenRequest {
  scope: unknown;
  projects?: unknown;
  owner: unknown;
}

export interface CheckedTokenRequest {
  scope: AccessScope;
  projects: string[];
  owner: string;
}

/** Checks a request for a token, naming the field at fault. */
export function checkTokenRequest(request: TokenRequest): CheckedTokenRequest {
  const { scope, owner } = request;
  if (!isAccessScope(scope)) {
    throw new InvalidInputError(`scope must be one of ${ACCESS_SCOPES.join(', ')}, got ${JSON.stringify(scope)}`, {
      field: 'scope',
    });
  }
  if (typeof owner !== 'string' || owner.trim() === '' || owner.length > 200) {
    throw new InvalidInputError(
      'owner is required: who the token belongs to (a person or a service, at most 200 characters); changes made with it are recorded as theirs',
      { field: 'owner' },
    );
  }
  const projects = request.projects ?? [];
  if (!Array.isArray(projects)) {
    throw new InvalidInputError('projects must be a list of project names', { field: 'projects' });
  }
  projects.forEach((project: unknown, i) => {
    assertProjectName(project, `projects[${i}]`);
  });
  if (scope === 'admin' && projects.length > 0) {
    throw new InvalidInputError('an admin token covers every project: give it no projects', { field: 'projects' });
  }
  if (scope !== 'admin' && projects.length === 0) {
    throw new InvalidInputError(`a ${scope} token needs at least one project (-p PROJECT, or "projects": […])`, {
      field: 'projects',
    });
  }
  return { scope, owner: owner.trim(), projects: [...new Set(projects as string[])] };
}

/** A token just made: its secret (shown this once) and what is kept of it. */
export interface IssuedToken {
  secret: string;
  token: TokenView;
}

/** Makes a token, stores it hashed, and records who made it. */
export async function issueToken(access: AccessStore, request: TokenRequest, actor: Actor): Promise<IssuedToken> {
  const checked = checkTokenRequest(request);
  const secret = newTokenSecret();
  const record: TokenRecord = {
    id: newTokenId(),
    hash: hashTokenSecret(secret),
    owner: checked.owner,
    scope: checked.scope,
    projects: checked.projects,
    createdTime: new Date().toISOString(),
    createdBy: actor.owner,
  };
  await access.putToken(record);
  await access.appendAccessEvent({
    time: record.createdTime,
    action: 'token-create',
    actor: actor.owner,
    tokenId: actor.tokenId,
    address: actor.address,
    projects: record.projects,
    subject: record.id,
    detail: `${record.scope} token for ${record.owner}${record.projects.length > 0 ? ` on ${record.projects.join(', ')}` : ''}`,
  });
  return { secret, token: tokenView(record) };
}

/** Revokes a token by id; refuses an unknown id, naming how to list them. */
export async function revokeToken(access: AccessStore, id: unknown, actor: Actor): Promise<TokenView> {
  if (typeof id !== 'string' || !/^tok_[A-Za-z0-9_-]{1,64}$/.test(id)) {
    throw new InvalidInputError(`token id must look like tok_XXXXXXXXXX, got ${JSON.stringify(id)}`, { field: 'id' });
  }
  const time = new Date().toISOString();
  const before = (await access.listTokens()).find((token) => token.id === id);
  const revoked = await access.revokeToken(id, time);
  if (revoked === undefined) {
    throw new TokenNotFoundError(`no token ${id}; list them with: vexil token list`, { field: 'id' });
  }
  if (before?.revokedTime === undefined) {
    await access.appendAccessEvent({
      time,
      action: 'token-revoke',
      actor: actor.owner,
      tokenId: actor.tokenId,
      address: actor.address,
      projects: revoked.projects,
      subject: revoked.id,
      detail: `${revoked.scope} token of ${revoked.owner}`,
    });
  }
  return tokenView(revoked);
}
