import { formatWTime } from '@vexil/core';
import { type EvaluationLogEntry, MemoryStore } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Env } from '../src/config.js';
import { checkout, flagUrl, flushLog, provider, serviceWithFlags } from './service-harness.js';

/**
 * Reports (POST /sdk/v1/evaluations) are a client's claims about what it answered: only
 * those the flag's revision can give, at a time near now, enter the log, marked as
 * reported; the rest are refused and counted. Reports have a queue of their own, so a
 * flood of them cannot push served evaluations out of the log.
 */

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const secondsAgo = (seconds: number) => formatWTime(Math.round((Date.now() - seconds * 1000) * 1000));

const evaluation = (overrides: Record<string, unknown> = {}) => ({
  flagType: 'feature',
  flagName: 'new_checkout',
  instanceId: 'A1',
  value: true,
  group: 'treatment',
  time: secondsAgo(60),
  ...overrides,
});

function report(service: FastifyInstance, evaluations: Record<string, unknown>[], project = 'shop') {
  return service.inject({ method: 'POST', url: '/sdk/v1/evaluations', payload: { project, evaluations } });
}

async function start(env: Env = {}, store = new MemoryStore()) {
  const service = await serviceWithFlags({ VEXIL_REPORT_RATE_LIMIT: '0', ...env }, store);
  app = service.app;
  return service;
}

describe('evaluation reports that cannot lie', () => {
  it('logs only evaluations the revision can answer, marked reported; refuses the rest, counted by reason', async () => {
    const { store } = await start();
    const response = await report(app!, [
      evaluation({ instanceId: 'true-treatment' }),
      evaluation({ instanceId: 'control', value: false, group: 'control' }),
      evaluation({ instanceId: 'override', group: 'override' }),
      evaluation({
        instanceId: 'data-override',
        flagType: 'data',
        flagName: 'llm_provider',
        value: 'claude',
        group: 'override-1',
      }),
      evaluation({ instanceId: 'no-such-flag', flagName: 'made_up' }),
      evaluation({ instanceId: 'wrong-type', flagType: 'data', value: 'x' }),
      evaluation({ instanceId: 'no-such-group', group: 'treatment-7' }),
      evaluation({ instanceId: 'wrong-value', value: false, group: 'treatment' }),
      evaluation({
        instanceId: 'data-wrong-value',
        flagType: 'data',
        flagName: 'llm_provider',
        value: 'gpt',
        group: 'treatment-2',
      }),
      evaluation({ instanceId: 'in-2099', time: '2099-01-01 00:00:00.000000' }),
      evaluation({ instanceId: 'two-days-ago', time: secondsAgo(2 * 86400) }),
    ]);
    expect(response.statusCode).toBe(202);
    const answer = response.json();
    expect(answer).toMatchObject({
      accepted: 4,
      refused: 7,
      reasons: { 'unknown-flag': 2, 'impossible-group': 1, 'impossible-value': 2, 'time-outside-window': 2 },
    });
    expect(answer.refusals).toHaveLength(7);
    expect(answer.refusals[0]).toEqual({
      index: 4,
      reason: 'unknown-flag',
      message: expect.stringContaining('made_up'),
    });
    expect(answer.refusals.map((r: { index: number }) => r.index)).toEqual([4, 5, 6, 7, 8, 9, 10]);

    await flushLog(app!);
    const rows = await store.readLogs({ project: 'shop' });
    expect(rows.map((row) => row.instanceId).sort()).toEqual([
      'control',
      'data-override',
      'override',
      'true-treatment',
    ]);
    expect(rows.every((row) => row.reported === true)).toBe(true);

    const metrics = (await app!.inject('/metrics')).body;
    expect(metrics).toContain('vexil_evaluation_reports_total{outcome="accepted"} 4');
    expect(metrics).toContain('vexil_evaluation_reports_total{outcome="unknown-flag"} 2');
    expect(metrics).toContain('vexil_evaluation_reports_total{outcome="impossible-value"} 2');
    expect(metrics).toContain('vexil_evaluation_reports_total{outcome="time-outside-window"} 2');
  });

  it('a report without a read token is refused (401) and logs nothing, even for a project evaluated without tokens', async () => {
    const { store } = await start();
    const anonymous = await app!.inject({
      method: 'POST',
      url: '/sdk/v1/evaluations',
      payload: { project: 'shop', evaluations: [evaluation({ instanceId: 'stranger-1' })] },
      headers: { authorization: null } as unknown as Record<string, string>,
    });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(anonymous.json()).toMatchObject({
      error: 'Unauthorized',
      status: 401,
      detail: expect.stringMatching(/read token/),
    });
    // The same project's evaluation needs no token: only the log's record is protected.
    const served = await app!.inject({
      url: flagUrl(checkout, 'served-1'),
      headers: { authorization: null } as unknown as Record<string, string>,
    });
    expect(served.statusCode).toBe(200);
    await flushLog(app!);
    const rows = await store.readLogs({ project: 'shop' });
    expect(rows.map((row) => row.instanceId)).toEqual(['served-1']);
  });

  it('served evaluations are logged apart from reported ones', async () => {
    const { store } = await start();
    expect((await app!.inject(flagUrl(checkout, 'served-1'))).statusCode).toBe(200);
    expect((await report(app!, [evaluation({ instanceId: 'reported-1' })])).json()).toMatchObject({ accepted: 1 });
    await flushLog(app!);
    const rows = await store.readLogs({ project: 'shop' });
    expect(rows.find((row) => row.instanceId === 'served-1')?.reported).toBeUndefined();
    expect(rows.find((row) => row.instanceId === 'reported-1')?.reported).toBe(true);
  });

  it('checks a report against the revision it names, among the flag newest, else against the newest', async () => {
    const { store, admin } = await start();
    const first = (await store.latest('REVISION', checkout))!.wtime;
    // The second revision answers true for everybody: false is what only the first could answer.
    await admin.addRevision(checkout, { ControlValue: true, Treatments: [] });
    const second = (await store.latest('REVISION', checkout))!.wtime;

    const answer = (
      await report(app!, [
        evaluation({ instanceId: 'old', value: false, group: 'control', revision: first }),
        evaluation({ instanceId: 'new', value: true, group: 'control', revision: second }),
        evaluation({ instanceId: 'newest', value: true, group: 'control' }),
        evaluation({ instanceId: 'old-claimed-newest', value: false, group: 'control' }),
        evaluation({ instanceId: 'old-claimed-old-wrong', value: true, group: 'control', revision: first }),
        evaluation({ instanceId: 'never', revision: '2020-01-01 00:00:00.000000' }),
      ])
    ).json();
    expect(answer).toMatchObject({
      accepted: 3,
      refused: 3,
      reasons: { 'impossible-value': 2, 'unknown-revision': 1 },
    });
    await flushLog(app!);
    const ids = (await store.readLogs({ project: 'shop' })).map((row) => row.instanceId).sort();
    expect(ids).toEqual(['new', 'newest', 'old']);
  });

  it('refuses times outside the configured window', async () => {
    await start({ VEXIL_REPORT_MAX_AGE_SECONDS: '120', VEXIL_REPORT_MAX_AHEAD_SECONDS: '10' });
    const answer = (
      await report(app!, [
        evaluation({ instanceId: 'a', time: secondsAgo(60) }),
        evaluation({ instanceId: 'b', time: secondsAgo(180) }),
        evaluation({ instanceId: 'c', time: secondsAgo(-60) }),
        evaluation({ instanceId: 'd', time: undefined }),
      ])
    ).json();
    expect(answer).toMatchObject({ accepted: 2, refused: 2, reasons: { 'time-outside-window': 2 } });
  });

  it('a flood of reports cannot push served evaluations out of the log: every served 2xx has its row', async () => {
    /** A store whose log writes take a while, so that queues fill. */
    class SlowLogStore extends MemoryStore {
      override async appendLogs(entries: readonly EvaluationLogEntry[]): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 10));
        return super.appendLogs(entries);
      }
    }
    const { store } = await start(
      { VEXIL_LOG_QUEUE_MAX: '400', VEXIL_REPORT_LOG_QUEUE_MAX: '400', VEXIL_LOG_BATCH_SIZE: '50' },
      new SlowLogStore(),
    );
    const flood = Array.from({ length: 1000 }, (_, i) => evaluation({ instanceId: `flood-${i}` }));
    const served: string[] = [];
    const serve = async (i: number) => {
      const response = await app!.inject(flagUrl(i % 2 ? checkout : provider, `user-${i}`));
      if (response.statusCode === 200) served.push(response.json().request_id);
    };
    const work: Promise<unknown>[] = [];
    for (let round = 0; round < 30; round++) {
      work.push(report(app!, flood));
      for (let i = 0; i < 10; i++) work.push(serve(round * 10 + i));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(work);
    await flushLog(app!);

    expect(served).toHaveLength(300);
    const rows = await store.readLogs({ project: 'shop', limit: 100_000 });
    const servedRows = new Set(rows.filter((row) => row.reported !== true).map((row) => row.requestId));
    expect(served.filter((id) => !servedRows.has(id))).toEqual([]);
    // The flood did overflow its own queue: some reports were dropped (and counted), no served evaluation.
    const metrics = (await app!.inject('/metrics')).body;
    expect(Number(/^vexil_report_log_dropped_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^vexil_evaluation_log_dropped_total 0$/m);
  });
});
