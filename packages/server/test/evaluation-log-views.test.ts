import { formatWTime } from '@vexil/core';
import { openStore } from '@vexil/store';
import { afterAll, describe, expect, it } from 'vitest';
import { FlagAdmin } from '../src/flag-admin.js';
import { CliHarness } from './cli-harness.js';
import { checkout, flagUrl, flushLog, seedFlags, serviceWithFlags } from './service-harness.js';

/** `vexil log` and GET /admin/v1/projects/{project}/log say of every row whether it was served or reported. */

const cli = new CliHarness();
afterAll(() => cli.cleanup());

const reportedAt = () => formatWTime((Date.now() - 1000) * 1000);

describe('evaluation log views', () => {
  it('the admin API lists rows with their source: served or reported', async () => {
    const { app } = await serviceWithFlags();
    try {
      const served = await app.inject(flagUrl(checkout, 'served-1'));
      expect(served.statusCode).toBe(200);
      const reported = await app.inject({
        method: 'POST',
        url: '/sdk/v1/evaluations',
        payload: {
          project: 'shop',
          evaluations: [
            {
              flagType: 'feature',
              flagName: 'new_checkout',
              instanceId: 'reported-1',
              value: false,
              group: 'control',
              time: reportedAt(),
            },
          ],
        },
      });
      expect(reported.json()).toMatchObject({ accepted: 1 });
      await flushLog(app);

      const all = await app.inject('/admin/v1/projects/shop/log?flag_type=feature&flag_name=new_checkout');
      expect(all.statusCode).toBe(200);
      const entries = all.json().entries as { instanceId: string; source: string; reported?: unknown }[];
      expect(entries.map((e) => [e.instanceId, e.source])).toEqual([
        ['reported-1', 'reported'],
        ['served-1', 'served'],
      ]);
      expect(entries.every((e) => !('reported' in e))).toBe(true);
      expect((await app.inject('/admin/v1/projects/shop/log?limit=1')).json().entries).toHaveLength(1);

      const nameWithoutType = await app.inject('/admin/v1/projects/shop/log?flag_name=new_checkout');
      expect(nameWithoutType.statusCode).toBe(400);
      expect(nameWithoutType.json()).toMatchObject({ field: 'flag_type' });
      const unknown = await app.inject('/admin/v1/projects/shop/log?flagName=x');
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json()).toMatchObject({ field: 'flagName' });
    } finally {
      await app.close();
    }
  });

  it('vexil log shows each row as served or reported', async () => {
    const store = await openStore(cli.storeSpec);
    try {
      await seedFlags(new FlagAdmin(store));
      const base = {
        project: 'shop',
        flagType: 'feature',
        flagName: 'new_checkout',
        requestId: 'r',
        time: reportedAt(),
        value: false,
        group: 'control',
        cacheHit: true,
      };
      await store.appendLogs([
        { ...base, instanceId: 'u-served', requestId: 'r-1' },
        { ...base, instanceId: 'u-reported', requestId: 'r-2', reported: true },
      ]);
    } finally {
      await store.close();
    }
    const text = await cli.run('log', '-p', 'shop');
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.find((line) => line.includes('u-reported'))).toMatch(/ reported .*feature\/new_checkout/);
    expect(lines.find((line) => line.includes('u-served'))).toMatch(/ served .*feature\/new_checkout/);
    const json = await cli.json<{ instanceId: string; source: string }[]>(
      'log',
      '-p',
      'shop',
      '-t',
      'feature',
      'new_checkout',
    );
    expect(json.map((row) => [row.instanceId, row.source])).toEqual([
      ['u-reported', 'reported'],
      ['u-served', 'served'],
    ]);
  });
});
