import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '@vexil/store';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { ManualClock, ManualTimer, rollout } from './change-harness.js';
import { ADMIN_HEADERS, buildTestApp } from './support/test-token.js';

describe('a replica that applies a schedule serves it at once', () => {
  it('drops the flag’s cached data when the schedule settles, without waiting for its change poll', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vexil-serving-'));
    const spec = `sqlite:${join(dir, 'vexil.db')}`;
    const store = await openStore(spec);
    const clock = new ManualClock(Date.now());
    const timer = new ManualTimer();
    try {
      const admin = new FlagAdmin(store);
      await admin.addFlag(rollout, {});
      await admin.addRevision(rollout, { ControlValue: false });
      // A change poll of ten minutes: only the scheduler's own drop can make the new revision served.
      const app = await buildTestApp({
        config: loadConfig({ VEXIL_STORE: spec, VEXIL_CHANGE_POLL_MS: '600000' }),
        store,
        defaultMetrics: false,
        now: clock.now,
        scheduler: { setTimer: timer.setTimer, pollMs: 600_000 },
      });
      try {
        const made = await app.inject({
          method: 'POST',
          url: '/admin/v1/projects/shop/flags/feature/new_checkout/schedules',
          headers: ADMIN_HEADERS,
          payload: { at: clock.iso(60_000), revision: { ControlValue: true } },
        });
        expect(made.statusCode, made.body).toBe(201);
        const url = '/get-feature-flag?project_name=shop&instance_id=u1&flag_type=feature&flag_name=new_checkout';
        const served = async () => (await app.inject({ url, headers: ADMIN_HEADERS })).json().flag_value;
        expect(await served()).toBe(false);
        clock.advance(60_000);
        // The scheduler's tick ends by arming its next wake-up: wait for that, not for a time.
        const armed = timer.armed.length;
        timer.fire();
        while (timer.armed.length === armed) await new Promise((resolve) => setTimeout(resolve, 5));
        const record = await app.services.changes.schedules.get('shop', made.json().id);
        expect(record.status).toBe('applied');
        expect(await served()).toBe(true);
      } finally {
        await app.close();
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
