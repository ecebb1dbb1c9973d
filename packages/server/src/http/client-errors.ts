import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from './errors.js';

/**
 * Answers what Node's HTTP parser meets before there is a request to hand to a
 * route — a request too slow to arrive (408), headers too large (431), bytes that
 * are not HTTP (400) — with the service's error body, where Fastify's default
 * handler would answer in its own words. The connection is closed after it, as
 * Node does: the parser cannot tell where the next request would start.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] = clientErrorAnswer(error);
  const body = JSON.stringify(errorBody(status, message, randomUUID()));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function clientErrorAnswer(error: NodeJS.ErrnoException): [status: number, message: string] {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return [408, 'the request did not arrive in full in time: send it again'];
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return [431, "the request's headers are larger than the service accepts: send fewer or shorter headers"];
  }
  const reason = error.message.replace(/^Parse Error: /, '');
  return [400, `the request is not valid HTTP (${reason}): check the client or proxy that sent it`];
}
