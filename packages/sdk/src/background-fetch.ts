import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/**
 * A fetch whose connection never keeps the process alive, for the change stream: it
 * stays open for the client's whole life, and a script that forgets `close()` must
 * still exit. Node's own fetch (undici) refs its socket while a response is open and
 * offers no way to unref it, so this one goes through node:http with its socket
 * unref'd and a connection of its own (no pool that would ref it again). It does what
 * the stream asks for — a GET with headers and an abort signal — and answers a
 * standard Response.
 */
export function backgroundFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const headers = Object.fromEntries(new Headers(init.headers).entries());
  const signal = init.signal ?? undefined;
  const method = init.method ?? 'GET';
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, { method, headers, agent: false, signal }, (response) => {
      const status = response.statusCode ?? 502;
      const bodyless = method === 'HEAD' || status === 204 || status === 304;
      if (bodyless) response.resume();
      resolve(
        new Response(bodyless ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>), {
          status,
          statusText: response.statusMessage ?? '',
          headers: toHeaders(response.headers),
        }),
      );
    });
    request.on('socket', (socket) => socket.unref());
    request.on('error', reject);
    request.end();
  });
}

function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
}
