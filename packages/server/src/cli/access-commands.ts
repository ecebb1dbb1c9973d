import { ACCESS_SCOPES, InvalidInputError } from '@vexil/core';
import type { ProjectSettings, StoreEngine } from '@vexil/store';
import { type Command, Option } from 'commander';
import { type AuditEntry, readAudit } from '../access/audit.js';
import { ProjectAccess } from '../access/project-access.js';
import { issueToken, revokeToken, type TokenView, tokenView } from '../access/tokens.js';
import { ChangeManagement } from '../changes/change-management.js';
import type { FlagAdmin } from '../flag-admin.js';
import { parseLimit } from './arguments.js';
import { callerName } from './caller.js';

/** What the access commands share with the rest of the program. */
export interface AccessCommandContext {
  withStore: <T>(
    command: Command,
    work: (admin: FlagAdmin, store: StoreEngine) => Promise<T>,
    access?: 'read' | 'create',
  ) => Promise<T>;
  print: <T>(command: Command, value: T, human: (value: T) => string) => void;
  collect: (value: string, all: string[]) => string[];
  requireProject: (project: string | undefined) => string;
}

function formatSettings(settings: ProjectSettings): string {
  const approvals = settings.approvals?.required
    ? `approvals required (proposals expire after ${settings.approvals.expiryHours} h)`
    : 'approvals off';
  return `${settings.project}: public evaluation ${settings.publicEvaluation ? 'on' : 'off'}, ${approvals}`;
}

/** `--approval-expiry-hours`: a number; the approvals module checks its range. */
function parseHours(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new InvalidInputError(`--approval-expiry-hours must be a number of hours, got ${JSON.stringify(text)}`, {
      field: 'expiryHours',
    });
  }
  return value;
}

function formatToken(token: TokenView): string {
  const projects = token.projects.length > 0 ? ` on ${token.projects.join(', ')}` : ' on every project';
  const state = token.revokedTime === undefined ? '' : `  REVOKED ${token.revokedTime}`;
  return `${token.id}  ${token.scope}${projects}  owner ${token.owner}  created ${token.createdTime} by ${token.createdBy}${state}`;
}

function formatAudit(entries: AuditEntry[]): string {
  if (entries.length === 0) return 'no changes';
  return entries
    .map((e) => {
      const what = e.name !== undefined ? `${e.project}/${e.flagType}/${e.name}` : (e.subject ?? '');
      const who = [
        e.actor ?? '(unknown)',
        e.onBehalfOf === undefined ? '' : ` on behalf of ${e.onBehalfOf}`,
        e.address === undefined ? '' : ` from ${e.address}`,
        e.tokenId === undefined ? '' : ` (${e.tokenId})`,
      ].join('');
      return `${e.time}  ${e.action.padEnd(12)} ${what}  by ${who}${e.detail === undefined ? '' : `  — ${e.detail}`}`;
    })
    .join('\n');
}

/**
 * `vexil token create|list|revoke`, `vexil project set`, `vexil audit`: on the store
 * directly, like the other commands (whoever can open the store needs no token);
 * recorded as the OS user's.
 */
export function registerAccessCommands(program: Command, context: AccessCommandContext): void {
  const { withStore, print, collect, requireProject } = context;
  const actor = () => ({ owner: callerName() });

  const token = program.command('token').description('API tokens: create, list, revoke');
  token
    .command('create')
    .description('create an API token; its secret is printed this once')
    .addOption(new Option('--scope <scope>', 'read, write or admin').choices([...ACCESS_SCOPES]).makeOptionMandatory())
    .option('-p, --project <project>', 'a project it may use (repeatable; required for read and write)', collect, [])
    .requiredOption('--owner <name>', 'who it belongs to: changes made with it are recorded as theirs')
    .action(async (opts: { scope: string; project: string[]; owner: string }, command: Command) => {
      const issued = await withStore(
        command,
        (_admin, store) =>
          issueToken(store.access, { scope: opts.scope, projects: opts.project, owner: opts.owner }, actor()),
        'create',
      );
      print(
        command,
        issued,
        (v) =>
          `${formatToken(v.token)}\n\n${v.secret}\n\nThe secret is shown this once: send it as Authorization: Bearer <secret>.`,
      );
    });
  token
    .command('list')
    .description('list API tokens (never their secrets)')
    .action(async (_opts: object, command: Command) => {
      const list = await withStore(command, async (_admin, store) => (await store.access.listTokens()).map(tokenView));
      print(command, list, (tokens) => (tokens.length === 0 ? 'no tokens' : tokens.map(formatToken).join('\n')));
    });
  token
    .command('revoke')
    .description('revoke an API token: refused from now on (services drop it within seconds)')
    .argument('<id>', 'the token id, tok_…')
    .action(async (id: string, _opts: object, command: Command) => {
      const view = await withStore(command, (_admin, store) => revokeToken(store.access, id, actor()));
      print(command, view, formatToken);
    });

  const project = program.command('project').description("a project's access settings");
  project
    .command('set')
    .description("change a project's settings: public evaluation, approvals (give one or more)")
    .argument('<project>', 'the project')
    .addOption(
      new Option('--public-evaluation <on|off>', 'on: evaluation needs no token; off: it needs a read token').choices([
        'on',
        'off',
      ]),
    )
    .addOption(
      new Option(
        '--approvals <on|off>',
        'on: revisions, schedules and ramps over the API take effect only once another owner approves them (docs/change-management.md)',
      ).choices(['on', 'off']),
    )
    .option(
      '--approval-expiry-hours <hours>',
      'a proposal not approved within this many hours expires (168 by default)',
    )
    .action(
      async (
        name: string,
        opts: { publicEvaluation?: 'on' | 'off'; approvals?: 'on' | 'off'; approvalExpiryHours?: string },
        command: Command,
      ) => {
        if (opts.publicEvaluation === undefined && opts.approvals === undefined) {
          throw new InvalidInputError(
            opts.approvalExpiryHours === undefined
              ? 'give a setting to change: --public-evaluation on|off or --approvals on|off'
              : '--approval-expiry-hours goes with --approvals on|off',
            { field: opts.approvalExpiryHours === undefined ? 'project_settings' : 'approvals' },
          );
        }
        const expiryHours = opts.approvalExpiryHours === undefined ? undefined : parseHours(opts.approvalExpiryHours);
        const settings = await withStore(command, async (admin, store) => {
          await admin.requireProject(name);
          const projects = new ProjectAccess(store.access, store);
          // Both checked before either is written: bad input changes nothing.
          if (opts.approvals !== undefined) {
            const approvals = new ChangeManagement({ admin, records: store.access, now: Date.now }).approvals;
            const input = { required: opts.approvals === 'on', expiryHours };
            await approvals.checkSettings(name, input);
            if (opts.publicEvaluation !== undefined) await projects.set(name, opts.publicEvaluation === 'on', actor());
            return approvals.setSettings(name, input, actor(), projects);
          }
          return projects.set(name, opts.publicEvaluation === 'on', actor());
        });
        print(command, settings, formatSettings);
      },
    );

  program
    .command('audit')
    .description('who changed what, when and from where (flags, segments, tokens, settings), newest first')
    .addOption(new Option('-p, --project <project>', 'only this project').env('VEXIL_PROJECT'))
    .option('--since <time>', 'ISO 8601 date or time: changes at or after it')
    .option('--limit <n>', 'the newest this many (100 by default)')
    .action(async (opts: { project?: string; since?: string; limit?: string }, command: Command) => {
      if (opts.project !== undefined) requireProject(opts.project);
      const limit = opts.limit === undefined ? undefined : parseLimit(opts.limit);
      const entries = await withStore(command, (_admin, store) =>
        readAudit(store, store.access, { project: opts.project, since: opts.since, limit }),
      );
      print(command, entries, formatAudit);
    });
}
