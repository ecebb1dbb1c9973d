import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { lazyRequestLogger } from '../src/http/request-logger.js';
import { checkout, flagUrl, serviceWithFlags } from './service-harness.js';
import { buildTestApp } from './support/test-token.js';

function parent(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = pino({ level }, stream);
  let children = 0;
  const child = logger.child;
  // pino's children inherit from their parent object, so this counts theirs too.
  logger.child = function (this: typeof logger, bindings, options) {
    children++;
    return child.call(this, bindings, options);
  } as typeof logger.child;
  return { logger: logger as unknown as FastifyBaseLogger, lines, children: () => children };
}

describe('request loggers', () => {
  it('make no pino child for lines below the level, and write enabled lines with the request id', async () => {
    const { logger, lines, children } = parent('warn');
    const log = lazyRequestLogger(logger, { request_id: 'r-1' }, {});
    log.info({ status: 200 }, 'response');
    log.debug('detail');
    expect(children()).toBe(0);
    expect(log.level).toBe('warn');
    log.error({ status: 500 }, 'failed');
    log.warn('slow');
    await new Promise((resolve) => setImmediate(resolve));
    expect(children()).toBe(1);
    expect(lines.map(({ request_id, msg, status }) => ({ request_id, msg, status }))).toEqual([
      { request_id: 'r-1', msg: 'failed', status: 500 },
      { request_id: 'r-1', msg: 'slow', status: undefined },
    ]);
  });

  it('follow a level set on the request logger, and make children that keep the request id', async () => {
    const { logger, lines } = parent('warn');
    const log = lazyRequestLogger(logger, { request_id: 'r-2' }, {});
    log.level = 'debug';
    log.debug('now shown');
    log.child({ part: 'store' }).info('from a child');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map(({ request_id, part, msg }) => ({ request_id, part, msg }))).toEqual([
      { request_id: 'r-2', part: undefined, msg: 'now shown' },
      { request_id: 'r-2', part: 'store', msg: 'from a child' },
    ]);
  });
});

describe('request logging in the service', () => {
  async function logged(level: string) {
    const { store } = await serviceWithFlags();
    const lines: Record<string, unknown>[] = [];
    const app = await buildTestApp({
      config: loadConfig({ VEXIL_STORE: 'memory:', LOG_LEVEL: level }),
      store,
      logger: true,
      logStream: { write: (line) => lines.push(JSON.parse(line)) },
      defaultMetrics: false,
    });
    await app.inject({ url: flagUrl(checkout, 'qa-1'), headers: { 'x-request-id': 'req-1' } });
    await app.inject({
      url: flagUrl({ ...checkout, flagType: 'bogus' as 'feature' }, 'qa-1'),
      headers: { 'x-request-id': 'req-2' },
    });
    await app.close();
    return lines.filter((line) => line.request_id !== undefined);
  }

  it('at debug, writes a request and a response line per request, each with its request id', async () => {
    const lines = await logged('debug');
    expect(lines.filter((l) => l.request_id === 'req-1').map((l) => l.msg)).toEqual(['request', 'response']);
    expect(lines.find((l) => l.request_id === 'req-1' && l.msg === 'response')).toMatchObject({ status: 200 });
  });

  it('at info, writes only the lines of requests that had something to say', async () => {
    const lines = await logged('info');
    expect(lines.map((l) => [l.request_id, l.status, l.error])).toEqual([['req-2', 400, 'InvalidFlagTypeException']]);
  });
});
