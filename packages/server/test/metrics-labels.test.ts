import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { checkout, flagUrl, serviceWithFlags } from './service-harness.js';

/**
 * `/metrics` label sets stay bounded however many names strangers report: flag and
 * group labels only for flags the store has and groups their revision can give
 * (issue 15: unbounded labels ran a 256 MB service out of memory after ~500 requests).
 */

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

interface Series {
  labels: Record<string, string>;
  value: number;
}

/** The series of `vexil_evaluations_total` in the exposition text. */
async function evaluationSeries(service: FastifyInstance): Promise<Series[]> {
  const text = (await service.inject('/metrics')).body;
  const series: Series[] = [];
  for (const line of text.split('\n')) {
    const match = /^vexil_evaluations_total\{(.*)\} (\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    series.push({ labels, value: Number(match[2]) });
  }
  return series;
}

function report(service: FastifyInstance, project: string, evaluations: Record<string, unknown>[]) {
  return service.inject({
    method: 'POST',
    url: '/sdk/v1/evaluations',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project, evaluations }),
  });
}

const evaluation = (flagName: string, group: string, flagType = 'feature', value: unknown = true) => ({
  flagType,
  flagName,
  instanceId: 'u',
  value,
  group,
});

describe('/metrics label sets', () => {
  it('reports of made-up flags, groups and projects are refused and counted by reason, adding no label', async () => {
    app = (await serviceWithFlags({ VEXIL_REPORT_RATE_LIMIT: '0' })).app;
    for (let batch = 0; batch < 5; batch++) {
      const unknown = Array.from({ length: 1000 }, (_, i) => evaluation(`made_up_${batch}_${i}`, `group_${i}`));
      const answer = await report(app, 'shop', unknown);
      expect(answer.statusCode).toBe(202);
      expect(answer.json()).toMatchObject({ accepted: 0, refused: 1000, reasons: { 'unknown-flag': 1000 } });
    }
    for (let i = 0; i < 50; i++) {
      const answer = await report(app, `no-such-project-${i}`, [
        evaluation('new_checkout', 'control', 'feature', false),
      ]);
      expect(answer.statusCode).toBe(202);
      expect(answer.json()).toMatchObject({ accepted: 0, refused: 1, reasons: { 'unknown-flag': 1 } });
    }
    // A real flag with a group its revision cannot give, and one of the wrong type.
    const wrong = await report(app, 'shop', [
      evaluation('new_checkout', 'rule-7'),
      evaluation('new_checkout', 'control', 'data', 'x'),
    ]);
    expect(wrong.json()).toMatchObject({ accepted: 0, reasons: { 'impossible-group': 1, 'unknown-flag': 1 } });
    // Real flags and groups keep their labels.
    const real = await report(app, 'shop', [
      evaluation('new_checkout', 'treatment'),
      evaluation('llm_provider', 'treatment-2', 'data', 'llama'),
    ]);
    expect(real.json()).toMatchObject({ accepted: 2, refused: 0 });
    expect((await app.inject(flagUrl(checkout, 'qa-1'))).statusCode).toBe(200);

    const series = await evaluationSeries(app);
    const byKey = new Map(series.map((s) => [`${s.labels.project}/${s.labels.flag}/${s.labels.group}`, s.value]));
    expect(byKey.get('shop/new_checkout/treatment')).toBe(1);
    expect(byKey.get('shop/llm_provider/treatment-2')).toBe(1);
    expect(byKey.get('shop/new_checkout/override')).toBe(1);
    expect(series).toHaveLength(3);
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toContain('vexil_evaluation_reports_total{outcome="accepted"} 2');
    expect(metrics).toContain('vexil_evaluation_reports_total{outcome="unknown-flag"} 5051');
    expect(metrics).toContain('vexil_evaluation_reports_total{outcome="impossible-group"} 1');
  });

  it('a report that cannot be checked (the store is down and was never read) answers 503 and counts nothing', async () => {
    const service = await serviceWithFlags({});
    app = service.app;
    await service.store.close();
    expect((await report(app, 'shop', [evaluation('new_checkout', 'treatment')])).statusCode).toBe(503);
    expect(await evaluationSeries(app)).toEqual([]);
  });
});
