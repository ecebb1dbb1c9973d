import { InvalidInputError } from '@vexil/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { checkout, flagUrl, flushLog, serviceWithFlags } from './service-harness.js';

describe('configuration by the runbook system variable names', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      environment: 'development',
      tenant: 'vexil',
      flagTableId: 'vexil_feature_flag_bigtable',
      logTableId: 'vexil_feature_flag_service_operation_log',
      hashCacheTtlDays: 2,
      flagCacheTtlMinutes: 5,
      port: 8080,
      store: 'sqlite:./vexil.db',
      evaluationLog: true,
    });
  });

  it("names the tables after TENANT_NAME, so csr-va gives the runbook system's own tables", () => {
    const config = loadConfig({ TENANT_NAME: 'csr-va', PROJECT_ID: 'anbc-hcb-dev', INSTANCE_ID: 'csr-va-db-hcb-dev' });
    expect(config.flagTableId).toBe('csr_va_feature_flag_bigtable');
    expect(config.logTableId).toBe('csr_va_feature_flag_service_operation_log');
    expect([config.gcpProjectId, config.bigtableInstanceId]).toEqual(['anbc-hcb-dev', 'csr-va-db-hcb-dev']);
  });

  it('takes BT_TABLE_ID, FF_LOG_TABLE_ID, the TTLs, PORT and VEXIL_STORE as given', () => {
    const config = loadConfig({
      BT_TABLE_ID: 'flags',
      FF_LOG_TABLE_ID: 'log',
      PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS: '0.5',
      FEATURE_FLAG_CACHE_TTL_MINUTES: '0',
      PORT: '9090',
      VEXIL_STORE: 'memory:',
      environment: 'hcb-prod',
    });
    expect(config).toMatchObject({
      flagTableId: 'flags',
      logTableId: 'log',
      hashCacheTtlDays: 0.5,
      flagCacheTtlMinutes: 0,
      port: 9090,
      store: 'memory:',
      environment: 'hcb-prod',
    });
  });

  it.each([
    ['FEATURE_FLAG_CACHE_TTL_MINUTES', 'five'],
    ['PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS', '-1'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['VEXIL_EVALUATION_LOG', 'maybe'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(InvalidInputError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('FEATURE_FLAG_CACHE_TTL_MINUTES=0 reads the store for every request (CacheFlag false)', async () => {
    const { app, store } = await serviceWithFlags({ FEATURE_FLAG_CACHE_TTL_MINUTES: '0' });
    for (let i = 0; i < 3; i++) expect((await app.inject(flagUrl(checkout, `u${i}`))).statusCode).toBe(200);
    await flushLog(app);
    const rows = await store.readLogs({ project: 'shop' });
    expect(rows.map((r) => r.cacheHit)).toEqual([false, false, false]);
    await app.close();
  });

  it('VEXIL_EVALUATION_LOG=off writes no log rows', async () => {
    const { app, store } = await serviceWithFlags({ VEXIL_EVALUATION_LOG: 'off' });
    expect((await app.inject(flagUrl(checkout, 'u'))).statusCode).toBe(200);
    await app.close();
    expect(await store.readLogs({ project: 'shop' })).toEqual([]);
  });

  it("accepts the runbook's PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS and answers alike with any value (ids are hashed every time)", async () => {
    const answers: unknown[] = [];
    for (const ttl of ['2', '0']) {
      const { app } = await serviceWithFlags({ PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS: ttl });
      for (const id of ['same-id', 'same-id', 'other-id']) {
        const body = (await app.inject(flagUrl(checkout, id))).json() as {
          flag_value: unknown;
          rollout_group: unknown;
        };
        answers.push([ttl, id, body.flag_value, body.rollout_group]);
      }
      expect((await app.inject('/metrics')).body).not.toContain('cache="hash"');
      await app.close();
    }
    const byTtl = (ttl: string) =>
      answers.filter((a) => (a as unknown[])[0] === ttl).map((a) => (a as unknown[]).slice(1));
    expect(byTtl('2')).toEqual(byTtl('0'));
    expect(() => loadConfig({ PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS: '-1' })).toThrow(
      /PARTIAL_ROLLOUT_HASH_VAL_CACHE_TTL_DAYS/,
    );
  });
});
