import { STATUS_CODES } from 'node:http';
import { formatValue, isVexilError, type VexilErrorJSON } from '@vexil/core';

/**
 * The one place where errors become HTTP answers, after the runbook system's
 * exception table: Vexil's own errors carry their status; framework errors in
 * 400–499 pass through with their status, said in the service's own words (never
 * Fastify's codes); other HTTP errors answer 503; anything else is an unexpected 500.
 * Bodies are JSON and never hold a stack trace.
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
  /** Sent as `Retry-After`: when asking again may succeed, in seconds. */
  retryAfterSeconds?: number;
}

interface FrameworkError {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  validation?: unknown;
  validationContext?: string;
}

/** What the request said about its body, for messages about it. */
export interface RequestFacts {
  contentType?: string | undefined;
}

type Said = { code: string; message: string; field?: string };

/** Fastify's own client errors, each said as what is wrong with the request and what to send instead. */
const FRAMEWORK_ERRORS: Record<string, (facts: RequestFacts, message: string) => Said> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (facts) => ({
    code: 'UnsupportedMediaType',
    message: `a body of content type ${formatValue(facts.contentType ?? '')} is not accepted: send JSON with Content-Type: application/json`,
    field: 'Content-Type',
  }),
  FST_ERR_CTP_INVALID_JSON_BODY: () => ({
    code: 'InvalidInput',
    message: 'the request body is not valid JSON (Content-Type says application/json): send a JSON body',
    field: 'body',
  }),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => ({
    code: 'InvalidInput',
    message: 'the request body is empty but Content-Type says application/json: send a JSON body, or no Content-Type',
    field: 'body',
  }),
  FST_ERR_CTP_BODY_TOO_LARGE: () => ({
    code: 'PayloadTooLarge',
    message: 'the request body is larger than this endpoint accepts: send less per request',
    field: 'body',
  }),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => ({
    code: 'InvalidInput',
    message: 'the request body does not have the length its Content-Length header says',
    field: 'Content-Length',
  }),
  FST_ERR_BAD_URL: (_facts, message) => ({
    code: 'InvalidInput',
    message: `the request path is not valid: ${message}; percent-encode the parts that hold % or other reserved characters`,
  }),
};

/** Fastify's own client error in the service's words, for handlers that answer in another body (OFREP). */
export function frameworkErrorMessage(code: unknown, message: string, facts: RequestFacts = {}): string | undefined {
  const known = typeof code === 'string' ? FRAMEWORK_ERRORS[code] : undefined;
  return known?.(facts, message).message;
}

export function toHttpError(error: unknown, requestId: string, facts: RequestFacts = {}): HttpError {
  if (isVexilError(error)) {
    const json = error.toJSON();
    const answer: HttpError = {
      status: error.status,
      body: { ...json, detail: json.message, request_id: requestId },
      serverFault: error.status >= 500,
    };
    if (error.retryAfterSeconds !== undefined) answer.retryAfterSeconds = error.retryAfterSeconds;
    return answer;
  }
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as FrameworkError;
  const name = e.name ?? 'Error';
  const message = e.message ?? String(error);
  if (e.validation !== undefined) {
    return make(400, 'InvalidInput', `Invalid request: ${message}`, requestId, false, fieldOf(message));
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const framework = e.code?.startsWith('FST_') === true;
  if (status !== undefined && status >= 400 && status < 500) {
    const known = e.code === undefined ? undefined : FRAMEWORK_ERRORS[e.code];
    if (known !== undefined) {
      const said = known(facts, message);
      return make(status, said.code, said.message, requestId, false, said.field);
    }
    return make(status, framework || e.code === undefined ? statusCode(status) : e.code, message, requestId, false);
  }
  if (status !== undefined && status >= 500) {
    if (framework) return make(503, 'HTTPException', `the service could not answer: ${message}.`, requestId, true);
    return make(503, e.code ?? 'HTTPException', `An error of type ${name} caught: ${message}.`, requestId, true);
  }
  return make(500, 'UnexpectedError', `An unexpected error of type ${name} caught: ${message}.`, requestId, true);
}

/** 404 for a path no route serves. */
export function routeNotFound(method: string, url: string, requestId: string): HttpError {
  const path = url.split('?')[0];
  return make(404, 'NotFound', `no route ${method} ${path}; the API is described at /docs`, requestId, false);
}

/** The error body of an answer given outside any request (a client error on the connection). */
export function errorBody(status: number, message: string, requestId: string): HttpErrorBody {
  return make(status, statusCode(status), message, requestId, false).body;
}

/** The status's name as an error code: 415 → UnsupportedMediaType. */
function statusCode(status: number): string {
  return (STATUS_CODES[status] ?? 'ClientError').replace(/[^A-Za-z]+(\w)?/g, (_, next: string | undefined) =>
    next === undefined ? '' : next.toUpperCase(),
  );
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
