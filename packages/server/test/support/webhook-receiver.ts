import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver written from docs/webhooks.md alone ("Verifying a delivery"), not
 * from the sending code: it reads the raw body, checks `Vexil-Signature` (t within 300
 * seconds of its own clock, any v1 equal to hex HMAC-SHA256(secret, t + "." + body) in
 * constant time), drops repeated delivery ids, and answers as the test tells it.
 */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** Why the receiver refused it, or undefined when the signature and timestamp held. */
  refused?: string;
  /** The parsed body, when it verified. */
  payload?: Record<string, unknown>;
  repeat: boolean;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Status answers for the next verified deliveries, in order (then 200). */
  answers: number[];
  /** While set, verified deliveries wait for it before being answered. */
  hold?: Promise<void>;
  close(): Promise<void>;
}

const TOLERANCE_SECONDS = 300;

export function verifyFromDocs(
  secret: string,
  header: string | undefined,
  body: string,
  nowSeconds: number,
): string | undefined {
  const parts = (header ?? '').split(',').map((part) => {
    const at = part.indexOf('=');
    return at < 0 ? [part, undefined] : [part.slice(0, at), part.slice(at + 1)];
  });
  const t = parts.find(([key]) => key === 't')?.[1];
  if (t === undefined || !/^\d+$/.test(t)) return 'no timestamp';
  if (Math.abs(nowSeconds - Number(t)) > TOLERANCE_SECONDS) return 'timestamp outside the tolerance';
  const expected = Buffer.from(
    createHmac('sha256', Buffer.from(secret, 'utf8'))
      .update(Buffer.from(`${t}.${body}`, 'utf8'))
      .digest('hex'),
  );
  const matches = parts.some(
    ([key, value]) =>
      key === 'v1' &&
      value !== undefined &&
      value.length === expected.length &&
      timingSafeEqual(Buffer.from(value), expected),
  );
  return matches ? undefined : 'signature mismatch';
}

export async function startReceiver(secret: string): Promise<Receiver> {
  const seen = new Set<string>();
  const receiver: Receiver = {
    url: '',
    received: [],
    answers: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = request.headers['vexil-signature'];
      const refused = verifyFromDocs(secret, typeof header === 'string' ? header : undefined, body, Date.now() / 1000);
      const id = String(request.headers['vexil-delivery']);
      const entry: Received = { headers: request.headers, body, repeat: false };
      receiver.received.push(entry);
      if (refused !== undefined) {
        entry.refused = refused;
        response.writeHead(401).end(refused);
        return;
      }
      entry.payload = JSON.parse(body) as Record<string, unknown>;
      if (receiver.hold !== undefined) await receiver.hold;
      const status = receiver.answers.shift() ?? 200;
      entry.repeat = seen.has(id);
      if (status >= 200 && status < 300) seen.add(id);
      response.writeHead(status).end();
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/vexil`;
  return receiver;
}

/** Retry timers the test runs by hand: no test waits for a backoff. */
export class ManualTimers {
  readonly waiting: { run: () => void; ms: number }[] = [];
  readonly delays: number[] = [];

  setTimeout = (run: () => void, ms: number): unknown => {
    const entry = { run, ms };
    this.waiting.push(entry);
    this.delays.push(ms);
    return entry;
  };

  clearTimeout = (handle: unknown): void => {
    const at = this.waiting.indexOf(handle as { run: () => void; ms: number });
    if (at >= 0) this.waiting.splice(at, 1);
  };

  /** Runs every retry waiting now (as if their time had come). */
  runAll(): number {
    const due = this.waiting.splice(0);
    for (const entry of due) entry.run();
    return due.length;
  }
}
