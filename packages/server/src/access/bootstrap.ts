import { InvalidInputError } from '@vexil/core';
import type { AccessStore, TokenRecord } from '@vexil/store';
import { hashTokenSecret, issueToken, MIN_TOKEN_LENGTH, newTokenId } from './tokens.js';

/** The owner recorded for the bootstrap token (`VEXIL_ADMIN_TOKEN`) and the token a first start creates. */
export const BOOTSTRAP_OWNER = 'bootstrap';

/**
 * `VEXIL_ADMIN_TOKEN`: an admin token accepted as given, kept hashed like any other.
 * Stored once; a revoked one stays revoked (the variable does not bring it back).
 * Returns the stored record.
 */
export async function ensureAdminToken(access: AccessStore, secret: string): Promise<TokenRecord> {
  if (secret.length < MIN_TOKEN_LENGTH || /\s/.test(secret)) {
    throw new InvalidInputError(
      `VEXIL_ADMIN_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters without spaces: it opens every project`,
      { field: 'VEXIL_ADMIN_TOKEN', hint: 'make one with: openssl rand -base64 32' },
    );
  }
  const hash = hashTokenSecret(secret);
  const existing = await access.findToken(hash);
  if (existing !== undefined) return existing;
  const record: TokenRecord = {
    id: newTokenId(),
    hash,
    owner: BOOTSTRAP_OWNER,
    scope: 'admin',
    projects: [],
    createdTime: new Date().toISOString(),
    createdBy: BOOTSTRAP_OWNER,
  };
  await access.putToken(record);
  await access.appendAccessEvent({
    time: record.createdTime,
    action: 'token-create',
    actor: BOOTSTRAP_OWNER,
    projects: [],
    subject: record.id,
    detail: 'admin token from VEXIL_ADMIN_TOKEN',
  });
  return record;
}

/**
 * A first start with no token anywhere and no `VEXIL_ADMIN_TOKEN`: creates an admin
 * token and returns its secret, for the caller to show once. Undefined when any token exists.
 */
export async function firstAdminToken(access: AccessStore): Promise<{ secret: string; id: string } | undefined> {
  if ((await access.listTokens()).length > 0) return undefined;
  const { secret, token } = await issueToken(
    access,
    { scope: 'admin', owner: BOOTSTRAP_OWNER },
    { owner: BOOTSTRAP_OWNER },
  );
  return { secret, id: token.id };
}

/** How the first admin token is shown: on stderr, once, marked so that nobody misses it. */
export function firstTokenNotice(secret: string, id: string): string {
  const line = '='.repeat(72);
  return [
    line,
    `vexil: no API token existed, so an admin token (${id}) was created.`,
    'It is shown this once and never logged; keep it somewhere safe:',
    '',
    `    ${secret}`,
    '',
    'Send it as "Authorization: Bearer <token>"; make narrower tokens with',
    '"vexil token create". Set VEXIL_ADMIN_TOKEN to choose the admin token yourself.',
    line,
    '',
  ].join('\n');
}
