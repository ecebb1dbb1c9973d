import type { StoreEngine } from '@vexil/store';
import { describe, expect } from 'vitest';
import type { ProposalInput } from '../src/changes/approvals.js';
import type { ProposalRecord, RampRecord, ScheduleRecord } from '../src/changes/change-records.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { changesOn, itOnSharedEngines, ManualClock, rollout } from './change-harness.js';

const APPROVERS = 6;

/**
 * Approvers approving one proposal at the same moment, each through its own store
 * connection (a replica each): one approval wins the proposal's compare-and-set, so a
 * schedule or ramp starts once and a revision is written once; the others get 409.
 */
async function approvedOnce(open: () => Promise<StoreEngine>): Promise<void> {
  const clock = new ManualClock(Date.now());
  const stores = await Promise.all(Array.from({ length: APPROVERS }, open));
  try {
    const admin = new FlagAdmin(stores[0]!);
    await admin.addFlag(rollout, {});
    await admin.addRevision(rollout, { ControlValue: false });
    const replicas = stores.map((store) => changesOn(store, clock));
    const proposals: [string, ProposalInput][] = [
      ['schedule', { kind: 'schedule', at: clock.iso(3_600_000), revision: { ControlValue: true } }],
      ['ramp', { kind: 'ramp', steps: [10, 100], everyHours: 1 }],
    ];
    for (const [kind, input] of proposals) {
      const proposal = await replicas[0]!.changes.approvals.propose(rollout, input, { owner: 'ana' });
      const outcomes = await Promise.allSettled(
        replicas.map(({ changes }, i) => changes.approvals.approve('shop', proposal.id, { owner: `approver-${i}` })),
      );
      const won = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      expect(won, kind).toHaveLength(1);
      for (const outcome of outcomes) {
        // A loser that read the proposal after the winner's claim is told it is approved already.
        if (outcome.status === 'rejected') {
          expect(String(outcome.reason)).toMatch(
            /was approved by approver-\d while you were deciding|is approved: only a pending proposal can be approved/,
          );
        }
      }
      const stored = await stores[0]!.access.getRecord<ProposalRecord>('proposal', proposal.id);
      expect(stored).toMatchObject({ status: 'approved', result: won[0]!.result, decidedBy: won[0]!.decidedBy });
      const made =
        kind === 'schedule'
          ? (await stores[0]!.access.listRecords<ScheduleRecord>('schedule')).filter(
              (r) => r.value.proposal === proposal.id,
            )
          : (await stores[0]!.access.listRecords<RampRecord>('ramp')).filter((r) => r.value.proposal === proposal.id);
      expect(
        made.map((r) => r.key),
        kind,
      ).toEqual([won[0]!.result]);
      const announced = replicas.flatMap(({ seen }) =>
        seen.filter((event) => event.type === 'proposal.approved' && event.subject === proposal.id),
      );
      expect(announced).toHaveLength(1);
    }

    // A revision proposal: written once, by one approver.
    const other = { ...rollout, name: 'other' };
    await admin.addFlag(other, {});
    const revision = await replicas[0]!.changes.approvals.propose(
      other,
      { kind: 'revision', revision: { ControlValue: true } },
      { owner: 'ana' },
    );
    const outcomes = await Promise.allSettled(
      replicas.map(({ changes }, i) => changes.approvals.approve('shop', revision.id, { owner: `approver-${i}` })),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const history = await stores[0]!.history('REVISION', other);
    expect(history.filter((row) => row.fields.ProposalID === revision.id)).toHaveLength(1);
  } finally {
    for (const store of stores) await store.close();
  }
}

describe('approvers racing on one schedule, ramp or revision proposal: it takes effect exactly once', () => {
  itOnSharedEngines(approvedOnce);
});
