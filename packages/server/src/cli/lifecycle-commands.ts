import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { InvalidInputError } from '@vexil/core';
import type { StoreEngine } from '@vexil/store';
import { type Command, Option } from 'commander';
import type { FlagAdmin } from '../flag-admin.js';
import {
  CODEGEN_LANGUAGES,
  type CodegenLanguage,
  codegenFlags,
  generateFlagModule,
} from '../lifecycle/flag-codegen.js';
import { findFlagReferences, type ReferenceReport } from '../lifecycle/flag-references.js';
import { findStaleFlags, STALE_DEFAULT_DAYS, STALE_MAX_DAYS, type StaleFlag } from '../stale-flags.js';

/** What the lifecycle commands share with the rest of the program. */
export interface LifecycleCommandContext {
  withStore: <T>(command: Command, work: (admin: FlagAdmin, store: StoreEngine) => Promise<T>) => Promise<T>;
  print: <T>(command: Command, value: T, human: (value: T) => string) => void;
  requireProject: (project: string | undefined) => string;
  /** Where a command's findings set the exit code (codegen --check: 1 when out of date). */
  outcome: { exitCode: number };
  err: (text: string) => void;
  out: (text: string) => void;
}

function parseDays(text: string): number {
  const days = Number(text);
  if (!/^\d+$/.test(text) || days < 1 || days > STALE_MAX_DAYS) {
    throw new InvalidInputError(
      `--days must be a whole number from 1 to ${STALE_MAX_DAYS}, got ${JSON.stringify(text)}`,
      {
        field: 'days',
      },
    );
  }
  return days;
}

function formatStale(report: { project: string; days: number; flags: StaleFlag[] }): string {
  if (report.flags.length === 0) return `no stale flags in ${report.project} (${report.days} days)`;
  const blocks = report.flags.map((flag) => {
    const owner = flag.owner === undefined ? '' : `  (owner ${flag.owner})`;
    return [
      `${flag.flagType}/${flag.name}${owner}`,
      ...flag.reasons.map((reason) => `  - ${reason}`),
      `  cleanup: ${flag.cleanup.message}`,
    ].join('\n');
  });
  return `${blocks.join('\n\n')}\n\n${report.flags.length} stale flag(s) in ${report.project} (${report.days} days)`;
}

function formatRefs(report: ReferenceReport): string {
  const lines: string[] = [];
  if (report.flags === undefined) {
    const byName = new Map<string, string[]>();
    for (const ref of report.references)
      byName.set(ref.name, [...(byName.get(ref.name) ?? []), `${ref.file}:${ref.line}`]);
    for (const [name, places] of [...byName].sort(([a], [b]) => (a < b ? -1 : 1))) {
      lines.push(name, ...places.map((place) => `  ${place}`));
    }
    if (byName.size === 0) lines.push('no flag references');
  } else {
    for (const flag of report.flags) {
      if (flag.references.length === 0) continue;
      lines.push(`${flag.flagType}/${flag.name}`, ...flag.references.map((ref) => `  ${ref.file}:${ref.line}`));
    }
    if (report.unreferenced!.length > 0) {
      lines.push('', `not referenced (candidates to remove): ${report.unreferenced!.join(', ')}`);
    }
    if (report.unknown!.length > 0) {
      lines.push('', 'not a flag of the project (a typo, or an archived flag):');
      lines.push(...report.unknown!.map((ref) => `  ${ref.name}  ${ref.file}:${ref.line}`));
    }
  }
  lines.push('', `${report.references.length} reference(s) in ${report.files} file(s)`);
  return lines.join('\n').trimStart();
}

/** `vexil stale`, `vexil refs`, `vexil codegen` (docs/lifecycle.md). */
export function registerLifecycleCommands(program: Command, context: LifecycleCommandContext): void {
  const { withStore, print, requireProject, outcome } = context;

  program
    .command('stale')
    .description(
      'list flags that look done: past their expiry date, not evaluated for N days, or serving one value to everybody for N days, with the cleanup to do',
    )
    .addOption(new Option('-p, --project <project>', 'the project').env('VEXIL_PROJECT'))
    .option('--days <n>', `N (default ${STALE_DEFAULT_DAYS})`, parseDays)
    .action(async (opts: { project?: string; days?: number }, command: Command) => {
      const project = requireProject(opts.project);
      const days = opts.days ?? STALE_DEFAULT_DAYS;
      const flags = await withStore(command, async (admin, store) => {
        const found = await findStaleFlags(store, project, { days });
        if (found === undefined) await admin.requireProject(project);
        return found ?? [];
      });
      print(command, { project, days, flags }, formatStale);
    });

  program
    .command('refs')
    .description(
      'find where a codebase names each flag (TypeScript, JavaScript, Python: SDK calls with the name as a string, and generated constants); with -p, also flags nobody references and names that are no flag',
    )
    .argument('<path>', 'a folder (node_modules, .git, dist and virtual environments are skipped) or one file')
    .addOption(new Option('-p, --project <project>', 'compare with the flags of this project').env('VEXIL_PROJECT'))
    .action(async (path: string, opts: { project?: string }, command: Command) => {
      if (!existsSync(path)) {
        throw new InvalidInputError(`${path} does not exist: give the folder of the code to scan`, { field: 'path' });
      }
      const project = opts.project === undefined ? undefined : requireProject(opts.project);
      const flags =
        project === undefined
          ? undefined
          : await withStore(command, async (admin) => {
              await admin.requireProject(project);
              return (await admin.listFlags(project)).map((view) => ({ flagType: view.flagType, name: view.name }));
            });
      print(command, await findFlagReferences(path, flags), formatRefs);
    });

  program
    .command('codegen')
    .description(
      "write a module of the project's flag names, types and defaults (TypeScript const object and types, or a Python Enum), so a misspelt flag is a compile error",
    )
    .addOption(new Option('--lang <lang>', 'ts or py').choices([...CODEGEN_LANGUAGES]).makeOptionMandatory())
    .addOption(new Option('-p, --project <project>', 'the project').env('VEXIL_PROJECT'))
    .option('-o, --out <file>', 'write it to this file (standard output by default)')
    .option('--check', 'write nothing: exit 1 when the file is not what codegen would write')
    .action(
      async (opts: { lang: CodegenLanguage; project?: string; out?: string; check?: boolean }, command: Command) => {
        const project = requireProject(opts.project);
        const update = `vexil codegen --lang ${opts.lang} -p ${project}${opts.out === undefined ? '' : ` -o ${opts.out}`}`;
        const flags = await withStore(command, (admin) => codegenFlags(admin, project));
        const text = generateFlagModule(opts.lang, project, flags, `vexil codegen --lang ${opts.lang} -p ${project}`);
        if (opts.check === true) {
          if (opts.out === undefined) {
            throw new InvalidInputError('--check compares a file: give it with -o/--out', { field: 'out' });
          }
          const current = existsSync(opts.out) ? await readFile(opts.out, 'utf8') : undefined;
          if (current === text) {
            print(
              command,
              { file: opts.out, upToDate: true },
              () => `${opts.out} is up to date (${flags.length} flags)`,
            );
            return;
          }
          outcome.exitCode = 1;
          context.err(
            `${opts.out} is ${current === undefined ? 'missing' : 'out of date'} with the flags of ${project}: run ${update}`,
          );
          return;
        }
        if (opts.out === undefined) {
          context.out(text.replace(/\n$/, ''));
          return;
        }
        await writeFile(opts.out, text);
        print(command, { file: opts.out, flags: flags.length }, () => `wrote ${opts.out} (${flags.length} flags)`);
      },
    );
}
