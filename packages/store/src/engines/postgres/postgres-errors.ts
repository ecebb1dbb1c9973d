import { InvalidInputError, isVexilError, TimeoutError, UnavailableError } from '@vexil/core';

/** What to check when the database cannot be used. Internal to the package. */
export const POSTGRES_HINT =
  'check that VEXIL_STORE names a reachable PostgreSQL database (postgres://USER:PASSWORD@HOST:PORT/DATABASE), ' +
  'that the server is running and accepts connections from this host, and that the user may use that database';

/** Node socket errors that mean the server cannot be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOENT', // no unix socket at the path
  'EACCES',
]);

/**
 * SQLSTATEs that mean the database cannot be used right now (rather than a bad call):
 * connection exceptions (08), shutdown and termination (57P0x), insufficient
 * resources (53), authorization (28), a missing database (3D000), a read-only
 * standby (25006), system errors (58) and corruption (XX001, XX002).
 */
const UNAVAILABLE_STATES = /^(08|53|28|58|57P0|3D000$|25006$|XX00[12]$)/;

/** pg's own messages for a connection that broke, closed, or never opened. */
const UNAVAILABLE_MESSAGES =
  /connection terminated|connection error|client was closed|cannot use a pool after calling end|timeout exceeded when trying to connect|connection timeout|not queryable/i;

/**
 * Turns a pg driver error into Vexil's: UnavailableError when the database cannot be
 * used (with a hint naming VEXIL_STORE), TimeoutError when a statement ran out of
 * time, InvalidInputError for values PostgreSQL cannot store. Others pass unchanged.
 * @internal
 */
export function toStoreError(error: unknown, where: string): unknown {
  if (isVexilError(error)) return error;
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
  const message = (error as Error)?.message ?? String(error);
  // 57014: statement_timeout (or a cancel); 55P03: lock_timeout.
  if (code === '57014' || code === '55P03' || /query read timeout/i.test(message)) {
    return new TimeoutError(`PostgreSQL store ${where} did not answer in time: ${message}`, {
      hint: 'the database is overloaded or a statement waited on a lock; try again, or raise statementTimeoutMs',
      cause: error,
    });
  }
  if (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.test(code) || UNAVAILABLE_MESSAGES.test(message)) {
    return new UnavailableError(`PostgreSQL store ${where} is unavailable: ${message}`, {
      hint: POSTGRES_HINT,
      cause: error,
    });
  }
  // 22021 / 22P05: a character the database cannot hold (such as U+0000); 54000: a key too long to index.
  if (code === '22021' || code === '22P05' || code === '54000') {
    return new InvalidInputError(`PostgreSQL store ${where} cannot store this value: ${message}`, { cause: error });
  }
  return error;
}

/** The URL without its password, for messages. @internal */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]*):[^@/]*@/, '://$1:***@');
  }
}
