/**
 * Why the client answered a default instead of a fresh value. The evaluation codes are
 * OpenFeature's (and OFREP's), so the provider maps them one to one.
 *
 * - `FLAG_NOT_FOUND`: no such flag for this context (not in the project, archived, a segment).
 * - `TYPE_MISMATCH`: the flag's value is of another type than the get asked for.
 * - `TARGETING_KEY_MISSING`: the flag needs the context's `targetingKey` (a percentage decides).
 * - `INVALID_CONTEXT`: the context cannot be evaluated (e.g. a name with flags of several types and no `flag_type`).
 * - `PARSE_ERROR`: a stored revision that does not validate, or an answer that cannot be read.
 * - `GENERAL`: any other evaluation failure the service reported.
 * - `NOT_READY`: no answers yet.
 * - `PROJECT_NOT_FOUND`: the service has no such project.
 * - `UNAUTHORIZED` / `FORBIDDEN`: the token is missing, unknown, revoked, or not for this project.
 * - `UNAVAILABLE`: the service cannot be reached, or the stream was lost.
 * - `TIMEOUT`: the service did not answer within `timeoutMs`.
 * - `HTTP_ERROR`: another error status (`status`).
 */
export type VexilWebErrorCode =
  | 'FLAG_NOT_FOUND'
  | 'TYPE_MISMATCH'
  | 'TARGETING_KEY_MISSING'
  | 'INVALID_CONTEXT'
  | 'PARSE_ERROR'
  | 'GENERAL'
  | 'NOT_READY'
  | 'PROJECT_NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'HTTP_ERROR';

/** A problem the client met: in `client.lastError` and the `error` event; gets never throw it. */
export class VexilWebError extends Error {
  readonly code: VexilWebErrorCode;
  /** The HTTP status the service answered, when it answered. */
  readonly status: number | undefined;

  constructor(code: VexilWebErrorCode, message: string, status?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'VexilWebError';
    this.code = code;
    this.status = status;
  }
}
