import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { assertProjectName, InvalidInputError } from '@vexil/core';
import type { FlagStore } from '@vexil/store';
import { type Command, Option } from 'commander';
import type { FlagAdmin } from '../flag-admin.js';
import { planFlagdImport } from './flagd-definition.js';
import { formatImport, importFlagdPlan } from './flagd-import.js';

/** What `vexil`'s program lends a command: its store opener and its printer. */
export interface ImportCommandHost {
  withStore<T>(
    command: Command,
    work: (admin: FlagAdmin, store: FlagStore) => Promise<T>,
    access?: 'read' | 'create',
  ): Promise<T>;
  print<T>(command: Command, value: T, human: (value: T) => string): void;
}

/** `vexil import flagd FILE -p PROJECT [--dry-run]`. */
export function addImportCommand(program: Command, host: ImportCommandHost): void {
  program
    .command('import')
    .description('import flags from another feature-flag system')
    .command('flagd')
    .description(
      'turn a flagd flag-definition file (JSON) into Vexil flags and segments: all or nothing; what cannot be mapped is refused, naming the flag and the construct',
    )
    .argument('<file>', 'the flagd flag-definition file')
    .addOption(new Option('-p, --project <project>', 'project to import into').env('VEXIL_PROJECT'))
    .option('--dry-run', 'check and show what would be imported; write nothing')
    .action(async (file: string, opts: { project?: string; dryRun?: boolean }, command: Command) => {
      if (opts.project === undefined) {
        throw new InvalidInputError('a project is required: pass -p/--project or set VEXIL_PROJECT', {
          field: 'project_name',
        });
      }
      assertProjectName(opts.project);
      const project = opts.project;
      const source = basename(file);
      const plan = planFlagdImport(parseJson(await readText(file), file), source);
      const outcome = await host.withStore(
        command,
        (admin) => importFlagdPlan(admin, project, plan, { source, dryRun: opts.dryRun === true }),
        opts.dryRun === true ? 'read' : 'create',
      );
      host.print(command, outcome, formatImport);
    });
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      field: 'file',
    });
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`, {
      field: 'file',
      hint: 'flagd flag definitions in YAML: convert the file to JSON first',
    });
  }
}
