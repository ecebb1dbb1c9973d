import { FLAG_NAME_RULE, type FlagRef, InvalidInputError } from '@vexil/core';
import { type Command, Option } from 'commander';
import { type FlagAdmin, type SegmentInput, segmentRef } from '../flag-admin.js';
import { parseIdList, parseLimit, parseStructured } from './arguments.js';
import { callerName } from './caller.js';
import { formatHistory, formatRevision, formatSegment, formatSegments } from './output.js';
import { parseConditions } from './rule-syntax.js';

/** What the segment commands share with the rest of the program. */
export interface SegmentCommandContext {
  withStore: <T>(command: Command, work: (admin: FlagAdmin) => Promise<T>, access?: 'read' | 'create') => Promise<T>;
  print: <T>(command: Command, value: T, human: (value: T) => string) => void;
  collect: (value: string, all: string[]) => string[];
  requireProject: (project: string | undefined) => string;
  readText: (file: string) => Promise<string>;
}

interface SegmentOptions {
  project?: string;
}

interface SegmentPartsOptions extends SegmentOptions {
  description?: string;
  include: string[];
  exclude: string[];
  condition: string[];
  conditionsJson?: string;
  owner?: string;
  comment?: string;
}

const CONDITION_HELP = `
Conditions (--condition, repeatable; all must hold): ATTRIBUTE OPERATOR VALUE[,VALUE]…
joined by "and", as in vexil add-revision --rule (see its --help), without "=>":
  --condition 'email ends_with @example.com,@example.org'
  --condition 'plan in pro,enterprise and signup before 2026-01-01'
A context is a member when its targetingKey is in --include and not in --exclude,
or, for everyone else, when there are conditions and all of them hold.`;

/** `vexil segment create|update|list|show|history|rollback|archive`: a project's named audiences. */
export function registerSegmentCommands(program: Command, context: SegmentCommandContext): void {
  const { withStore, print, collect, requireProject, readText } = context;
  const segments = program
    .command('segment')
    .description('manage segments: named audiences (ids and conditions) that rules refer to with in_segment');

  const ref = (name: string, opts: SegmentOptions): FlagRef => segmentRef(requireProject(opts.project), name);
  const projectOption = () => new Option('-p, --project <project>', 'the project').env('VEXIL_PROJECT');
  const segmentCommand = (name: string, description: string) =>
    segments
      .command(name)
      .description(description)
      .argument('<segment>', `segment name: ${FLAG_NAME_RULE}`)
      .addOption(projectOption());
  const withParts = (command: Command) =>
    command
      .option('-d, --description <text>', 'what the segment is')
      .option('--include <ids>', 'targeting keys always in it, comma-separated, repeatable', collect, [] as string[])
      .option('--exclude <ids>', 'targeting keys never in it, comma-separated, repeatable', collect, [] as string[])
      .option(
        '--condition <conditions>',
        'conditions for everyone else, repeatable (see below)',
        collect,
        [] as string[],
      )
      .option('--conditions-json <file|json>', 'the conditions in full, a JSON list of {Attribute, Operator, Values}')
      .option('--owner <id>', 'who made the change (OwnerID; default: your user name)')
      .option('--comment <text>', 'why')
      .addHelpText('after', CONDITION_HELP);

  /** The parts the options give; `update` passes `given` to leave out the parts not named. */
  const partsOf = async (opts: SegmentPartsOptions, creating: boolean): Promise<SegmentInput> => {
    const input: SegmentInput = { OwnerID: opts.owner ?? callerName() };
    if (opts.comment !== undefined) input.Comment = opts.comment;
    if (opts.description !== undefined) input.description = opts.description;
    if (opts.include.length > 0) input.Included = parseIdList(opts.include);
    if (opts.exclude.length > 0) input.Excluded = parseIdList(opts.exclude);
    if (opts.condition.length > 0 && opts.conditionsJson !== undefined) {
      throw new InvalidInputError('give the conditions with --condition or with --conditions-json, not both', {
        field: 'Conditions',
      });
    }
    if (opts.condition.length > 0) {
      input.Conditions = opts.condition.flatMap((text, i) =>
        parseConditions(text, `Conditions (--condition ${i + 1})`),
      );
    }
    if (opts.conditionsJson !== undefined) {
      const trimmed = opts.conditionsJson.trim();
      input.Conditions = parseStructured(
        trimmed.startsWith('[') ? trimmed : await readText(opts.conditionsJson),
        'Conditions',
      );
    }
    if (creating && input.Included === undefined && input.Conditions === undefined) {
      throw new InvalidInputError('a segment needs members: give --include ids or --condition', {
        field: 'Conditions',
      });
    }
    return input;
  };

  withParts(segmentCommand('create', 'add a segment: its name, description and audience')).action(
    async (name: string, opts: SegmentPartsOptions, command: Command) => {
      const input = await partsOf(opts, true);
      const view = await withStore(command, (admin) => admin.addSegment(ref(name, opts), input), 'create');
      print(command, view, formatSegment);
    },
  );

  withParts(
    segmentCommand(
      'update',
      "change a segment: a new revision; the parts given replace those in force (--include '' empties the list, --conditions-json '[]' the conditions)",
    ),
  ).action(async (name: string, opts: SegmentPartsOptions, command: Command) => {
    // An option given as '' empties its list: parseIdList drops empty parts.
    const input = await partsOf(opts, false);
    const view = await withStore(command, (admin) => admin.updateSegment(ref(name, opts), input));
    print(command, view, formatSegment);
  });

  segments
    .command('list')
    .description('list the segments of a project')
    .addOption(projectOption())
    .option('-a, --all', 'include archived segments')
    .action(async (opts: SegmentOptions & { all?: boolean }, command: Command) => {
      const project = requireProject(opts.project);
      const views = await withStore(command, (admin) =>
        admin.listSegments(project, { includeArchived: opts.all === true }),
      );
      print(command, views, formatSegments);
    });

  segmentCommand('show', "show a segment's description and the revision in force").action(
    async (name: string, opts: SegmentOptions, command: Command) => {
      const view = await withStore(command, (admin) => admin.getSegment(ref(name, opts)));
      print(command, view, formatSegment);
    },
  );

  segmentCommand('history', "show a segment's revisions, newest first")
    .option('-n, --limit <n>', 'at most this many', parseLimit)
    .action(async (name: string, opts: SegmentOptions & { limit?: number }, command: Command) => {
      const views = await withStore(command, (admin) => admin.segmentHistory(ref(name, opts), opts.limit));
      print(command, views, formatHistory);
    });

  segmentCommand('rollback', 'republish an earlier revision of a segment as the newest')
    .option('--to <wtime>', 'the revision to restore (its time, from history); default: the one before the newest')
    .option('--owner <id>', 'who rolled back (OwnerID; default: your user name)')
    .option('--comment <text>', 'why')
    .action(
      async (
        name: string,
        opts: SegmentOptions & { to?: string; owner?: string; comment?: string },
        command: Command,
      ) => {
        const view = await withStore(command, (admin) =>
          admin.rollbackSegment(ref(name, opts), {
            to: opts.to,
            OwnerID: opts.owner ?? callerName(),
            Comment: opts.comment,
          }),
        );
        print(command, view, formatRevision);
      },
    );

  segmentCommand('archive', 'retire a segment: it has no members from now on; history stays')
    .option('--owner <id>', 'who archived it (OwnerID; default: your user name)')
    .option('--comment <text>', 'why')
    .action(async (name: string, opts: SegmentOptions & { owner?: string; comment?: string }, command: Command) => {
      const view = await withStore(command, (admin) =>
        admin.archiveSegment(ref(name, opts), { OwnerID: opts.owner ?? callerName(), Comment: opts.comment }),
      );
      print(command, view, formatRevision);
    });
}
