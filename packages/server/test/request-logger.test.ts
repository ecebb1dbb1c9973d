import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyRequestLogger } from '../src/http/request-logger.js';

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
