import type { FlagRef } from '@vexil/core';
import { MemoryStore } from '@vexil/store';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { countExpiredFlags, ExpiredFlagCounter, findExpiredFlags } from '../src/expired-flags.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { buildTestApp } from './support/test-token.js';

const DAY = 86_400_000;
/** Noon UTC on 2026-12-07. */
const NOW = Date.UTC(2026, 11, 7, 12);

function flag(name: string, project = 'shop'): FlagRef {
  return { project, flagType: 'feature', name };
}

async function flagExpiring(admin: FlagAdmin, ref: FlagRef, expires: string, extra: Record<string, string> = {}) {
  await admin.addFlag(ref);
  await admin.addRevision(ref, { ControlValue: false, Metadata: { expires, ...extra } });
}

describe('expired flags', () => {
  it('are those whose expiry day is over (UTC): the day itself is not, the next day is', async () => {
    const admin = new FlagAdmin(new MemoryStore());
    await flagExpiring(admin, flag('yesterday'), '2026-12-06', { owner: 'team-a', ticket: 'https://t/1' });
    await flagExpiring(admin, flag('today'), '2026-12-07');
    await flagExpiring(admin, flag('tomorrow'), '2026-12-08');
    await admin.addFlag(flag('no_expiry'));
    await admin.addRevision(flag('no_expiry'), { ControlValue: false, Metadata: { owner: 'team-a' } });

    const expired = await findExpiredFlags(admin.store, 'shop', NOW);
    expect(expired).toEqual([
      {
        project: 'shop',
        flagType: 'feature',
        name: 'yesterday',
        expires: '2026-12-06',
        owner: 'team-a',
        ticket: 'https://t/1',
        revision: expect.any(String),
      },
    ]);
    // One millisecond before midnight the 7th is still today; at midnight it is over.
    const endOfDay = Date.UTC(2026, 11, 8) - 1;
    expect((await findExpiredFlags(admin.store, 'shop', endOfDay)).map((e) => e.name)).toEqual(['yesterday']);
    expect((await findExpiredFlags(admin.store, 'shop', endOfDay + 1)).map((e) => e.name)).toEqual([
      'today',
      'yesterday',
    ]);
  });

  it('leave out archived flags and flags whose newer revision moved the day', async () => {
    const admin = new FlagAdmin(new MemoryStore());
    await flagExpiring(admin, flag('archived'), '2020-01-01');
    await admin.archive(flag('archived'));
    await flagExpiring(admin, flag('extended'), '2020-01-01');
    await admin.updateMetadata(flag('extended'), { Metadata: { expires: '2999-01-01' } });
    await flagExpiring(admin, flag('disabled'), '2020-01-01');
    await admin.setDisabled(flag('disabled'), true);
    expect((await findExpiredFlags(admin.store, 'shop', NOW)).map((e) => e.name)).toEqual(['disabled']);
  });

  it('are counted per project, every project listed', async () => {
    const admin = new FlagAdmin(new MemoryStore());
    await flagExpiring(admin, flag('a'), '2020-01-01');
    await flagExpiring(admin, flag('b'), '2020-01-01');
    await flagExpiring(admin, flag('c', 'billing'), '2999-01-01');
    expect(await countExpiredFlags(admin.store, NOW)).toEqual(
      new Map([
        ['billing', 0],
        ['shop', 2],
      ]),
    );
  });

  it('are counted for /metrics at most once per maxAge, keeping the last count when the store fails', async () => {
    const store = new MemoryStore();
    const admin = new FlagAdmin(store);
    await flagExpiring(admin, flag('a'), '2020-01-01');
    let now = NOW;
    const counter = new ExpiredFlagCounter(store, { maxAgeMs: DAY, timeoutMs: 5000, now: () => now });
    expect(await counter.counts()).toEqual(new Map([['shop', 1]]));
    await flagExpiring(admin, flag('b'), '2020-01-01');
    expect(await counter.counts()).toEqual(new Map([['shop', 1]]));
    now += DAY;
    expect(await counter.counts()).toEqual(new Map([['shop', 2]]));
    now += DAY;
    await store.close();
    expect(await counter.counts()).toEqual(new Map([['shop', 2]]));
  });

  it('show on /metrics as vexil_flags_expired, labelled by project', async () => {
    const store = new MemoryStore();
    const admin = new FlagAdmin(store);
    await flagExpiring(admin, flag('old'), '2020-01-01');
    await flagExpiring(admin, flag('fresh', 'billing'), '2999-01-01');
    const app = await buildTestApp({ config: loadConfig({ VEXIL_STORE: 'memory:' }), store, defaultMetrics: false });
    try {
      const body = (await app.inject('/metrics')).body;
      expect(body).toContain('# TYPE vexil_flags_expired gauge');
      expect(body).toContain('vexil_flags_expired{project="shop"} 1');
      expect(body).toContain('vexil_flags_expired{project="billing"} 0');
      expect(body.match(/^vexil_flags_expired\{/gm)).toHaveLength(2);
    } finally {
      await app.close();
    }
  });
});
