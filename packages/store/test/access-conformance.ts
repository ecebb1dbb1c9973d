import { createHash } from 'node:crypto';
import { UnavailableError } from '@vexil/core';
import { describe, expect, it } from 'vitest';
import type { AccessEvent, StoreEngine, TokenRecord } from '../src/index.js';

/**
 * The access store's behaviour on every engine, run inside describeStoreConformance:
 * `open` gives an empty store (closed after each test), `writerFor` another
 * connection to its data where the engine has one.
 */
export function describeAccessConformance(
  open: () => Promise<StoreEngine>,
  writerFor: (store: StoreEngine) => Promise<StoreEngine>,
): void {
  const token = (id: string, extra: Partial<TokenRecord> = {}): TokenRecord => ({
    id,
    hash: createHash('sha256').update(`secret-of-${id}`).digest('hex'),
    owner: `owner of ${id}`,
    scope: 'write',
    projects: ['shop', 'payments'],
    createdTime: '2024-09-25T18:42:51.493Z',
    createdBy: 'bootstrap',
    ...extra,
  });

  describe('access store', () => {
    it('finds a token by the hash of its secret, as stored, from another connection too', async () => {
      const store = await open();
      const written = token('tok_aaaaaaaaaa');
      await store.access.putToken(written);
      expect(await store.access.findToken(written.hash)).toEqual(written);
      const peer = await writerFor(store);
      expect(await peer.access.findToken(written.hash)).toEqual(written);
      expect(await store.access.findToken(token('tok_unknown000').hash)).toBeUndefined();
    });

    it('lists tokens oldest first and revokes one by id, keeping the first revocation time', async () => {
      const store = await open();
      const later = token('tok_bbbbbbbbbb', { createdTime: '2024-09-26T00:00:00.000Z', scope: 'admin', projects: [] });
      const earlier = token('tok_cccccccccc', { scope: 'read', projects: ['shop'] });
      await store.access.putToken(later);
      await store.access.putToken(earlier);
      expect((await store.access.listTokens()).map((t) => t.id)).toEqual(['tok_cccccccccc', 'tok_bbbbbbbbbb']);

      const revoked = await store.access.revokeToken('tok_bbbbbbbbbb', '2024-09-27T00:00:00.000Z');
      expect(revoked).toEqual({ ...later, revokedTime: '2024-09-27T00:00:00.000Z' });
      const again = await store.access.revokeToken('tok_bbbbbbbbbb', '2024-09-28T00:00:00.000Z');
      expect(again?.revokedTime).toBe('2024-09-27T00:00:00.000Z');
      expect((await store.access.findToken(later.hash))?.revokedTime).toBe('2024-09-27T00:00:00.000Z');
      expect((await store.access.findToken(earlier.hash))?.revokedTime).toBeUndefined();
      expect(await store.access.revokeToken('tok_nosuchtok', '2024-09-27T00:00:00.000Z')).toBeUndefined();
    });

    it('keeps project settings per project, the newest write winning', async () => {
      const store = await open();
      expect(await store.access.projectSettings('shop')).toBeUndefined();
      const off = { project: 'shop', publicEvaluation: false, updatedTime: '2024-09-25T00:00:00.000Z', updatedBy: 'a' };
      await store.access.putProjectSettings(off);
      await store.access.putProjectSettings({ ...off, project: 'shop-eu', publicEvaluation: true });
      expect(await store.access.projectSettings('shop')).toEqual(off);
      const on = { ...off, publicEvaluation: true, updatedTime: '2024-09-26T00:00:00.000Z', updatedBy: 'b' };
      await store.access.putProjectSettings(on);
      expect(await store.access.projectSettings('shop')).toEqual(on);
      expect((await store.access.projectSettings('shop-eu'))?.publicEvaluation).toBe(true);
    });

    it('reads access events in time order, from a time, for a project, the newest `limit`', async () => {
      const store = await open();
      const event = (time: string, projects: string[], subject: string): AccessEvent => ({
        time,
        action: 'settings',
        actor: 'ops',
        projects,
        subject,
      });
      // Two events at one instant are both kept.
      const events = [
        event('2024-09-25T00:00:02.000Z', ['shop'], 'c'),
        event('2024-09-25T00:00:01.000Z', ['payments'], 'b'),
        event('2024-09-25T00:00:00.000Z', [], 'a'),
        event('2024-09-25T00:00:02.000Z', ['shop'], 'd'),
      ];
      for (const e of events) await store.access.appendAccessEvent(e);
      const subjects = (list: AccessEvent[]) => list.map((e) => e.subject);
      const all = await store.access.readAccessEvents();
      expect(subjects(all).slice(0, 2)).toEqual(['a', 'b']);
      expect(subjects(all).slice(2).sort()).toEqual(['c', 'd']);
      expect(all[0]).toEqual(events[2]);
      expect(subjects(await store.access.readAccessEvents({ since: '2024-09-25T00:00:01.000Z' })).sort()).toEqual([
        'b',
        'c',
        'd',
      ]);
      expect(subjects(await store.access.readAccessEvents({ project: 'payments' }))).toEqual(['b']);
      expect(subjects(await store.access.readAccessEvents({ limit: 3 }))[0]).toBe('b');
    });

    it('keeps feature records by kind and key, lists them in key order from a key, replaces and deletes them', async () => {
      const store = await open();
      const hook = { id: 'wh_1', url: 'https://hooks.example/a', projects: ['shop'] };
      await store.access.putRecord('webhook', 'wh_1', hook);
      await store.access.putRecord('webhook', 'wh_0', { id: 'wh_0' });
      await store.access.putRecord('webhook-delivery', '2024-09-25T00:00:00.000Z#a', { id: 'a' });
      await store.access.putRecord('webhook-delivery', '2024-09-25T00:00:01.000Z#b', { id: 'b' });
      const peer = await writerFor(store);
      expect(await peer.access.getRecord('webhook', 'wh_1')).toEqual(hook);
      expect(await store.access.getRecord('webhook', 'wh_9')).toBeUndefined();
      expect((await store.access.listRecords('webhook')).map((r) => r.key)).toEqual(['wh_0', 'wh_1']);
      const deliveries = await store.access.listRecords<{ id: string }>('webhook-delivery', '2024-09-25T00:00:01');
      expect(deliveries).toEqual([{ key: '2024-09-25T00:00:01.000Z#b', value: { id: 'b' } }]);

      await store.access.putRecord('webhook', 'wh_1', { ...hook, url: 'https://hooks.example/b' });
      expect(await store.access.getRecord('webhook', 'wh_1')).toEqual({ ...hook, url: 'https://hooks.example/b' });
      expect(await store.access.deleteRecord('webhook', 'wh_1')).toBe(true);
      expect(await store.access.deleteRecord('webhook', 'wh_1')).toBe(false);
      expect((await peer.access.listRecords('webhook')).map((r) => r.key)).toEqual(['wh_0']);
      // Kinds stay apart: tokens, settings and events are not feature records.
      expect(await store.access.listTokens()).toEqual([]);
      expect((await store.access.listRecords('webhook-delivery')).length).toBe(2);
    });

    it('replaces a record only while it is as read (compare-and-set): of 8 writers racing from one read, exactly one wins', async () => {
      const store = await open();
      const peer = await writerFor(store);
      const proposal = { id: 'prp_1', status: 'pending', note: 'x'.repeat(30_000) };
      expect(await store.access.replaceRecord('proposal', 'prp_1', null, proposal)).toBe(true);
      // Only if absent: a second create loses and changes nothing.
      expect(await peer.access.replaceRecord('proposal', 'prp_1', null, { id: 'prp_1', status: 'other' })).toBe(false);
      expect(await store.access.getRecord('proposal', 'prp_1')).toEqual(proposal);
      // Based on a value it no longer has: refused, nothing written.
      const stale = { ...proposal, status: 'draft' };
      expect(await store.access.replaceRecord('proposal', 'prp_1', stale, { ...proposal, status: 'x' })).toBe(false);
      expect(await store.access.getRecord('proposal', 'prp_1')).toEqual(proposal);

      const read = await peer.access.getRecord<typeof proposal>('proposal', 'prp_1');
      const writers = Array.from({ length: 8 }, (_, i) => ({ ...read!, status: 'approved', by: `owner-${i}` }));
      const outcomes = await Promise.all(
        writers.map((value, i) => (i % 2 === 0 ? store : peer).access.replaceRecord('proposal', 'prp_1', read!, value)),
      );
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      const winner = writers[outcomes.indexOf(true)];
      expect(await store.access.getRecord('proposal', 'prp_1')).toEqual(winner);
      // A record written by putRecord is replaced as read back too.
      await store.access.putRecord('proposal', 'prp_2', { id: 'prp_2', n: 1.5, list: [1, 'a', null] });
      const back = await peer.access.getRecord<object>('proposal', 'prp_2');
      expect(await peer.access.replaceRecord('proposal', 'prp_2', back!, { id: 'prp_2', n: 2 })).toBe(true);
      expect(await store.access.getRecord('proposal', 'prp_2')).toEqual({ id: 'prp_2', n: 2 });
    });

    it('refuses a record kind it does not know and an empty key, writing nothing', async () => {
      const store = await open();
      await expect(store.access.putRecord('token' as 'webhook', 'k', {})).rejects.toThrow(
        /unknown record kind "token"/,
      );
      await expect(store.access.putRecord('webhook', '', {})).rejects.toThrow(/record key/);
      expect(await store.access.listTokens()).toEqual([]);
      expect(await store.access.listRecords('webhook')).toEqual([]);
    });

    it('refuses a hash that is not SHA-256 hex, and fails with UnavailableError once closed', async () => {
      const store = await open();
      await expect(store.access.putToken(token('tok_dddddddddd', { hash: 'secret' }))).rejects.toThrow(/64 hex/);
      await store.close();
      await expect(store.access.findToken(token('tok_dddddddddd').hash)).rejects.toBeInstanceOf(UnavailableError);
    });
  });
}
