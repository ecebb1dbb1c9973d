import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  assertFlagName,
  assertProjectName,
  describeFlagTypes,
  EmptyFlagDataException,
  FLAG_NAME_RULE,
  type FlagRef,
  InvalidInputError,
  isVexilError,
  type Revision,
  VALUE_FLAG_TYPES,
  type ValueFlagType,
  type VexilError,
} from '@vexil/core';
import { type AirflowConfig, parseAirflowConfig } from '@vexil/core/runbook';
import { openStore, type StoreEngine, storeLocation } from '@vexil/store';
import { Command, CommanderError, Option } from 'commander';
import { ProjectAccess } from '../access/project-access.js';
import { ChangeEvents } from '../change-events.js';
import { loadConfig, loadStoreSettings } from '../config.js';
import { configHelpText, plainText } from '../config-docs.js';
import { SERVICE_VARIABLES } from '../config-variables.js';
import { seedDemo } from '../demo.js';
import { hasFindings } from '../doctor.js';
import { FlagAdmin, flagRef, type RevisionInput } from '../flag-admin.js';
import { addImportCommand } from '../flagd/import-command.js';
import { serveUntilSignalled } from '../serve.js';
import { registerAccessCommands } from './access-commands.js';
import {
  parseAssignment,
  parseAttribute,
  parseFlagValue,
  parseLimit,
  parseStructured,
  parseTreatmentSpec,
} from './arguments.js';
import { callerName } from './caller.js';
import { registerChangeCommands } from './change-commands.js';
import { registerLifecycleCommands } from './lifecycle-commands.js';
import { addLogCommand } from './log-command.js';
import {
  formatContextEvaluation,
  formatDoctor,
  formatEvaluation,
  formatFlag,
  formatFlags,
  formatHistory,
  formatRevision,
} from './output.js';
import { outcomeValue, parseRule, RULE_SYNTAX_HELP } from './rule-syntax.js';
import { registerSegmentCommands } from './segment-commands.js';
import { registerWebhookCommands, sendCommandWebhooks } from './webhook-commands.js';

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

interface GlobalOptions {
  store?: string;
  json?: boolean;
}

interface FlagOptions {
  project?: string;
  type?: string;
}

/** Options of the commands that change the revision in force. */
interface ChangeOptions extends FlagOptions {
  owner?: string;
  comment?: string;
  expectedLatest?: string;
}

const defaultIO: CliIO = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Runs the `vexil` command line and resolves to its exit code (0 ok, 1 refused input or failure, 2 usage). */
export async function runCli(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  const outcome = { exitCode: 0 };
  const program = buildProgram(io, outcome);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (isVexilError(error)) {
      io.err(formatError(error));
      return 1;
    }
    io.err(`error: unexpected ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    return 1;
  }
}

function formatError(error: VexilError): string {
  let text = `error: ${error.message}`;
  if (error.field !== undefined && !error.message.includes(error.field)) text += ` [field: ${error.field}]`;
  if (error.hint !== undefined) text += `\nhint: ${error.hint}`;
  return text;
}

/** `outcome.exitCode` lets a command that succeeded still report a finding (doctor: rows that do not validate). */
function buildProgram(io: CliIO, outcome: { exitCode: number }): Command {
  const program = new Command('vexil')
    .description('Vexil feature flags: add flags and revisions, roll out, roll back, evaluate.')
    .addOption(
      new Option(
        '--store <spec>',
        `${plainText(SERVICE_VARIABLES.store.meaning)}; default ${SERVICE_VARIABLES.store.default}`,
      ).env(SERVICE_VARIABLES.store.name),
    )
    .option('--json', 'print JSON for scripts instead of text for people')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  /**
   * Opens the store for one command. A SQLite file that is not there is created only
   * by the commands that add flags (and said so on stderr): a command that reads, run
   * from the wrong folder, must not answer from a new empty database.
   */
  const withStore = async <T>(
    command: Command,
    work: (admin: FlagAdmin, store: StoreEngine, unattributed: FlagAdmin) => Promise<T>,
    access: 'read' | 'create' = 'read',
  ): Promise<T> => {
    const options = command.optsWithGlobals<GlobalOptions>();
    const { bigtable } = loadStoreSettings(process.env);
    const location = storeLocation(options.store, bigtable);
    const creating = location.file !== undefined && !existsSync(location.file);
    if (creating && access === 'read') {
      throw new InvalidInputError(
        `no Vexil store at ${location.label}: nothing to read, and this command creates none`,
        {
          field: 'VEXIL_STORE',
          hint: 'choose the store with --store or VEXIL_STORE (sqlite:PATH, postgres://…, bigtable), run from the folder that holds it, or create one with vexil add-flag or vexil demo',
        },
      );
    }
    const store = await openStore(options.store, { bigtable });
    if (creating) io.err(`created new store at ${location.label}`);
    // Changes made by this command are sent to the webhooks before it exits (webhook-commands.ts).
    const events = new ChangeEvents();
    const webhooks = sendCommandWebhooks(store, events, io);
    try {
      // A command's changes are the OS user's: the rows record them as OwnerID (--owner as OnBehalfOf).
      const unattributed = new FlagAdmin(store, {
        where: `in ${location.label}`,
        projects: new ProjectAccess(store.access, store),
        events,
      });
      // Change management acts as the owner of each schedule or proposal (changes/), so it gets the admin before actingAs.
      return await work(unattributed.actingAs({ owner: callerName() }), store, unattributed);
    } finally {
      await webhooks.finish();
      await store.close();
    }
  };
  const print = <T>(command: Command, value: T, human: (value: T) => string) => {
    io.out(command.optsWithGlobals<GlobalOptions>().json ? JSON.stringify(value, null, 2) : human(value));
  };

  const flagCommand = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .argument('<flag>', `flag name: ${FLAG_NAME_RULE}`)
      .addOption(new Option('-p, --project <project>', 'project the flag belongs to').env('VEXIL_PROJECT'))
      .addOption(
        new Option(
          '-t, --type <type>',
          `flag type: ${describeFlagTypes(VALUE_FLAG_TYPES)}; found by name when omitted`,
        ),
      );

  /** Optimistic concurrency on every command that writes a revision (FlagAdmin's ExpectedLatestInput). */
  const expectedLatestOption = () =>
    new Option(
      '--expected-latest <wtime>',
      'write only if this is still the newest revision (its time, from history; none: the flag has none), else exit with RevisionConflict and write nothing',
    );
  const expectedOf = (opts: { expectedLatest?: string }) =>
    opts.expectedLatest === undefined
      ? {}
      : { expectedLatest: opts.expectedLatest === 'none' ? null : opts.expectedLatest };

  flagCommand('add-flag', 'add a new flag (procedure 1)')
    .option('-d, --description <text>', 'what the flag is for')
    .action(async (name: string, opts: FlagOptions & { description?: string }, command: Command) => {
      const ref = requireRef(name, opts, true);
      const view = await withStore(command, (admin) => admin.addFlag(ref, { description: opts.description }), 'create');
      print(command, view, formatFlag);
    });

  flagCommand('update-flag', "update a flag's metadata (procedure 4)")
    .requiredOption('-d, --description <text>', 'the new description')
    .action(async (name: string, opts: FlagOptions & { description: string }, command: Command) => {
      const view = await withStore(command, async (admin) =>
        admin.updateFlag(await resolveRef(admin, name, opts), { description: opts.description }),
      );
      print(command, view, formatFlag);
    });

  flagCommand('get-flag', "show a flag's metadata and the revision in force (procedure 5)").action(
    async (name: string, opts: FlagOptions, command: Command) => {
      const view = await withStore(command, async (admin) => admin.getFlag(await resolveRef(admin, name, opts)));
      print(command, view, formatFlag);
    },
  );

  withRevisionOptions(flagCommand('add-revision', 'add a revision: new rules in force from now (procedure 2)'))
    .addOption(expectedLatestOption())
    .action(async (name: string, opts: RevisionOptions, command: Command) => {
      const view = await withStore(command, async (admin) => {
        const ref = await resolveRef(admin, name, opts);
        // The flag's metadata (owner, ticket, expiry) is kept from the revision in force unless --metadata changes it.
        const current = await admin.store.latest('REVISION', ref);
        const metadata = current?.fields.Metadata as Revision['Metadata'] | undefined;
        return admin.addRevision(ref, { ...(await revisionInput(ref, opts, metadata)), ...expectedOf(opts) });
      });
      print(command, view, formatRevision);
    });

  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    flagCommand(
      action,
      disabled
        ? 'kill switch: disable a flag (a new revision with Disabled; it answers its control value, OFREP the caller’s default)'
        : 'enable a disabled flag again (a new revision without Disabled)',
    )
      .option('--owner <id>', `who ${action}d it (OwnerID; default: your user name)`)
      .option('--comment <text>', 'why')
      .addOption(expectedLatestOption())
      .action(async (name: string, opts: ChangeOptions, command: Command) => {
        const view = await withStore(command, async (admin) =>
          admin.setDisabled(await resolveRef(admin, name, opts), disabled, {
            OwnerID: opts.owner ?? callerName(),
            Comment: opts.comment,
            ...expectedOf(opts),
          }),
        );
        print(command, view, formatRevision);
      });
  }

  flagCommand('metadata', "change a flag's metadata: a new revision, the one in force with the keys set or removed")
    .option(
      '--set <key=value>',
      'set a key (a string), repeatable: owner=team-a, expires=2027-03-31',
      collect,
      [] as string[],
    )
    .option('--unset <key>', 'remove a key, repeatable', collect, [] as string[])
    .option('--owner <id>', 'who changed it (OwnerID; default: your user name)')
    .option('--comment <text>', 'why')
    .addOption(expectedLatestOption())
    .action(async (name: string, opts: ChangeOptions & { set: string[]; unset: string[] }, command: Command) => {
      const patch: Record<string, string | null> = {};
      for (const item of opts.set) {
        const [key, value] = parseAssignment(item, 'Metadata', 'owner=team-checkout');
        patch[key] = value;
      }
      for (const key of opts.unset) patch[key] = null;
      const view = await withStore(command, async (admin) =>
        admin.updateMetadata(await resolveRef(admin, name, opts), {
          Metadata: patch,
          OwnerID: opts.owner ?? callerName(),
          Comment: opts.comment,
          ...expectedOf(opts),
        }),
      );
      print(command, view, formatRevision);
    });

  flagCommand('latest', 'show the revision in force (procedure 6)').action(
    async (name: string, opts: FlagOptions, command: Command) => {
      const view = await withStore(command, async (admin) => admin.latestRevision(await resolveRef(admin, name, opts)));
      print(command, view, formatRevision);
    },
  );

  flagCommand('history', "show a flag's revisions, newest first (procedure 9)")
    .option('-n, --limit <n>', 'at most this many', parseLimit)
    .action(async (name: string, opts: FlagOptions & { limit?: number }, command: Command) => {
      const views = await withStore(command, async (admin) =>
        admin.history(await resolveRef(admin, name, opts), opts.limit),
      );
      print(command, views, formatHistory);
    });

  flagCommand('rollback', 'republish an earlier revision as the newest, recording its source (procedure 3)')
    .option('--to <wtime>', 'the revision to restore (its time, from history); default: the one before the newest')
    .option('--owner <id>', 'who rolled back (OwnerID; default: your user name)')
    .option('--comment <text>', 'why')
    .addOption(expectedLatestOption())
    .action(async (name: string, opts: ChangeOptions & { to?: string }, command: Command) => {
      const view = await withStore(command, async (admin) =>
        admin.rollback(await resolveRef(admin, name, opts), {
          to: opts.to,
          OwnerID: opts.owner ?? callerName(),
          Comment: opts.comment,
          ...expectedOf(opts),
        }),
      );
      print(command, view, formatRevision);
    });

  flagCommand('archive', 'retire a flag: evaluations answer "no flag data"; history stays (procedures 10, 11)')
    .option('--owner <id>', 'who archived it (OwnerID; default: your user name)')
    .option('--comment <text>', 'why')
    .addOption(expectedLatestOption())
    .action(async (name: string, opts: ChangeOptions, command: Command) => {
      const view = await withStore(command, async (admin) =>
        admin.archive(await resolveRef(admin, name, opts), {
          OwnerID: opts.owner ?? callerName(),
          Comment: opts.comment,
          ...expectedOf(opts),
        }),
      );
      print(command, view, formatRevision);
    });

  flagCommand('eval', 'evaluate a flag for one instance id, or for a context of attributes')
    .option('-i, --instance-id <id>', 'the id to bucket, e.g. a user id (the targeting key)')
    .option(
      '--attr <key=value>',
      'a context attribute, repeatable: country=DE (a string) or age:=42 (JSON)',
      collect,
      [] as string[],
    )
    .option('--context <file|json>', 'the whole context as a JSON object (a file, or the JSON itself)')
    .action(
      async (
        name: string,
        opts: FlagOptions & { instanceId?: string; attr: string[]; context?: string },
        command: Command,
      ) => {
        if (opts.attr.length === 0 && opts.context === undefined) {
          if (opts.instanceId === undefined) {
            throw new InvalidInputError('give -i/--instance-id, or a context with --attr or --context', {
              field: 'instance_id',
            });
          }
          const id = opts.instanceId;
          const view = await withStore(command, async (admin) =>
            admin.evaluate(await resolveRef(admin, name, opts), id),
          );
          print(command, view, formatEvaluation);
          return;
        }
        const context = await contextOf(opts);
        const view = await withStore(command, async (admin) =>
          admin.evaluateContext(await resolveRef(admin, name, opts), context),
        );
        print(command, view, formatContextEvaluation);
      },
    );

  program
    .command('list')
    .description('list the flags of a project (procedure 7), with their revision in force (procedure 8)')
    .addOption(new Option('-p, --project <project>', 'the project').env('VEXIL_PROJECT'))
    .option('-r, --with-revision', 'include each flag’s newest revision')
    .option('-a, --all', 'include archived flags')
    .action(async (opts: { project?: string; withRevision?: boolean; all?: boolean }, command: Command) => {
      const project = requireProject(opts.project);
      const views = await withStore(command, (admin) =>
        admin.listFlags(project, { withRevision: opts.withRevision === true, includeArchived: opts.all === true }),
      );
      print(command, views, (v) => formatFlags(v, opts.withRevision === true));
    });

  program
    .command('init')
    .description('create what the store needs (Bigtable tables and column families); safe to run twice')
    .action(async (_opts: unknown, command: Command) => {
      const spec = command.optsWithGlobals<GlobalOptions>().store;
      const { bigtable } = loadStoreSettings(process.env);
      const location = storeLocation(spec, bigtable);
      const creating = location.file !== undefined && !existsSync(location.file);
      const store = await openStore(spec, { bigtable, initialize: true });
      if (creating) io.err(`created new store at ${location.label}`);
      const report = { store: store.engine, ready: true };
      await store.close();
      print(command, report, () => `${report.store} store ready`);
    });

  registerSegmentCommands(program, { withStore, print, collect, requireProject, readText });
  addLogCommand(program, { withStore, print, requireProject });
  registerAccessCommands(program, { withStore, print, collect, requireProject });
  registerWebhookCommands(program, { withStore, print, collect });
  registerChangeCommands(program, {
    withStore,
    print,
    requireProject,
    resolveRef,
    withRevisionOptions,
    revisionInput,
    err: io.err,
  });
  registerLifecycleCommands(program, { withStore, print, requireProject, outcome, err: io.err, out: io.out });

  program
    .command('doctor')
    .description(
      'check every row of a project as the service reads it; list those that do not validate, flags past their expiry day and rules naming unknown or archived segments (exit 1 if any)',
    )
    .addOption(new Option('-p, --project <project>', 'the project').env('VEXIL_PROJECT'))
    .action(async (opts: { project?: string }, command: Command) => {
      const project = requireProject(opts.project);
      const report = await withStore(command, (admin) => admin.doctor(project));
      print(command, report, formatDoctor);
      if (hasFindings(report)) outcome.exitCode = 1;
    });

  program
    .command('apply')
    .description(
      "write the runbook system's Airflow JSON configs, as its DAG did: all or nothing where the store has atomic batches, else one file at a time (it says so)",
    )
    .argument('<files...>', 'config files with row_key_prefix_* and row_cell_value')
    .action(async (files: string[], _opts: unknown, command: Command) => {
      const configs: AirflowConfig[] = [];
      for (const file of files) configs.push(parseAirflowConfig(await readText(file), file));
      const rows = await withStore(
        command,
        (admin) => {
          if (!admin.store.capabilities.atomicBatch) io.err(`note: ${admin.applyGuarantee}`);
          return admin.apply(configs, files);
        },
        'create',
      );
      print(command, rows, (r) => r.map((row) => `${row.kind.padEnd(8)} ${row.key}`).join('\n'));
    });

  program
    .command('serve')
    .description('run the flag service (configuration from environment variables; see README)')
    .option(
      '--port <port>',
      `port to listen on (${SERVICE_VARIABLES.port.name}, default ${SERVICE_VARIABLES.port.default})`,
    )
    .option('--demo', 'add the demo flags to project "demo" first')
    .addHelpText(
      'after',
      `\nEnvironment variables (a bad value stops start-up with a message naming it):\n${configHelpText()}`,
    )
    .action(async (opts: { port?: string; demo?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const env = { ...process.env };
      if (opts.port !== undefined) env[SERVICE_VARIABLES.port.name] = opts.port;
      if (globals.store !== undefined) env[SERVICE_VARIABLES.store.name] = globals.store;
      await serveUntilSignalled(loadConfig(env), { demo: opts.demo === true });
    });

  program
    .command('demo')
    .description('add a few demo flags to project "demo" (once) and list them')
    .action(async (_opts: unknown, command: Command) => {
      const views = await withStore(
        command,
        async (admin) => {
          await seedDemo(admin);
          return admin.listFlags('demo', { withRevision: true });
        },
        'create',
      );
      print(command, views, (v) => formatFlags(v, true));
    });

  addImportCommand(program, { withStore, print });

  return program;
}

/** Commander's accumulator for a repeatable option. */
function collect(value: string, all: string[]): string[] {
  return [...all, value];
}

/** The options that give a revision (add-revision, schedule add): what revisionInput reads. */
function withRevisionOptions(command: Command): Command {
  return command
    .option(
      '-c, --control <value>',
      'value for everybody the treatments and rules do not reach (true/false, a string, a number, JSON, or a --variant name)',
    )
    .option('--control-default', 'no control value: callers get their own default (ControlValue null)')
    .option(
      '--treatment <spec>',
      'PERCENT:VALUE, repeatable, in order (e.g. 25:gpt-4o; a feature flag takes ids to pin: 40:true:A1,A2); or a JSON/Python dict, for a data treatment with ids or a value holding a colon',
      (spec: string, all: string[]) => [...all, spec],
      [] as string[],
    )
    .option('--variant <name=value>', 'name a value, repeatable (on=true, greeting=hello)', collect, [] as string[])
    .option('--rule <rule>', 'a targeting rule, repeatable, in order (see Rules below)', collect, [] as string[])
    .option('--rules-json <file|json>', 'the rules in full, as a JSON list (a file, or the JSON itself)')
    .option(
      '--metadata <key=value>',
      'set a metadata key (owner, ticket, expires=YYYY-MM-DD, …), repeatable; key= removes it. Metadata in force is kept otherwise',
      collect,
      [] as string[],
    )
    .option('--disabled', 'write the revision disabled (kill switch on): it answers its control value')
    .option('--comment <text>', 'why this change')
    .option('--owner <id>', 'who made it (OwnerID)')
    .addOption(new Option('--hash <algorithm>', 'hash for percentage rollout (default md5)'))
    .option('--salt <salt>', 'hash salt (default: the flag name)')
    .option('--no-salt', "hash the bare instance id, as the runbook system's own revisions did")
    .option('-f, --file <path>', 'take the revision from a JSON or Python-dict file (options above override it)')
    .addHelpText('after', RULE_SYNTAX_HELP);
}

export interface RevisionOptions extends FlagOptions {
  expectedLatest?: string;
  control?: string;
  controlDefault?: boolean;
  treatment: string[];
  variant: string[];
  rule: string[];
  rulesJson?: string;
  metadata: string[];
  disabled?: boolean;
  comment?: string;
  owner?: string;
  hash?: string;
  salt?: string | boolean;
  file?: string;
}

async function revisionInput(
  ref: FlagRef,
  opts: RevisionOptions,
  metadataInForce: Revision['Metadata'] | undefined,
): Promise<RevisionInput> {
  const flagType = ref.flagType as ValueFlagType;
  let base: Record<string, unknown> = {};
  if (opts.file !== undefined) {
    const parsed = parseStructured(await readText(opts.file), 'file');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidInputError(`${opts.file} must hold one revision as a dict / JSON object`, { field: 'file' });
    }
    base = parsed;
  } else if (opts.control === undefined && opts.controlDefault !== true) {
    throw new InvalidInputError('--control is required (or --control-default, or the whole revision with --file)', {
      field: 'ControlValue',
    });
  }
  if (opts.control !== undefined && opts.controlDefault === true) {
    throw new InvalidInputError('give --control or --control-default, not both', { field: 'ControlValue' });
  }
  const input: RevisionInput = { ...(base as Partial<RevisionInput>), ControlValue: base.ControlValue };

  const variants: Record<string, unknown> =
    typeof base.Variants === 'object' && base.Variants !== null ? { ...(base.Variants as object) } : {};
  for (const [i, item] of opts.variant.entries()) {
    const [variant, text] = parseAssignment(item, `--variant[${i}]`, 'on=true');
    variants[variant] = parseFlagValue(text, flagType, `Variants.${variant}`);
  }
  if (opts.variant.length > 0) input.Variants = variants;

  if (opts.control !== undefined) input.ControlValue = controlValue(opts.control, flagType, variants);
  if (opts.controlDefault === true) input.ControlValue = null;
  if (opts.treatment.length > 0 || opts.file === undefined) {
    input.Treatments = opts.treatment.map((spec, i) => parseTreatmentSpec(spec, ref.flagType, i));
  }
  if (opts.rule.length > 0 && opts.rulesJson !== undefined) {
    throw new InvalidInputError('give the rules with --rule or with --rules-json, not both', { field: 'Rules' });
  }
  if (opts.rule.length > 0) input.Rules = opts.rule.map((rule, i) => parseRule(rule, flagType, variants, i));
  if (opts.rulesJson !== undefined) input.Rules = await structuredArgument(opts.rulesJson, 'Rules');
  if (opts.metadata.length === 0 && base.Metadata === undefined && isMetadata(metadataInForce)) {
    input.Metadata = metadataInForce;
  }
  if (opts.metadata.length > 0) {
    const metadata: Record<string, unknown> = isMetadata(base.Metadata)
      ? { ...base.Metadata }
      : { ...(isMetadata(metadataInForce) ? metadataInForce : {}) };
    for (const item of opts.metadata) {
      const [key, value] = parseAssignment(item, 'Metadata', 'owner=team-checkout');
      if (value === '') delete metadata[key];
      else metadata[key] = value;
    }
    input.Metadata = Object.keys(metadata).length === 0 ? null : metadata;
  }
  if (opts.disabled === true) input.Disabled = true;
  if (opts.comment !== undefined) input.Comment = opts.comment;
  if (opts.owner !== undefined) input.OwnerID = opts.owner;
  if (opts.hash !== undefined) input.HashAlgorithm = opts.hash;
  if (opts.salt === false) input.Salt = null;
  else if (typeof opts.salt === 'string') input.Salt = opts.salt;
  return input;
}

function isMetadata(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `-c`: a value of the flag's type as before (a data flag's text as it is); a variant's
 * name where the text is not already one of the variants' values.
 */
function controlValue(text: string, flagType: ValueFlagType, variants: Record<string, unknown>): unknown {
  const values = Object.values(variants).map((value) => JSON.stringify(value));
  let literal: unknown;
  try {
    literal = parseFlagValue(text, flagType, 'ControlValue');
  } catch (error) {
    if (Object.hasOwn(variants, text)) return variants[text];
    throw error;
  }
  if (values.length === 0 || values.includes(JSON.stringify(literal)) || !Object.hasOwn(variants, text)) return literal;
  return outcomeValue(text, flagType, variants, 'ControlValue');
}

/** An option that takes JSON itself (starting with `[` or `{`) or a file holding it (JSON or a Python literal). */
async function structuredArgument(text: string, field: string): Promise<unknown> {
  const trimmed = text.trim();
  const source = trimmed.startsWith('[') || trimmed.startsWith('{') ? trimmed : await readText(text);
  return parseStructured(source, field);
}

/** `vexil eval`'s context: --context, then -i as the targeting key, then each --attr. */
async function contextOf(opts: { instanceId?: string; attr: string[]; context?: string }): Promise<unknown> {
  let context: Record<string, unknown> = {};
  if (opts.context !== undefined) {
    const parsed = await structuredArgument(opts.context, 'context');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidInputError('--context must be a JSON object of attributes', { field: 'context' });
    }
    context = { ...(parsed as Record<string, unknown>) };
  }
  if (opts.instanceId !== undefined) context.targetingKey = opts.instanceId;
  for (const item of opts.attr) {
    const [key, value] = parseAttribute(item);
    context[key] = value;
  }
  return context;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(`cannot read ${file}: ${reason}`, { field: 'file' });
  }
}

function requireProject(project: string | undefined): string {
  if (project === undefined) {
    throw new InvalidInputError('a project is required: pass -p/--project or set VEXIL_PROJECT', {
      field: 'project_name',
    });
  }
  assertProjectName(project);
  return project;
}

function requireRef(name: string, opts: FlagOptions, typeRequired: boolean): FlagRef {
  const project = requireProject(opts.project);
  assertFlagName(name);
  if (opts.type === undefined && typeRequired) {
    throw new InvalidInputError(`-t/--type is required: ${describeFlagTypes(VALUE_FLAG_TYPES)}`, {
      field: 'flag_type',
    });
  }
  return flagRef(project, opts.type ?? 'feature', name);
}

/** Without `-t`, the flag's type is looked up, so `vexil latest my_flag -p proj` just works. */
async function resolveRef(admin: FlagAdmin, name: string, opts: FlagOptions): Promise<FlagRef> {
  if (opts.type !== undefined) return requireRef(name, opts, true);
  const project = requireProject(opts.project);
  assertFlagName(name);
  const found: FlagRef[] = [];
  for (const flagType of VALUE_FLAG_TYPES) {
    const ref = { project, flagType, name };
    if (await admin.store.latest('FLAG', ref)) found.push(ref);
  }
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    await admin.requireProject(project);
    const segment = await admin.store.latest('FLAG', { project, flagType: 'segment', name });
    throw new EmptyFlagDataException(
      `flag ${project}/${name} does not exist; ${segment ? `${name} is a segment (see vexil segment show ${name} -p ${project})` : 'add it first with vexil add-flag'}`,
      { field: 'flag_name' },
    );
  }
  if (found.length === 2 && found[0]!.flagType === 'feature' && found[1]!.flagType === 'data') {
    throw new InvalidInputError(`project ${project} has both a feature and a data flag named ${name}: pass -t`, {
      field: 'flag_type',
    });
  }
  throw new InvalidInputError(
    `project ${project} has flags of several types named ${name} (${found.map((ref) => ref.flagType).join(', ')}): pass -t`,
    { field: 'flag_type' },
  );
}
