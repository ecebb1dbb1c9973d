import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PY_ENUM, pythonMemberName, TS_CONSTANT } from './flag-codegen.js';

/**
 * `vexil refs`: where a codebase names its flags. A scan, not a parse: the calls our
 * SDKs expose are recognised by name with a string literal as their first argument
 * (or `flag_name=`), and the generated constants by `VexilFlags.key` / `Flag.MEMBER`.
 * No parser dependency: three languages' parsers (TypeScript's compiler, a Python
 * parser) would weigh more than the feature, and what is looked for is lexical — a
 * name and a quoted string. What it cannot see: a flag name built at run time, or
 * passed through a variable.
 */

/** The calls that take a flag name first: @vexil/sdk, @vexil/web (useFlag), OpenFeature, vexil_client (Python). */
export const FLAG_CALLS = [
  'getFlagBoolean',
  'getFlagString',
  'getFlagNumber',
  'getFlagJson',
  'getFlagDetails',
  'getFlagBooleanDetails',
  'getFlagStringDetails',
  'getFlagNumberDetails',
  'getFlagJsonDetails',
  'isEnabled',
  'useFlag',
  'getBooleanValue',
  'getStringValue',
  'getNumberValue',
  'getObjectValue',
  'getBooleanDetails',
  'getStringDetails',
  'getNumberDetails',
  'getObjectDetails',
  'get_flag_boolean',
  'get_flag_string',
  'get_flag_number',
  'get_flag_json',
  'get_boolean_value',
  'get_string_value',
  'get_integer_value',
  'get_float_value',
  'get_object_value',
  'get_boolean_details',
  'get_string_details',
  'get_object_details',
] as const;

const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs', '.py'];
/** Folders never read: dependencies, builds, version control, Python virtual environments and caches. */
const SKIPPED = new Set([
  'node_modules',
  '.git',
  'dist',
  'build',
  'coverage',
  '.venv',
  'venv',
  '__pycache__',
  'site-packages',
  '.tox',
  '.mypy_cache',
  '.pytest_cache',
]);
/** Files larger than this are generated or minified, not code people keep flags in. */
const MAX_FILE_BYTES = 2 * 1024 * 1024;

export interface FlagReference {
  /** The flag name as written (a constant resolved to the name when the project's flags are known). */
  name: string;
  /** Relative to the folder scanned, with `/`. */
  file: string;
  line: number;
  /** `call`: an SDK call with the name as a string; `constant`: a generated constant (`VexilFlags.x`, `Flag.X`). */
  via: 'call' | 'constant';
  /** The line, trimmed, at most 200 characters. */
  text: string;
}

export interface ReferenceReport {
  root: string;
  files: number;
  references: FlagReference[];
  /** With the project's flags: each flag's references (flags by type then name). */
  flags?: { flagType: string; name: string; references: { file: string; line: number }[] }[];
  /** With the project's flags: flags no file names (candidates for removal). */
  unreferenced?: string[];
  /** With the project's flags: names the code uses that are no flag of the project (typos, or flags archived). */
  unknown?: { name: string; file: string; line: number }[];
}

const quote = `(['"\`])`;
const callPattern = new RegExp(
  `\\b(?:${FLAG_CALLS.join('|')})\\s*(?:<[^>()]*>)?\\s*\\(\\s*(?:flag_name\\s*=\\s*|key\\s*=\\s*)?${quote}([a-z0-9_][a-z0-9_.-]*)\\1`,
  'g',
);
const keywordPattern = new RegExp(`\\bflag_name\\s*=\\s*${quote}([a-z0-9_][a-z0-9_.-]*)\\1`, 'g');
const tsConstantPattern = new RegExp(
  `\\b${TS_CONSTANT}(?:\\.([A-Za-z_$][\\w$]*)|\\[\\s*${quote}([^'"\`]+)\\3\\s*\\])`,
  'g',
);
const pyConstantPattern = new RegExp(`\\b${PY_ENUM}\\.([A-Z0-9_]+)\\b`, 'g');

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function lineOf(starts: number[], index: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= index) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

/** The references of one file's text; `members` maps a Python member or TS key back to its flag name. */
export function scanText(
  text: string,
  file: string,
  python: boolean,
  members: ReadonlyMap<string, string> = new Map(),
): FlagReference[] {
  const starts = lineStarts(text);
  const found = new Map<string, FlagReference>();
  const add = (name: string, index: number, via: FlagReference['via']) => {
    const line = lineOf(starts, index);
    const start = starts[line - 1]!;
    const end = text.indexOf('\n', start);
    const source = text
      .slice(start, end < 0 ? undefined : end)
      .trim()
      .slice(0, 200);
    found.set(`${line}#${name}`, { name, file, line, via, text: source });
  };
  for (const match of text.matchAll(callPattern)) add(match[2]!, match.index, 'call');
  if (python) for (const match of text.matchAll(keywordPattern)) add(match[2]!, match.index, 'call');
  if (python) {
    for (const match of text.matchAll(pyConstantPattern)) {
      const member = match[1]!;
      add(members.get(`py:${member}`) ?? member.toLowerCase(), match.index, 'constant');
    }
  } else {
    for (const match of text.matchAll(tsConstantPattern)) {
      const key = match[1] ?? match[4]!;
      add(members.get(`ts:${key}`) ?? key, match.index, 'constant');
    }
  }
  return [...found.values()].sort((a, b) => a.line - b.line || (a.name < b.name ? -1 : 1));
}

async function* codeFiles(root: string, dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (SKIPPED.has(entry.name)) continue;
      // A virtual environment by any name: it has a pyvenv.cfg.
      if ((await stat(join(path, 'pyvenv.cfg')).catch(() => undefined)) !== undefined) continue;
      yield* codeFiles(root, path);
    } else if (entry.isFile() && EXTENSIONS.some((ext) => entry.name.endsWith(ext)) && !entry.name.endsWith('.d.ts')) {
      yield path;
    }
  }
}

export interface ProjectFlag {
  flagType: string;
  name: string;
}

/**
 * Scans `root` (a folder or one file). With the project's flags, also says which flags
 * no file names and which names used are not flags.
 */
export async function findFlagReferences(root: string, flags?: readonly ProjectFlag[]): Promise<ReferenceReport> {
  const members = new Map<string, string>();
  if (flags !== undefined) {
    const count = new Map<string, number>();
    for (const flag of flags) count.set(flag.name, (count.get(flag.name) ?? 0) + 1);
    for (const flag of flags) {
      const key = (count.get(flag.name) ?? 0) > 1 ? `${flag.flagType}:${flag.name}` : flag.name;
      members.set(`ts:${key}`, flag.name);
      members.set(`py:${pythonMemberName(key)}`, flag.name);
    }
  }
  const info = await stat(root);
  const files: string[] = [];
  if (info.isDirectory()) for await (const file of codeFiles(root, root)) files.push(file);
  else files.push(root);
  const references: FlagReference[] = [];
  for (const path of files) {
    if ((await stat(path)).size > MAX_FILE_BYTES) continue;
    const text = await readFile(path, 'utf8');
    const name = info.isDirectory() ? relative(root, path).split(sep).join('/') : path;
    references.push(...scanText(text, name, path.endsWith('.py'), members));
  }
  const report: ReferenceReport = { root, files: files.length, references };
  if (flags !== undefined) {
    const known = new Set(flags.map((flag) => flag.name));
    report.flags = flags.map((flag) => ({
      flagType: flag.flagType,
      name: flag.name,
      references: references.filter((r) => r.name === flag.name).map(({ file, line }) => ({ file, line })),
    }));
    report.unreferenced = report.flags.filter((flag) => flag.references.length === 0).map((flag) => flag.name);
    report.unknown = references.filter((r) => !known.has(r.name)).map(({ name, file, line }) => ({ name, file, line }));
  }
  return report;
}
