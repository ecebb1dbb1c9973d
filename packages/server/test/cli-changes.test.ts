import { openStore, type StoreEngine } from '@vexil/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChangeManagement } from '../src/changes/change-management.js';
import type { ProposalRecord, RampRecord, ScheduleRecord } from '../src/changes/change-records.js';
import { callerName } from '../src/cli/caller.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { CliHarness } from './cli-harness.js';

const FUTURE = '2099-01-31T09:00:00+01:00';

/** Every schedule, ramp and proposal record of the store, to show that refused input wrote none. */
async function records(cli: CliHarness): Promise<unknown[]> {
  const store = await openStore(cli.storeSpec);
  try {
    const all: unknown[] = [];
    for (const kind of ['schedule', 'ramp', 'proposal'] as const) all.push(...(await store.access.listRecords(kind)));
    all.push(await store.access.projectSettings('shop'));
    return all;
  } finally {
    await store.close();
  }
}

/** Rows and records together: what a refused command must leave as it was. */
async function everything(cli: CliHarness) {
  return { rows: await cli.snapshot(['shop']), records: await records(cli) };
}

/** Change management on the harness's store, as another process (the service) would use it. */
async function withChanges<T>(cli: CliHarness, work: (changes: ChangeManagement) => Promise<T>): Promise<T> {
  const store: StoreEngine = await openStore(cli.storeSpec);
  try {
    const admin = new FlagAdmin(store);
    return await work(new ChangeManagement({ admin, records: store.access, now: Date.now }));
  } finally {
    await store.close();
  }
}

describe('vexil schedule', () => {
  let cli: CliHarness;

  beforeEach(async () => {
    cli = new CliHarness();
    expect((await cli.run('add-flag', 'new_checkout', '-p', 'shop', '-t', 'feature')).code).toBe(0);
    expect((await cli.run('add-revision', 'new_checkout', '-p', 'shop', '-c', 'false')).code).toBe(0);
  });
  afterEach(() => cli.cleanup());

  it('adds a revision for later with add-revision’s options, lists, shows and cancels it', async () => {
    const before = await cli.snapshot(['shop']);
    const added = await cli.json<ScheduleRecord>(
      'schedule',
      'add',
      'new_checkout',
      '-p',
      'shop',
      '--at',
      FUTURE,
      '-c',
      'false',
      '--treatment',
      '25:true',
      '--comment',
      'launch day',
    );
    expect(added).toMatchObject({
      id: expect.stringMatching(/^sch_/),
      at: FUTURE,
      status: 'pending',
      ref: { project: 'shop', flagType: 'feature', name: 'new_checkout' },
      createdBy: { owner: callerName() },
      revision: {
        ControlValue: false,
        Treatments: [{ PercentRollout: 25, Value: true, OverrideList: [] }],
        Comment: 'launch day',
      },
    });
    // Nothing is in force before its time.
    expect(await cli.snapshot(['shop'])).toEqual(before);

    const listed = await cli.run('schedule', 'list', '-p', 'shop');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(added.id);
    expect(listed.stdout).toContain('pending');
    expect(listed.stdout).toContain('25% → true');
    const byFlag = await cli.json<ScheduleRecord[]>('schedule', 'list', '-p', 'shop', '--flag', 'new_checkout');
    expect(byFlag.map((s) => s.id)).toEqual([added.id]);
    expect(await cli.json<ScheduleRecord[]>('schedule', 'list', '-p', 'shop', '--status', 'applied')).toEqual([]);

    const shown = await cli.run('schedule', 'show', added.id, '-p', 'shop');
    expect(shown.stdout).toContain(`schedule ${added.id}: pending`);
    expect(shown.stdout).toContain(`at:       ${FUTURE}`);

    const cancelled = await cli.json<ScheduleRecord>('schedule', 'cancel', added.id, '-p', 'shop');
    expect(cancelled).toMatchObject({ status: 'cancelled', detail: `cancelled by ${callerName()}` });
    const again = await cli.run('schedule', 'cancel', added.id, '-p', 'shop');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`schedule ${added.id} is cancelled: only a pending schedule can be cancelled`);
    expect(await cli.snapshot(['shop'])).toEqual(before);
  });

  it('refuses a time without a zone, in the past or missing, and a bad revision, naming the option and writing nothing', async () => {
    const before = await everything(cli);
    const cases: [string[], RegExp][] = [
      [
        ['--at', '2099-01-31T09:00:00', '-c', 'true'],
        /--at: at "2099-01-31T09:00:00" is not an ISO 8601 time with a zone/,
      ],
      [['--at', '2001-01-01T00:00:00Z', '-c', 'true'], /--at: at 2001-01-01T00:00:00Z is not in the future/],
      [['--at', 'tomorrow', '-c', 'true'], /--at: at "tomorrow" is not an ISO 8601 time/],
      [['--at', FUTURE], /--control is required/],
      [['--at', FUTURE, '-c', 'true', '--treatment', '120:true'], /Treatments\[0\]/],
    ];
    for (const [args, message] of cases) {
      const result = await cli.run('schedule', 'add', 'new_checkout', '-p', 'shop', ...args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    const noAt = await cli.run('schedule', 'add', 'new_checkout', '-p', 'shop', '-c', 'true');
    expect(noAt.code).toBe(2);
    expect(noAt.stderr).toContain("required option '--at <time>'");
    const unknown = await cli.run('schedule', 'add', 'no_such_flag', '-p', 'shop', '--at', FUTURE, '-c', 'true');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('flag shop/no_such_flag does not exist');
    const noProject = await cli.run('schedule', 'list');
    expect(noProject.code).toBe(1);
    expect(noProject.stderr).toContain('a project is required: pass -p/--project');
    const badId = await cli.run('schedule', 'show', 'sch_nothere', '-p', 'shop');
    expect(badId.code).toBe(1);
    expect(badId.stderr).toContain('project shop has no schedule "sch_nothere"');
    const badStatus = await cli.run('schedule', 'list', '-p', 'shop', '--status', 'done');
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toContain("option '--status <status>' argument 'done' is invalid");
    expect(await everything(cli)).toEqual(before);
  });
});

describe('vexil ramp', () => {
  let cli: CliHarness;

  beforeEach(async () => {
    cli = new CliHarness();
    expect((await cli.run('add-flag', 'new_checkout', '-p', 'shop', '-t', 'feature')).code).toBe(0);
    expect((await cli.run('add-revision', 'new_checkout', '-p', 'shop', '-c', 'false')).code).toBe(0);
  });
  afterEach(() => cli.cleanup());

  it('starts a ramp whose first step is in force when the command exits; status, pause, resume and abort by id or flag', async () => {
    const base = (await cli.json<{ wtime: string }>('latest', 'new_checkout', '-p', 'shop')).wtime;
    const started = await cli.run(
      '--json',
      'ramp',
      'start',
      'new_checkout',
      '-p',
      'shop',
      '--steps',
      '10,50,100',
      '--every',
      '90m',
    );
    expect(started.code, started.stderr).toBe(0);
    expect(started.stderr).toContain('the next step is applied by a running vexil serve');
    const ramp = JSON.parse(started.stdout) as RampRecord;
    expect(ramp).toMatchObject({
      status: 'running',
      steps: [10, 50, 100],
      everyHours: 1.5,
      value: true,
      baseWtime: base,
    });
    expect(ramp.applied).toHaveLength(1);
    const latest = await cli.json<{ wtime: string; revision: Record<string, unknown> }>(
      'latest',
      'new_checkout',
      '-p',
      'shop',
    );
    expect(latest.wtime).toBe(ramp.applied[0]!.wtime);
    expect(latest.revision).toMatchObject({
      ControlValue: false,
      Treatments: [{ PercentRollout: 10, Value: true }],
      RampID: ramp.id,
    });

    const status = await cli.run('ramp', 'status', 'new_checkout', '-p', 'shop');
    expect(status.stdout).toContain(`ramp ${ramp.id}: running`);
    expect(status.stdout).toContain('[10] → 50 → 100 %, one every 1.5 h');
    const all = await cli.json<RampRecord[]>('ramp', 'status', '-p', 'shop');
    expect(all.map((r) => r.id)).toEqual([ramp.id]);

    const paused = await cli.json<RampRecord>('ramp', 'pause', 'new_checkout', '-p', 'shop');
    expect(paused.status).toBe('paused');
    const next = await cli.json<ScheduleRecord>('schedule', 'show', ramp.nextSchedule!, '-p', 'shop');
    expect(next.status).toBe('cancelled');
    const resumed = await cli.json<RampRecord>('ramp', 'resume', ramp.id, '-p', 'shop');
    expect(resumed.status).toBe('running');
    expect(resumed.nextSchedule).not.toBe(ramp.nextSchedule);

    const aborted = await cli.json<RampRecord>('ramp', 'abort', ramp.id, '-p', 'shop');
    expect(aborted.status).toBe('aborted');
    const after = await cli.json<{ revision: Record<string, unknown> }>('latest', 'new_checkout', '-p', 'shop');
    expect(after.revision).toMatchObject({ RollbackOf: base, RampID: ramp.id, Treatments: [] });
    const resumedSchedule = await cli.json<ScheduleRecord>('schedule', 'show', resumed.nextSchedule!, '-p', 'shop');
    expect(resumedSchedule.status).toBe('cancelled');
  });

  it('refuses a bad plan, a data flag and a second ramp naming the option, writing nothing', async () => {
    expect((await cli.run('add-flag', 'banner', '-p', 'shop', '-t', 'data')).code).toBe(0);
    expect((await cli.run('add-revision', 'banner', '-p', 'shop', '-c', 'hello')).code).toBe(0);
    const before = await everything(cli);
    const cases: [string[], RegExp][] = [
      [['new_checkout', '--every', '6x'], /--every "6x" is not an interval/],
      [['new_checkout', '--every', '6'], /--every "6" is not an interval/],
      [['new_checkout', '--every', '0h'], /--every: everyHours is required: the hours between two steps, more than 0/],
      [['new_checkout', '--every', '6h', '--steps', '1,x,100'], /--steps "1,x,100": step 2 \("x"\) is not a number/],
      [
        ['new_checkout', '--every', '6h', '--steps', '5,1'],
        /--steps: steps\[1\] \(1\) must be more than the step before it \(5\)/,
      ],
      [
        ['new_checkout', '--every', '6h', '--steps', '1,150'],
        /--steps: steps\[1\] must be a percentage above 0 and at most 100/,
      ],
      [['new_checkout', '--every', '6h', '--value', 'false'], /--value: .*ControlValue is already false/],
      [['banner', '--every', '6h'], /a ramp rolls out a feature flag's value; shop\/data\/banner is a data flag/],
      [['no_such_flag', '--every', '6h'], /flag shop\/no_such_flag does not exist/],
    ];
    for (const [args, message] of cases) {
      const result = await cli.run('ramp', 'start', ...args, '-p', 'shop');
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    expect(await everything(cli)).toEqual(before);

    const first = await cli.json<RampRecord>('ramp', 'start', 'new_checkout', '-p', 'shop', '--every', '6h');
    const during = await everything(cli);
    const second = await cli.run('ramp', 'start', 'new_checkout', '-p', 'shop', '--every', '6h');
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`already has ramp ${first.id} (running): abort it first`);
    const resume = await cli.run('ramp', 'resume', first.id, '-p', 'shop');
    expect(resume.code).toBe(1);
    expect(resume.stderr).toContain(`ramp ${first.id} is running: only a paused ramp can resume`);
    const none = await cli.run('ramp', 'pause', 'banner', '-p', 'shop');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('flag banner is a data flag, not a feature flag');
    expect((await cli.run('add-flag', 'quiet', '-p', 'shop', '-t', 'feature')).code).toBe(0);
    const noRamp = await cli.run('ramp', 'abort', 'quiet', '-p', 'shop');
    expect(noRamp.code).toBe(1);
    expect(noRamp.stderr).toContain('flag shop/feature/quiet has no running or paused ramp');
    const { rows, records: kept } = await everything(cli);
    expect(kept).toEqual(during.records);
    expect(rows.filter((row) => row.ref.name !== 'quiet')).toEqual(during.rows);
  });
});

describe('vexil proposal and project set --approvals', () => {
  let cli: CliHarness;

  beforeEach(async () => {
    cli = new CliHarness();
    expect((await cli.run('add-flag', 'new_checkout', '-p', 'shop', '-t', 'feature')).code).toBe(0);
    expect((await cli.run('add-revision', 'new_checkout', '-p', 'shop', '-c', 'false')).code).toBe(0);
  });
  afterEach(() => cli.cleanup());

  const propose = (owner: string, input: Record<string, unknown>) =>
    withChanges(cli, (changes) =>
      changes.approvals.propose({ project: 'shop', flagType: 'feature', name: 'new_checkout' }, input, { owner }),
    );

  it('turns approvals on and off, keeping public evaluation; a bad expiry changes nothing', async () => {
    const on = await cli.run('project', 'set', 'shop', '--approvals', 'on', '--approval-expiry-hours', '48');
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toContain('shop: public evaluation off, approvals required (proposals expire after 48 h)');
    const both = await cli.json<{ publicEvaluation: boolean; approvals: unknown }>(
      'project',
      'set',
      'shop',
      '--public-evaluation',
      'on',
    );
    expect(both).toMatchObject({ publicEvaluation: true, approvals: { required: true, expiryHours: 48 } });

    const before = await everything(cli);
    for (const [args, message] of [
      [['--approvals', 'on', '--approval-expiry-hours', '0'], /expiryHours must be more than 0/],
      [['--approvals', 'on', '--approval-expiry-hours', 'soon'], /--approval-expiry-hours must be a number of hours/],
      [['--public-evaluation', 'off', '--approvals', 'on', '--approval-expiry-hours', '9999'], /at most 2160/],
      [['--approval-expiry-hours', '5'], /--approval-expiry-hours goes with --approvals on\|off/],
      [[], /give a setting to change: --public-evaluation on\|off or --approvals on\|off/],
    ] as [string[], RegExp][]) {
      const result = await cli.run('project', 'set', 'shop', ...args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    expect(await everything(cli)).toEqual(before);

    const off = await cli.json<{ approvals: unknown }>('project', 'set', 'shop', '--approvals', 'off');
    expect(off.approvals).toEqual({ required: false, expiryHours: 48 });
  });

  it('lists, shows and approves another owner’s proposal as the OS user: the revision names both', async () => {
    const proposal = await propose('alice', {
      kind: 'revision',
      revision: { ControlValue: false, Treatments: [{ PercentRollout: 20, Value: true, OverrideList: [] }] },
    });
    const listed = await cli.run('proposal', 'list', '-p', 'shop', '--status', 'pending');
    expect(listed.stdout).toContain(proposal.id);
    expect(listed.stdout).toContain('revision now');
    expect(listed.stdout).toContain('alice');
    const shown = await cli.run('proposal', 'show', proposal.id, '-p', 'shop');
    expect(shown.stdout).toContain(`proposal ${proposal.id}: pending`);
    expect(shown.stdout).toContain('rollout:  20% → true, else false');

    const approved = await cli.json<ProposalRecord>('proposal', 'approve', proposal.id, '-p', 'shop');
    expect(approved).toMatchObject({ status: 'approved', decidedBy: { owner: callerName() } });
    const latest = await cli.json<{ wtime: string; revision: Record<string, unknown> }>(
      'latest',
      'new_checkout',
      '-p',
      'shop',
    );
    expect(latest.wtime).toBe(approved.result);
    expect(latest.revision).toMatchObject({ OwnerID: 'alice', ApprovedBy: callerName(), ProposalID: proposal.id });

    const again = await cli.run('proposal', 'approve', proposal.id, '-p', 'shop');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`proposal ${proposal.id} is approved: only a pending proposal can be approved`);
  });

  it('the OS user cannot approve their own proposal; they may reject it; nothing is written on refusal', async () => {
    const own = await propose(callerName(), { kind: 'revision', revision: { ControlValue: true, Treatments: [] } });
    const before = await everything(cli);
    const refused = await cli.run('proposal', 'approve', own.id, '-p', 'shop');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${callerName()} proposed ${own.id} and cannot approve it`);
    const unknown = await cli.run('proposal', 'approve', 'prp_nothere', '-p', 'shop');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('project shop has no proposal "prp_nothere"');
    expect(await everything(cli)).toEqual(before);

    const rejected = await cli.json<ProposalRecord>('proposal', 'reject', own.id, '-p', 'shop', '--reason', 'not yet');
    expect(rejected).toMatchObject({ status: 'rejected', detail: 'not yet', decidedBy: { owner: callerName() } });
    expect(await cli.snapshot(['shop'])).toEqual(before.rows);
  });

  it('approving a ramp proposal starts the ramp, its first step in force at once; a schedule proposal becomes a schedule', async () => {
    const ramp = await propose('alice', { kind: 'ramp', steps: [5, 100], everyHours: 24 });
    const approved = await cli.json<ProposalRecord>('proposal', 'approve', ramp.id, '-p', 'shop');
    const started = await cli.json<RampRecord>('ramp', 'status', approved.result!, '-p', 'shop');
    expect(started).toMatchObject({ status: 'running', proposal: ramp.id, createdBy: { owner: 'alice' } });
    expect(started.applied).toHaveLength(1);
    const latest = await cli.json<{ revision: Record<string, unknown> }>('latest', 'new_checkout', '-p', 'shop');
    expect(latest.revision).toMatchObject({ Treatments: [{ PercentRollout: 5, Value: true }], RampID: started.id });
    expect((await cli.run('ramp', 'abort', started.id, '-p', 'shop')).code).toBe(0);

    const later = await propose('alice', {
      kind: 'schedule',
      at: FUTURE,
      revision: { ControlValue: true, Treatments: [] },
    });
    const scheduled = await cli.json<ProposalRecord>('proposal', 'approve', later.id, '-p', 'shop');
    const schedule = await cli.json<ScheduleRecord>('schedule', 'show', scheduled.result!, '-p', 'shop');
    expect(schedule).toMatchObject({
      status: 'pending',
      proposal: later.id,
      at: FUTURE,
      createdBy: { owner: 'alice' },
    });
  });
});
