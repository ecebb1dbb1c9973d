import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { MAX_REQUEST_ID_LENGTH } from '@vexil/core';

/** The caller's `X-Request-Id` when it is usable, else a fresh UUID. */
export function requestId(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  if (typeof header === 'string' && header.length > 0 && header.length <= MAX_REQUEST_ID_LENGTH) return header;
  return randomUUID();
}
