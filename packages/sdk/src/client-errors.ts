import {
  ASK_BY_TYPE,
  type FlagType,
  flagTypeMismatchMessage,
  projectNotFoundMessage,
  VALUE_FLAG_TYPES,
} from '@vexil/core';

/**
 * Why a client answered a default (or a last known value) instead of a fresh one.
 * The codes follow OpenFeature's error codes where one fits, so the provider maps them
 * one to one.
 *
 * - `FLAG_NOT_FOUND`: no flag of that name and type in the project, it is archived, or the
 *   service answered 404.
 * - `TYPE_MISMATCH`: the flag exists with another type (`getFlagBoolean` reads feature
 *   flags, `getFlagString` data flags, `getFlagNumber` number flags, `getFlagJson` json flags).
 * - `TARGETING_KEY_MISSING`: the flag needs a targeting key (its override lists or
 *   percentages decide) and the evaluation context has none.
 * - `PARSE_ERROR`: a revision that does not validate, or an answer, snapshot or bootstrap
 *   file that cannot be read.
 * - `INVALID_ARGUMENT`: an instance id that is not a string of 1 to 1,000 characters (the
 *   service refuses those too), or another bad argument.
 * - `NOT_READY`: the in-process client has no flag data yet.
 * - `PROJECT_NOT_FOUND`: the service has no such project (the message names the known ones).
 * - `UNAVAILABLE`: the service cannot be reached, or the connection was lost.
 * - `TIMEOUT`: the service did not answer within the client's timeout.
 * - `HTTP_ERROR`: the service answered an error status (`status`), e.g. 500 or 503.
 * - `CLOSED`: the client was closed.
 * - `IO_ERROR`: the cache file could not be written.
 */
export type VexilClientErrorCode =
  | 'FLAG_NOT_FOUND'
  | 'TYPE_MISMATCH'
  | 'TARGETING_KEY_MISSING'
  | 'PARSE_ERROR'
  | 'INVALID_ARGUMENT'
  | 'NOT_READY'
  | 'PROJECT_NOT_FOUND'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'HTTP_ERROR'
  | 'CLOSED'
  | 'IO_ERROR';

/** What the client was doing: an evaluation, or one of its requests and files. */
export type ClientOperation =
  | 'evaluate'
  | 'get-feature-flag'
  | 'stream'
  | 'snapshot'
  | 'report'
  | 'bootstrap'
  | 'cache-file';

export interface VexilClientErrorOptions {
  operation: ClientOperation;
  flagName?: string | undefined;
  /** The HTTP status the service answered, if it answered. */
  status?: number | undefined;
  cause?: unknown;
}

/**
 * A problem a client met and recorded (`client.lastError`, the `error` event). Clients
 * never throw it from a get: they answer the default or the last known value.
 */
export class VexilClientError extends Error {
  readonly code: VexilClientErrorCode;
  readonly operation: ClientOperation;
  readonly flagName: string | undefined;
  readonly status: number | undefined;
  /** When it happened (for a repeated evaluation problem: when it was first seen for this flag data). */
  readonly at: Date;

  constructor(code: VexilClientErrorCode, message: string, options: VexilClientErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VexilClientError';
    this.code = code;
    this.operation = options.operation;
    this.flagName = options.flagName;
    this.status = options.status;
    this.at = new Date();
  }
}

/** Whether an error is from an aborted or timed-out fetch. */
function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** A failed fetch (network error, timeout or abort) as a client error. */
export function requestError(
  error: unknown,
  operation: ClientOperation,
  what: string,
  timeoutMs: number,
  flagName?: string,
): VexilClientError {
  if (error instanceof VexilClientError) return error;
  if (isAbort(error)) {
    return new VexilClientError('TIMEOUT', `${what}: no answer within ${timeoutMs} ms`, {
      operation,
      flagName,
      cause: error,
    });
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new VexilClientError('UNAVAILABLE', `${what}: the service cannot be reached (${detail})`, {
    operation,
    flagName,
    cause: error,
  });
}

/** What a get asked the service for, so its 404s can be told apart and said as the other client says them. */
export interface AskedFor {
  project: string;
  baseUrl: string;
  flagType?: FlagType | undefined;
}

/** Both clients' wording for a flag read by a type it does not have (core's message and hint). */
export function typeMismatchMessage(flagName: string, asked: FlagType, actual: FlagType): string {
  return `${flagTypeMismatchMessage(flagName, asked, actual)}: ${ASK_BY_TYPE.sdk(actual)}`;
}

/** The type the service said a flag has: its message ends with core's type-mismatch wording. */
function actualTypeSaid(message: string, flagName: string, asked: FlagType): FlagType | undefined {
  return VALUE_FLAG_TYPES.find(
    (type) => type !== asked && message.endsWith(flagTypeMismatchMessage(flagName, asked, type)),
  );
}

interface ServiceErrorBody {
  error?: unknown;
  message?: unknown;
  field?: unknown;
  known_projects?: unknown;
}

/**
 * An error status from the service, with the message of its JSON error body when it
 * has one. With `asked`, a 404 for a project that does not exist, or for a flag that
 * has the other type, is said as such (PROJECT_NOT_FOUND, TYPE_MISMATCH).
 */
export async function statusError(
  response: Response,
  operation: ClientOperation,
  what: string,
  flagName?: string,
  asked?: AskedFor,
): Promise<VexilClientError> {
  let message = '';
  let body: ServiceErrorBody | undefined;
  try {
    const text = await response.text();
    try {
      body = JSON.parse(text) as ServiceErrorBody;
      if (typeof body?.message === 'string') message = body.message;
    } catch {
      message = text.slice(0, 200);
    }
  } catch {
    // The body could not be read (a timeout while reading it): the status says enough.
  }
  const status = response.status;
  if (status === 404 && asked !== undefined && body !== undefined && body !== null) {
    if (body.error === 'ProjectNotFound') {
      const known = Array.isArray(body.known_projects)
        ? body.known_projects.filter((name): name is string => typeof name === 'string')
        : [];
      return new VexilClientError(
        'PROJECT_NOT_FOUND',
        projectNotFoundMessage(asked.project, known, `on ${asked.baseUrl}`),
        { operation, flagName, status },
      );
    }
    if (body.field === 'flag_type' && asked.flagType !== undefined && flagName !== undefined) {
      const actual = actualTypeSaid(message, flagName, asked.flagType);
      return new VexilClientError(
        'TYPE_MISMATCH',
        actual === undefined ? message : typeMismatchMessage(flagName, asked.flagType, actual),
        { operation, flagName, status },
      );
    }
  }
  const code: VexilClientErrorCode =
    status === 404 ? 'FLAG_NOT_FOUND' : status === 400 || status === 422 ? 'INVALID_ARGUMENT' : 'HTTP_ERROR';
  return new VexilClientError(code, `${what}: the service answered ${status}${message === '' ? '' : ` (${message})`}`, {
    operation,
    flagName,
    status: response.status,
  });
}
