import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { answerClientError } from '../src/http/client-errors.js';
import { serviceWithFlags } from './service-harness.js';

/** Fastify's own wording, which no answer may carry. */
const FRAMEWORK_WORDING = /FST_|FastifyError|client-side error|Client Error|Client Timeout/;

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function service(): Promise<FastifyInstance> {
  app = (await serviceWithFlags()).app;
  return app;
}

/** The documented error body: `{error, status, message, detail, field?, request_id}`, in the service's words. */
function expectErrorBody(status: number, text: string, contentType: unknown): Record<string, unknown> {
  expect(String(contentType)).toContain('application/json');
  expect(text).not.toMatch(FRAMEWORK_WORDING);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body).toMatchObject({ status, message: expect.any(String), request_id: expect.any(String) });
  expect(body.detail).toBe(body.message);
  expect(body.error).toMatch(/^[A-Z][A-Za-z]+$/);
  return body;
}

/** Sends raw bytes to a listening service and resolves with what it answers before closing. */
function rawRequest(port: number, bytes: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = received.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      resolve({ status, headers: head, body });
    });
  });
}

describe('framework and connection errors answer with the service error body', () => {
  it('415 for a body of a content type the service does not parse, naming it', async () => {
    const service_ = await service();
    const response = await service_.inject({
      method: 'POST',
      url: '/admin/v1/apply',
      headers: { 'content-type': 'application/xml' },
      body: '<configs/>',
    });
    expect(response.statusCode).toBe(415);
    const body = expectErrorBody(415, response.body, response.headers['content-type']);
    expect(body).toMatchObject({
      error: 'UnsupportedMediaType',
      field: 'Content-Type',
      message:
        'a body of content type "application/xml" is not accepted: send JSON with Content-Type: application/json',
    });
  });

  it('400 naming the body for an empty JSON body and for one that is not JSON', async () => {
    const service_ = await service();
    for (const [payload, message] of [
      ['', /^the request body is empty but Content-Type says application\/json/],
      ['[1,', /^the request body is not valid JSON/],
    ] as const) {
      const response = await service_.inject({
        method: 'POST',
        url: '/sdk/v1/evaluations',
        headers: { 'content-type': 'application/json' },
        body: payload,
      });
      expect(response.statusCode).toBe(400);
      const body = expectErrorBody(400, response.body, response.headers['content-type']);
      expect(body).toMatchObject({ error: 'InvalidInput', field: 'body' });
      expect(body.message).toMatch(message);
    }
  });

  it('400 for a path that is not a valid URL, and 404 for one no route serves', async () => {
    const service_ = await service();
    const bad = await service_.inject({ method: 'GET', url: '/get-feature-flag%' });
    expect(bad.statusCode).toBe(400);
    const badBody = expectErrorBody(400, bad.body, bad.headers['content-type']);
    expect(badBody).toMatchObject({ error: 'InvalidInput' });
    expect(badBody.message).toMatch(/^the request path is not valid: .*percent-encode/);
    const missing = await service_.inject({
      method: 'DELETE',
      url: '/get-feature-flag?x=1',
      headers: { 'x-request-id': 'r1' },
    });
    expect(missing.statusCode).toBe(404);
    expect(expectErrorBody(404, missing.body, missing.headers['content-type'])).toMatchObject({
      error: 'NotFound',
      message: 'no route DELETE /get-feature-flag; the API is described at /docs',
      request_id: 'r1',
    });
  });

  it('431 for headers too large and 400 for bytes that are not HTTP, over a real connection', async () => {
    const service_ = await service();
    await service_.listen({ port: 0, host: '127.0.0.1' });
    const address = service_.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;

    const large = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(large.status).toBe(431);
    expect(expectErrorBody(431, large.body, /content-type: ([^\r]+)/i.exec(large.headers)?.[1])).toMatchObject({
      error: 'RequestHeaderFieldsTooLarge',
      message: "the request's headers are larger than the service accepts: send fewer or shorter headers",
    });

    const garbage = await rawRequest(port, 'HELLO THERE\r\n\r\n');
    expect(garbage.status).toBe(400);
    const body = expectErrorBody(400, garbage.body, /content-type: ([^\r]+)/i.exec(garbage.headers)?.[1]);
    expect(body.error).toBe('BadRequest');
    expect(body.message).toMatch(/^the request is not valid HTTP \(.+\): check the client or proxy that sent it$/);
  });

  it('408 when a request does not arrive in time (the answer Node asks for on its timeout)', () => {
    const socket = new PassThrough();
    let written = '';
    socket.on('data', (chunk: Buffer) => {
      written += chunk.toString();
    });
    socket.on('error', () => undefined);
    answerClientError(Object.assign(new Error('request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket);
    const [head = '', text = ''] = written.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(expectErrorBody(408, text, /content-type: ([^\r]+)/i.exec(head)?.[1])).toMatchObject({
      error: 'RequestTimeout',
      message: 'the request did not arrive in full in time: send it again',
    });
    expect(socket.destroyed).toBe(true);
  });
});
