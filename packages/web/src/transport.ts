import { VexilWebError } from './web-error.js';

/** How the client reaches the service: the same for OFREP, the snapshot and the stream. */
export interface Transport {
  /** The service, without trailing slashes. */
  readonly baseUrl: string;
  readonly project: string;
  /** Sent with every request: `Authorization: Bearer <token>` when the client has a token. */
  readonly headers: Readonly<Record<string, string>>;
  readonly fetch: typeof fetch;
  /** A request (a stream's connect) must answer within this. */
  readonly timeoutMs: number;
}

/** The snapshot and stream URLs of the transport's project (docs/sdk-protocol.md). */
export function projectUrl(transport: Transport, what: 'snapshot' | 'stream'): string {
  return `${transport.baseUrl}/sdk/v1/projects/${encodeURIComponent(transport.project)}/${what}`;
}

/**
 * One request: answers the response when its status is 2xx or 304, else throws a
 * VexilWebError saying what the service said (its error body's message or OFREP's
 * errorDetails). `signal` aborts it (the client closing); `timeoutMs` bounds it up to
 * the response headers.
 */
export async function send(
  transport: Transport,
  url: string,
  init: RequestInit,
  what: string,
  signal?: AbortSignal,
): Promise<Response> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), transport.timeoutMs);
  let response: Response;
  try {
    response = await transport.fetch(url, {
      ...init,
      headers: { ...transport.headers, ...(init.headers as Record<string, string> | undefined) },
      // The caller's signal goes on governing the body (a stream's); the timeout ends with the headers.
      signal: signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]),
    });
  } catch (error) {
    throw timeout.signal.aborted && signal?.aborted !== true
      ? new VexilWebError('TIMEOUT', `${what}: no answer within ${transport.timeoutMs} ms`, undefined, error)
      : new VexilWebError(
          'UNAVAILABLE',
          `${what}: ${transport.baseUrl} cannot be reached (${messageOf(error)})`,
          undefined,
          error,
        );
  } finally {
    clearTimeout(timer);
  }
  if (response.ok || response.status === 304) return response;
  throw await statusError(response, what);
}

/** The service's error answer as a VexilWebError. */
async function statusError(response: Response, what: string): Promise<VexilWebError> {
  let said = '';
  try {
    const body = (await response.json()) as {
      message?: unknown;
      errorDetails?: unknown;
      error?: unknown;
      errorCode?: unknown;
    };
    const text = body.message ?? body.errorDetails;
    if (typeof text === 'string') said = text;
    if (response.status === 404 && body.error === 'ProjectNotFound') {
      return new VexilWebError('PROJECT_NOT_FOUND', `${what}: ${said}`, 404);
    }
    // OFREP's word that the context is at fault (a 400 for the whole bulk request).
    if (body.errorCode === 'TARGETING_KEY_MISSING' || body.errorCode === 'INVALID_CONTEXT') {
      return new VexilWebError(body.errorCode, `${what}: ${said}`, response.status);
    }
  } catch {
    // Not a JSON error body (a proxy's page): the status says enough.
  }
  const status = response.status;
  const code = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : 'HTTP_ERROR';
  return new VexilWebError(code, `${what}: the service answered ${status}${said === '' ? '' : ` (${said})`}`, status);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
