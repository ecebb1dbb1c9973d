import { describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../../server/test/support/test-token.js';
import { FeatureFlagClient, type FeatureFlagClientOptions, type ProjectSnapshot } from '../src/index.js';
import {
  checkout,
  eventually,
  freePort,
  instanceIds,
  PROJECT,
  provider,
  type Service,
  testResources,
} from './service-harness.js';

const { cleanups, service } = testResources();

/** A client whose report requests are counted. */
function client(options: Partial<FeatureFlagClientOptions> & { baseUrl: string }) {
  const reports: number[] = [];
  const counting: typeof fetch = async (input, init) => {
    if (String(input).endsWith('/sdk/v1/evaluations')) {
      reports.push((JSON.parse(String(init?.body)) as { evaluations: unknown[] }).evaluations.length);
    }
    return fetch(input, init);
  };
  // Reports need a read token for the project (an admin token covers it).
  const created = new FeatureFlagClient({ projectName: PROJECT, fetch: counting, token: TEST_ADMIN_TOKEN, ...options });
  cleanups.push(() => created.close());
  return { flags: created, reports };
}

async function logOf(svc: Service) {
  await Promise.all([svc.app.services.evaluationLog?.flush(), svc.app.services.reportLog?.flush()]);
  return svc.store.readLogs({ project: PROJECT });
}

describe('reports of in-process evaluations', () => {
  it('land in the service evaluation log, in batches, as they were answered', async () => {
    const svc = await service();
    const { flags, reports } = client({ baseUrl: svc.url, reportEvaluations: { batchSize: 100, flushIntervalMs: 50 } });
    await flags.ready();
    const ids = instanceIds(250);
    const answers = new Map<string, boolean>();
    for (const id of ids) answers.set(id, flags.getFlagBoolean(checkout.name, id, false));
    const claude = flags.getFlagString(provider.name, 'A123456', 'x');
    await flags.flushReports();
    await eventually(async () => (await logOf(svc)).length === 251, 5000, 'all 251 evaluations logged');

    const log = await logOf(svc);
    for (const entry of log.filter((e) => e.flagName === checkout.name)) {
      expect(entry.value).toBe(answers.get(entry.instanceId));
      expect(entry.flagType).toBe('feature');
      expect(entry.group).toMatch(/^(treatment|control)$/);
      expect(entry.cacheHit).toBe(true); // answered from a snapshot
    }
    const data = log.find((e) => e.flagName === provider.name);
    expect(data).toMatchObject({ instanceId: 'A123456', value: claude, group: 'override-1', flagType: 'data' });
    // 251 evaluations in requests of at most 100, not one request each.
    expect(reports.reduce((a, b) => a + b, 0)).toBe(251);
    expect(Math.max(...reports)).toBeLessThanOrEqual(100);
    expect(reports.length).toBeLessThanOrEqual(5);
    expect(flags.reportStats).toMatchObject({ sent: 251, dropped: 0, failed: 0, queued: 0 });
  });

  it('carry any instance id exactly, and the time each evaluation was made', async () => {
    const svc = await service();
    const { flags } = client({ baseUrl: svc.url });
    await flags.ready();
    const ids = [
      'quote"and\\backslash',
      'ünïcödé-顧客',
      'emoji-😀',
      'tab\tand\nnewline',
      `lone-${String.fromCharCode(0xd800)}`,
    ];
    const before = Date.now();
    for (const id of ids) flags.getFlagBoolean(checkout.name, id, false);
    await flags.flushReports();
    await eventually(async () => (await logOf(svc)).length === ids.length, 5000, 'the evaluations logged');
    const log = await logOf(svc);
    const logged = new Set(log.map((entry) => entry.instanceId));
    for (const id of ids.slice(0, 4)) expect(logged.has(id)).toBe(true);
    expect(logged.has('lone-\ufffd') || logged.has(ids[4]!)).toBe(true); // JSON carries a lone surrogate escaped
    for (const entry of log) {
      const at = Date.parse(`${entry.time.replace(' ', 'T').slice(0, 23)}Z`);
      expect(at).toBeGreaterThanOrEqual(before - 1);
      expect(at).toBeLessThanOrEqual(Date.now());
    }
  });

  it('are not sent when turned off', async () => {
    const svc = await service();
    const { flags, reports } = client({ baseUrl: svc.url, reportEvaluations: false });
    await flags.ready();
    for (const id of instanceIds(50)) flags.getFlagBoolean(checkout.name, id, false);
    await flags.flushReports();
    await flags.close();
    expect(reports).toEqual([]);
    expect(flags.reportStats).toBeUndefined();
    expect(await logOf(svc)).toEqual([]);
  });

  it('are sent when the client closes', async () => {
    const svc = await service();
    const { flags } = client({ baseUrl: svc.url, reportEvaluations: { flushIntervalMs: 60_000 } });
    await flags.ready();
    for (const id of instanceIds(10)) flags.getFlagBoolean(checkout.name, id, false);
    await flags.close();
    await eventually(async () => (await logOf(svc)).length === 10, 5000, 'the 10 evaluations logged');
  });

  it('are dropped and counted when the queue is full, and counted as failed when the service is down', async () => {
    const svc = await service();
    const snapshot = (await (await fetch(`${svc.url}/sdk/v1/projects/${PROJECT}/snapshot`)).json()) as ProjectSnapshot;
    const port = await freePort(); // nothing listens there: reports fail
    const { flags } = client({
      baseUrl: `http://127.0.0.1:${port}`,
      offline: true,
      bootstrap: snapshot,
      reportEvaluations: { maxQueue: 100, flushIntervalMs: 60_000 },
    });
    for (const id of instanceIds(150)) flags.getFlagBoolean(checkout.name, id, false);
    expect(flags.reportStats).toMatchObject({ queued: 100, dropped: 50 });
    await flags.flushReports();
    expect(flags.reportStats).toMatchObject({ queued: 0, sent: 0, failed: 100, dropped: 50 });
    expect(flags.lastError).toMatchObject({ code: 'UNAVAILABLE', operation: 'report' });
  });
});
