import type { StoreEngine } from '@vexil/store';
import { type Command, Option } from 'commander';
import { type EvaluationLogRow, LOG_VIEW_DEFAULT_LIMIT, readLogView } from '../evaluation-log-view.js';
import type { FlagAdmin } from '../flag-admin.js';
import { parseLimit } from './arguments.js';

/** What `vexil`'s program lends a command: its store opener and its printer. */
export interface LogCommandHost {
  withStore<T>(command: Command, work: (admin: FlagAdmin, store: StoreEngine) => Promise<T>): Promise<T>;
  print<T>(command: Command, value: T, human: (value: T) => string): void;
  requireProject(project: string | undefined): string;
}

/** `vexil log -p PROJECT [FLAG] [-t TYPE] [-n LIMIT]`: the evaluation log, each row served or reported. */
export function addLogCommand(program: Command, host: LogCommandHost): void {
  program
    .command('log')
    .description(
      "show a project's evaluation log (who was answered what, when), each row served by the service or reported by a client",
    )
    .argument('[flag]', 'only this flag (needs --type)')
    .addOption(new Option('-p, --project <project>', 'the project').env('VEXIL_PROJECT'))
    .option('-t, --type <type>', 'only this flag type')
    .option('-n, --limit <n>', `at most this many rows (default ${LOG_VIEW_DEFAULT_LIMIT})`, parseLimit)
    .action(
      async (flag: string | undefined, opts: { project?: string; type?: string; limit?: number }, command: Command) => {
        const project = host.requireProject(opts.project);
        const rows = await host.withStore(command, (_admin, store) =>
          readLogView(store, { project, flagType: opts.type, flagName: flag, limit: opts.limit }),
        );
        host.print(command, rows, formatLog);
      },
    );
}

function formatLog(rows: readonly EvaluationLogRow[]): string {
  if (rows.length === 0) return '(no evaluations logged)';
  return rows
    .map((row) =>
      [
        row.time,
        row.source.padEnd(8),
        `${row.flagType}/${row.flagName}`,
        row.instanceId === '' ? '(no id)' : row.instanceId,
        JSON.stringify(row.value),
        row.group,
        row.requestId,
      ].join('  '),
    )
    .join('\n');
}
