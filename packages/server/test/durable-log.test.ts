import { type EvaluationLogEntry, MemoryStore } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { checkout, flagUrl, provider, serviceWithFlags } from './service-harness.js';

/** VEXIL_LOG_DURABLE=on: an evaluation is answered only once its log row is stored. */

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A store whose log writes can be made to fail. */
class FailingLogStore extends MemoryStore {
  failing = false;
  override async appendLogs(entries: readonly EvaluationLogEntry[]): Promise<void> {
    if (this.failing) throw new Error('disk full');
    return super.appendLogs(entries);
  }
}

describe('durable evaluation log', () => {
  it('every answered evaluation has its row in the store when the answer arrives, on every route', async () => {
    const service = await serviceWithFlags({ VEXIL_LOG_DURABLE: 'on', VEXIL_LOG_FLUSH_MS: '60000' });
    app = service.app;
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => app!.inject(flagUrl(i % 2 ? checkout : provider, `user-${i}`))),
    );
    const ofrep = await app.inject({
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/new_checkout',
      payload: { context: { targetingKey: 'ofrep-1', project_name: 'shop' } },
    });
    const bulk = await app.inject({
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags',
      payload: { context: { targetingKey: 'ofrep-bulk', project_name: 'shop' } },
    });
    // No flush: with a flush interval of a minute, only a write before answering puts the rows there.
    const rows = await service.store.readLogs({ project: 'shop', limit: 1000 });
    const ids = new Set(rows.map((row) => row.requestId));
    for (const answer of answers) {
      expect(answer.statusCode).toBe(200);
      expect(ids.has(answer.json().request_id)).toBe(true);
    }
    expect(ofrep.statusCode).toBe(200);
    expect(rows.filter((row) => row.instanceId === 'ofrep-1')).toHaveLength(1);
    expect(bulk.statusCode).toBe(200);
    expect(rows.filter((row) => row.instanceId === 'ofrep-bulk')).toHaveLength(2);
  });

  it('an evaluation whose row cannot be stored answers 503, not a value', async () => {
    const store = new FailingLogStore();
    const service = await serviceWithFlags({ VEXIL_LOG_DURABLE: 'on' }, store);
    app = service.app;
    store.failing = true;
    const refused = await app.inject(flagUrl(checkout, 'user-1'));
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ hint: expect.stringContaining('VEXIL_LOG_DURABLE') });
    store.failing = false;
    const answered = await app.inject(flagUrl(checkout, 'user-2'));
    expect(answered.statusCode).toBe(200);
    const rows = await store.readLogs({ project: 'shop' });
    expect(rows.map((row) => row.requestId)).toContain(answered.json().request_id);
  });
});
