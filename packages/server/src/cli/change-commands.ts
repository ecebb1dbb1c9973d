import { FLAG_NAME_RULE, type FlagRef, InvalidInputError, type Revision } from '@vexil/core';
import type { StoreEngine } from '@vexil/store';
import { type Command, Option } from 'commander';
import { ChangeManagement } from '../changes/change-management.js';
import type { ProposalStatus, RampRecord, RecordedActor, ScheduleStatus } from '../changes/change-records.js';
import type { FlagAdmin, RevisionInput } from '../flag-admin.js';
import { refLabel } from '../views.js';
import { callerName } from './caller.js';
import {
  formatProposal,
  formatProposals,
  formatRamp,
  formatRamps,
  formatSchedule,
  formatSchedules,
} from './change-output.js';
import type { RevisionOptions } from './program.js';

/** What the change-management commands share with the rest of the program. */
export interface ChangeCommandContext {
  withStore: <T>(
    command: Command,
    work: (admin: FlagAdmin, store: StoreEngine, unattributed: FlagAdmin) => Promise<T>,
  ) => Promise<T>;
  print: <T>(command: Command, value: T, human: (value: T) => string) => void;
  requireProject: (project: string | undefined) => string;
  resolveRef: (admin: FlagAdmin, name: string, opts: { project?: string; type?: string }) => Promise<FlagRef>;
  withRevisionOptions: (command: Command) => Command;
  revisionInput: (
    ref: FlagRef,
    opts: RevisionOptions,
    metadataInForce: Revision['Metadata'] | undefined,
  ) => Promise<RevisionInput>;
  /** Notes for people (stderr): what a command leaves for `vexil serve` to do. */
  err: (text: string) => void;
}

interface ProjectOptions {
  project?: string;
}

const SCHEDULE_STATUSES: readonly ScheduleStatus[] = ['pending', 'applied', 'cancelled', 'failed'];
const PROPOSAL_STATUSES: readonly ProposalStatus[] = ['pending', 'approved', 'rejected', 'expired'];

/**
 * `vexil schedule|ramp|proposal`: scheduled revisions, progressive ramps and approvals
 * (docs/change-management.md) on the store directly, through the same modules as the
 * admin API (changes/). The actor is the OS user, as for every CLI write; it has no
 * `--owner`, so an approval is always the OS user's and the proposer of a change cannot
 * approve it from here either. Like the other commands, these are not gated by a
 * project's approvals: whoever can open the store is an operator.
 */
export function registerChangeCommands(program: Command, context: ChangeCommandContext): void {
  const { withStore, print, requireProject, resolveRef } = context;
  const actor = (): RecordedActor => ({ owner: callerName() });
  const projectOption = () => new Option('-p, --project <project>', 'the project').env('VEXIL_PROJECT');
  /** Runs `work` with the store's change management, whose writes act as each record's owner. */
  const withChanges = <T>(
    command: Command,
    work: (changes: ChangeManagement, admin: FlagAdmin) => Promise<T>,
  ): Promise<T> =>
    withStore(command, (admin, store, unattributed) =>
      work(
        new ChangeManagement({
          admin: unattributed,
          records: store.access,
          events: unattributed.events,
          now: Date.now,
        }),
        admin,
      ),
    );
  /** A step due now is applied by this command, so a ramp started here moves without a running service. */
  const applyFirstStep = async (changes: ChangeManagement, ramp: RampRecord): Promise<RampRecord> => {
    if (ramp.nextSchedule !== undefined) await changes.schedules.applyIfDue(ramp.nextSchedule);
    return changes.ramps.get(ramp.ref.project, ramp.id);
  };
  const noteNextStep = (ramp: RampRecord) => {
    if (ramp.status === 'running' && ramp.nextSchedule !== undefined) {
      context.err(
        `note: the next step is applied by a running vexil serve on this store (schedule ${ramp.nextSchedule})`,
      );
    }
  };

  // vexil schedule …
  const schedule = program
    .command('schedule')
    .description('scheduled revisions: a revision checked now and written at a given time (by vexil serve)');

  context
    .withRevisionOptions(
      schedule
        .command('add')
        .description('schedule a revision of a flag: the same options as add-revision, and --at')
        .argument('<flag>', `flag name: ${FLAG_NAME_RULE}`)
        .addOption(projectOption())
        .option('-t, --type <type>', 'flag type; found by name when omitted')
        .requiredOption(
          '--at <time>',
          'when it takes effect: ISO 8601 with a zone, in the future (2030-01-31T09:00:00+01:00, …Z)',
        ),
    )
    .action(async (name: string, opts: RevisionOptions & { at: string }, command: Command) => {
      const record = await withChanges(command, async (changes, admin) => {
        const ref = await resolveRef(admin, name, opts);
        // The metadata in force now is carried over unless --metadata changes it, as add-revision does.
        const current = await admin.store.latest('REVISION', ref);
        const revision = await context.revisionInput(ref, opts, current?.fields.Metadata as Revision['Metadata']);
        return namingOptions(() => changes.schedules.create(ref, { at: opts.at, revision }, actor()), {
          at: '--at',
        });
      });
      print(command, record, formatSchedule);
    });

  schedule
    .command('list')
    .description("list a project's scheduled revisions (ramps' steps too), soonest first")
    .addOption(projectOption())
    .option('--flag <flag>', "only this flag's")
    .option('-t, --type <type>', 'the flag type with --flag; found by name when omitted')
    .addOption(new Option('--status <status>', 'only those in this state').choices([...SCHEDULE_STATUSES]))
    .action(
      async (opts: ProjectOptions & { flag?: string; type?: string; status?: ScheduleStatus }, command: Command) => {
        const project = requireProject(opts.project);
        const records = await withChanges(command, async (changes, admin) => {
          const ref = opts.flag === undefined ? undefined : await resolveRef(admin, opts.flag, opts);
          if (ref === undefined) await admin.requireProject(project);
          return changes.schedules.list(project, { ref, status: opts.status });
        });
        print(command, records, formatSchedules);
      },
    );

  schedule
    .command('show')
    .description('show one scheduled revision')
    .argument('<id>', 'the schedule, sch_…')
    .addOption(projectOption())
    .action(async (id: string, opts: ProjectOptions, command: Command) => {
      const project = requireProject(opts.project);
      const record = await withChanges(command, (changes) => changes.schedules.get(project, id));
      print(command, record, formatSchedule);
    });

  schedule
    .command('cancel')
    .description('cancel a pending scheduled revision (undo an applied one with rollback)')
    .argument('<id>', 'the schedule, sch_…')
    .addOption(projectOption())
    .action(async (id: string, opts: ProjectOptions, command: Command) => {
      const project = requireProject(opts.project);
      const record = await withChanges(command, (changes) => changes.schedules.cancel(project, id, actor()));
      print(command, record, formatSchedule);
    });

  // vexil ramp …
  const ramp = program
    .command('ramp')
    .description('progressive ramps of a feature flag: 1 → 5 → 25 → 100 %, one step every N hours');

  ramp
    .command('start')
    .description(
      "start a ramp: the flag's treatment set to each percentage in turn, the first now, each next one --every later",
    )
    .argument('<flag>', 'the feature flag')
    .addOption(projectOption())
    .option('--steps <percentages>', 'comma-separated, increasing, each at most 100', '1,5,25,100')
    .requiredOption('--every <interval>', 'time between two steps: 6h, 30m, 2d, 1.5h')
    .addOption(new Option('--value <value>', 'the value rolled out').choices(['true', 'false']).default('true'))
    .action(
      async (
        name: string,
        opts: ProjectOptions & { steps: string; every: string; value: string },
        command: Command,
      ) => {
        const plan = {
          steps: parseSteps(opts.steps),
          everyHours: parseInterval(opts.every),
          value: opts.value === 'true',
        };
        const record = await withChanges(command, async (changes, admin) => {
          const ref = await resolveRef(admin, name, opts);
          const started = await namingOptions(() => changes.ramps.start(ref, plan, actor()), RAMP_OPTIONS);
          return applyFirstStep(changes, started);
        });
        print(command, record, formatRamp);
        noteNextStep(record);
      },
    );

  ramp
    .command('status')
    .description("a ramp's state and steps; without an argument, every ramp of the project")
    .argument('[ramp]', 'a ramp id (rmp_…) or a flag name: its newest ramp')
    .addOption(projectOption())
    .action(async (which: string | undefined, opts: ProjectOptions, command: Command) => {
      const project = requireProject(opts.project);
      if (which === undefined) {
        const records = await withChanges(command, async (changes, admin) => {
          await admin.requireProject(project);
          return changes.ramps.list(project);
        });
        print(command, records, formatRamps);
        return;
      }
      const record = await withChanges(command, (changes, admin) => findRamp(changes, admin, project, which, false));
      print(command, record, formatRamp);
    });

  const rampActions = {
    pause: 'pause a running ramp: its next step is cancelled; the flag keeps its percentage',
    resume: 'resume a paused ramp: its next step one interval from now',
    abort: 'abort a ramp: its next step is cancelled and the flag rolled back to the revision before the ramp',
  } as const;
  for (const [action, description] of Object.entries(rampActions) as [keyof typeof rampActions, string][]) {
    ramp
      .command(action)
      .description(description)
      .argument('<ramp>', 'a ramp id (rmp_…) or a flag name: its running or paused ramp')
      .addOption(projectOption())
      .action(async (which: string, opts: ProjectOptions, command: Command) => {
        const project = requireProject(opts.project);
        const record = await withChanges(command, async (changes, admin) => {
          const found = await findRamp(changes, admin, project, which, true);
          return changes.ramps[action](project, found.id, actor());
        });
        print(command, record, formatRamp);
        if (action === 'resume') noteNextStep(record);
      });
  }

  // vexil proposal …
  const proposal = program
    .command('proposal')
    .description(
      'changes waiting for approval, where a project requires it (vexil project set P --approvals on): list, show, approve, reject',
    );

  proposal
    .command('list')
    .description("a project's proposals, newest first (pending ones past their time are marked expired)")
    .addOption(projectOption())
    .addOption(new Option('--status <status>', 'only those in this state').choices([...PROPOSAL_STATUSES]))
    .action(async (opts: ProjectOptions & { status?: ProposalStatus }, command: Command) => {
      const project = requireProject(opts.project);
      const records = await withChanges(command, async (changes, admin) => {
        await admin.requireProject(project);
        return changes.approvals.list(project, opts.status);
      });
      print(command, records, formatProposals);
    });

  proposal
    .command('show')
    .description('show one proposal')
    .argument('<id>', 'the proposal, prp_…')
    .addOption(projectOption())
    .action(async (id: string, opts: ProjectOptions, command: Command) => {
      const project = requireProject(opts.project);
      const record = await withChanges(command, (changes) => changes.approvals.get(project, id));
      print(command, record, formatProposal);
    });

  proposal
    .command('approve')
    .description(
      'approve a proposal as your OS user (not its proposer): the revision is written now, or the schedule or ramp starts',
    )
    .argument('<id>', 'the proposal, prp_…')
    .addOption(projectOption())
    .action(async (id: string, opts: ProjectOptions, command: Command) => {
      const project = requireProject(opts.project);
      const record = await withChanges(command, async (changes) => {
        const approved = await changes.approvals.approve(project, id, actor());
        if (approved.change.kind === 'ramp' && approved.result !== undefined) {
          await applyFirstStep(changes, await changes.ramps.get(project, approved.result));
        }
        return approved;
      });
      print(command, record, formatProposal);
    });

  proposal
    .command('reject')
    .description('reject a pending proposal (its proposer may withdraw it this way)')
    .argument('<id>', 'the proposal, prp_…')
    .addOption(projectOption())
    .option('--reason <text>', 'why, for the proposer')
    .action(async (id: string, opts: ProjectOptions & { reason?: string }, command: Command) => {
      const project = requireProject(opts.project);
      const record = await withChanges(command, (changes) =>
        changes.approvals.reject(project, id, actor(), opts.reason),
      );
      print(command, record, formatProposal);
    });
}

/** The API's field names of a ramp's plan, and the options that give them here. */
const RAMP_OPTIONS = { steps: '--steps', everyHours: '--every', value: '--value' } as const;

/**
 * The modules name the API's fields (`everyHours`, `steps[2]`); on the command line the
 * same error names the option that gave it.
 */
async function namingOptions<T>(work: () => Promise<T>, options: Record<string, string>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof InvalidInputError) || error.field === undefined) throw error;
    const base = error.field.replace(/\[.*$/, '');
    const option = options[base];
    if (option === undefined) throw error;
    throw new InvalidInputError(`${option}: ${error.message}`, {
      field: error.field,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    });
  }
}

/** `--steps 1,5,25,100`: numbers; the ramp module checks the rest (increasing, at most 100). */
function parseSteps(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim().replace(/%$/, ''));
  return parts.map((part, index) => {
    const value = part === '' ? Number.NaN : Number(part);
    if (!Number.isFinite(value)) {
      throw new InvalidInputError(
        `--steps ${JSON.stringify(text)}: step ${index + 1} (${JSON.stringify(part)}) is not a number; give increasing percentages, e.g. --steps 1,5,25,100`,
        { field: `steps[${index}]` },
      );
    }
    return value;
  });
}

const INTERVAL_UNITS_HOURS = { m: 1 / 60, h: 1, d: 24 } as const;

/** `--every 6h` (also 30m, 2d, 1.5h): the hours between two steps. */
function parseInterval(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$/.exec(text);
  if (match === null) {
    throw new InvalidInputError(
      `--every ${JSON.stringify(text)} is not an interval: a number and a unit, m (minutes), h (hours) or d (days), e.g. --every 6h`,
      { field: 'everyHours' },
    );
  }
  return Number(match[1]) * INTERVAL_UNITS_HOURS[match[2] as keyof typeof INTERVAL_UNITS_HOURS];
}

/**
 * A ramp by id, or by the flag it ramps: the flag's running or paused ramp (`active`),
 * else its newest.
 */
async function findRamp(
  changes: ChangeManagement,
  admin: FlagAdmin,
  project: string,
  which: string,
  active: boolean,
): Promise<RampRecord> {
  if (which.startsWith('rmp_')) return changes.ramps.get(project, which);
  const ramps = (await changes.ramps.list(project)).filter(
    (ramp) => ramp.ref.flagType === 'feature' && ramp.ref.name === which,
  );
  const found = active
    ? ramps.find((ramp) => ramp.status === 'running' || ramp.status === 'paused')
    : ramps[ramps.length - 1];
  if (found !== undefined) return found;
  // Says whether the flag itself is unknown, or has no ramp.
  await admin.getFlag({ project, flagType: 'feature', name: which });
  throw new InvalidInputError(
    `flag ${refLabel({ project, flagType: 'feature', name: which })} has no ${active ? 'running or paused ' : ''}ramp`,
    { field: 'ramp', hint: `list the project's ramps with: vexil ramp status -p ${project}` },
  );
}
