import { isVexilError, type VexilErrorJSON } from '@vexil/core';

/**
 * The one place where errors become HTTP answers, after the runbook system's
 * exception table: Vexil's own errors carry their status; framework errors in
 * 400–499 pass through as client errors; other HTTP errors answer 503; anything
 * else is an unexpected 500. Bodies are JSON and never hold a stack trace.
 */
export interface HttpErrorBody extends VexilErrorJSON {
  /** FastAPI's field name for the message, for clients of the runbook service. */
  detail: string;
  request_id: string;
}

export interface HttpError {
  status: number;
  body: HttpErrorBody;
  /** Server-side faults are logged as errors, client faults as info. */
  serverFault: boolean;
}

interface FrameworkError {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  validation?: unknown;
  validationContext?: string;
}

export function toHttpError(error: unknown, requestId: string): HttpError {
  if (isVexilError(error)) {
    const json = error.toJSON();
    return {
      status: error.status,
      body: { ...json, detail: json.message, request_id: requestId },
      serverFault: error.status >= 500,
    };
  }
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as FrameworkError;
  const name = e.name ?? 'Error';
  const message = e.message ?? String(error);
  if (e.validation !== undefined) {
    return make(400, 'InvalidInput', `Invalid request: ${message}`, requestId, false, fieldOf(message));
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined && status >= 400 && status < 500) {
    return make(
      status,
      e.code ?? 'ClientError',
      `A client-side error of type ${name} caught: ${message}`,
      requestId,
      false,
    );
  }
  if (status !== undefined && status >= 500) {
    return make(503, e.code ?? 'HTTPException', `An error of type ${name} caught: ${message}.`, requestId, true);
  }
  return make(500, 'UnexpectedError', `An unexpected error of type ${name} caught: ${message}.`, requestId, true);
}

function make(
  status: number,
  code: string,
  message: string,
  requestId: string,
  serverFault: boolean,
  field?: string,
): HttpError {
  const body: HttpErrorBody = { error: code, status, message, detail: message, request_id: requestId };
  if (field !== undefined) body.field = field;
  return { status, body, serverFault };
}

/** Ajv says `querystring/limit must be integer`; the field is the last path segment. */
function fieldOf(message: string): string | undefined {
  const match = /^(?:querystring|body|params|headers)\/?([\w.[\]/]*)/.exec(message);
  const path = match?.[1];
  return path ? path.split('/').pop() : undefined;
}
