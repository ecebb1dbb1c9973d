import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatValue } from '@vexil/core';
import { parse, TomlError } from 'smol-toml';
import { FlagConfigError } from './flag-config-error.js';
import { checkFlagConfig, type MerinoFlags } from './flag-definitions.js';

export interface LoadFlagFilesOptions {
  /**
   * The section layered over `[default]`, e.g. `production` for `[production.flags.x]`.
   * Default: the `<envPrefix>_ENV` variable (`MERINO_ENV`), else `development` —
   * Dynaconf's default environment, which Merino's files are read with.
   */
  env?: string | undefined;
  /** Prefix of the variables read: `<prefix>_ENV` and `<prefix>_FLAGS__<name>__<field>`. Default `MERINO`. */
  envPrefix?: string | undefined;
  /** The variables to read. Default `process.env`. */
  environ?: Readonly<Record<string, string | undefined>> | undefined;
}

interface FieldValue {
  value: unknown;
  file: string;
  location: string | undefined;
}

interface FlagFields {
  fields: Map<string, FieldValue>;
  file: string;
  location: string | undefined;
}

type Table = Record<string, unknown>;

/**
 * Reads flags in Merino's layout and checks them, or throws FlagConfigError naming the
 * file, the flag and the field:
 *
 * ```toml
 * [default.flags.new_ui]
 * scheme = 'session'
 * enabled = 0.5
 *
 * [production.flags.new_ui]
 * enabled = 0.1
 * ```
 *
 * `paths` is a file, a directory (its `*.toml` files, `default.toml` first, then by
 * name) or a list of either. Layers, each later one winning field by field: the
 * `[default]` section of every file in order, then the section named by `env`, then
 * `[global]` (as Dynaconf does), then the variables `MERINO_FLAGS__<name>__<field>`
 * (values read as TOML: `0.5`, `1`, `random`), or `MERINO_FLAGS__<name>` holding an
 * inline table (`{ enabled = 0.5, scheme = "random" }`). A section that sets
 * `dynaconf_merge = false` replaces the flags defined before it instead of merging.
 */
export function loadFlagFiles(paths: string | readonly string[], options: LoadFlagFilesOptions = {}): MerinoFlags {
  const environ = options.environ ?? process.env;
  const prefix = options.envPrefix ?? 'MERINO';
  const env = options.env ?? environ[`${prefix}_ENV`] ?? 'development';
  const files = listFiles(typeof paths === 'string' ? [paths] : paths);
  const documents = files.map((file) => ({ file, document: readToml(file) }));

  let flags = new Map<string, FlagFields>();
  const layers = ['default', ...(env.toLowerCase() === 'default' ? [] : [env]), 'global'];
  for (const layer of layers) {
    for (const { file, document } of documents) {
      const sectionName = Object.keys(document).find((key) => key.toLowerCase() === layer.toLowerCase());
      if (sectionName === undefined) continue;
      const section = document[sectionName];
      const sectionAt = `[${sectionName}]`;
      if (!isTable(section)) {
        throw new FlagConfigError({
          file,
          location: sectionAt,
          reason: `must be a table, got ${formatValue(section)}`,
        });
      }
      const merge = section.dynaconf_merge ?? true;
      if (typeof merge !== 'boolean') {
        throw new FlagConfigError({
          file,
          location: sectionAt,
          field: 'dynaconf_merge',
          reason: `must be true or false, got ${formatValue(merge)}`,
        });
      }
      const sectionFlags = section.flags;
      if (sectionFlags === undefined) continue;
      if (!isTable(sectionFlags)) {
        throw new FlagConfigError({
          file,
          location: `[${sectionName}.flags]`,
          reason: `must be a table of flags ([${sectionName}.flags.<name>]), got ${formatValue(sectionFlags)}`,
        });
      }
      if (!merge) flags = new Map();
      for (const [name, definition] of Object.entries(sectionFlags)) {
        const location = `[${sectionName}.flags.${tomlKey(name)}]`;
        if (!isTable(definition)) {
          throw new FlagConfigError({
            file,
            location,
            flag: name,
            reason: `must be a table with "enabled" (a number from 0 to 1) and optionally "scheme", got ${formatValue(definition)}`,
          });
        }
        const entry = flagEntry(flags, name, file, location);
        for (const [field, value] of Object.entries(definition)) entry.fields.set(field, { value, file, location });
      }
    }
  }
  applyVariables(flags, environ, prefix);

  const result: Record<string, MerinoFlags[string]> = Object.create(null);
  for (const [name, entry] of flags) {
    const raw: Record<string, unknown> = Object.create(null);
    for (const [field, { value }] of entry.fields) raw[field] = value;
    const checked = checkFlagConfig(name, raw, (field) => {
      const from = field === undefined ? undefined : entry.fields.get(field);
      return from === undefined
        ? { file: entry.file, location: entry.location }
        : { file: from.file, location: from.location };
    });
    if (checked.kind === 'merino') result[name] = Object.freeze({ enabled: checked.enabled, scheme: checked.scheme });
  }
  return Object.freeze(result);
}

function flagEntry(flags: Map<string, FlagFields>, name: string, file: string, location: string | undefined) {
  let entry = flags.get(name);
  if (entry === undefined) {
    entry = { fields: new Map(), file, location };
    flags.set(name, entry);
  }
  return entry;
}

/** `<prefix>_FLAGS__<name>__<field>=<TOML value>` and `<prefix>_FLAGS__<name>=<inline table>`. */
function applyVariables(
  flags: Map<string, FlagFields>,
  environ: Readonly<Record<string, string | undefined>>,
  prefix: string,
): void {
  const start = `${prefix}_FLAGS__`;
  for (const variable of Object.keys(environ).sort()) {
    if (!variable.startsWith(start)) continue;
    const raw = environ[variable];
    if (raw === undefined) continue;
    const file = `environment variable ${variable}`;
    const parts = variable.slice(start.length).split('__');
    const [written, field] = parts;
    if (written === undefined || written === '' || parts.length > 2 || field === '') {
      throw new FlagConfigError({
        file,
        reason: `name it ${start}<flag>__<field> (e.g. ${start}new_ui__enabled=0.5) or ${start}<flag> with an inline table`,
      });
    }
    const name = resolveFlagName(flags, written);
    const value = tomlValue(raw);
    const entry = flagEntry(flags, name, file, undefined);
    if (field !== undefined) {
      entry.fields.set(field.toLowerCase(), { value, file, location: undefined });
    } else if (isTable(value)) {
      for (const [key, inner] of Object.entries(value))
        entry.fields.set(key, { value: inner, file, location: undefined });
    } else {
      throw new FlagConfigError({
        file,
        flag: name,
        reason: `must hold an inline table such as { enabled = 0.5, scheme = "session" }, got ${formatValue(value)}`,
      });
    }
  }
}

/** The flag a variable names: an exact match, else the one flag equal ignoring case, else the name in lower case. */
function resolveFlagName(flags: Map<string, FlagFields>, written: string): string {
  if (flags.has(written)) return written;
  const lower = written.toLowerCase();
  const matches = [...flags.keys()].filter((name) => name.toLowerCase() === lower);
  return matches.length === 1 ? (matches[0] as string) : lower;
}

/** A variable's value as Dynaconf reads it: a TOML value when it parses as one, else the string itself. */
function tomlValue(raw: string): unknown {
  try {
    return parse(`value = ${raw}`).value;
  } catch {
    return raw;
  }
}

function listFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (error) {
      throw unreadable(path, error);
    }
    if (!isDirectory) {
      files.push(path);
      continue;
    }
    const names = readdirSync(path)
      .filter((name) => name.toLowerCase().endsWith('.toml'))
      .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    if (names.length === 0) {
      throw new FlagConfigError({ file: path, reason: 'holds no .toml flag files' });
    }
    for (const name of names) files.push(join(path, name));
  }
  return files;
}

const rank = (name: string): number => (name.toLowerCase() === 'default.toml' ? 0 : 1);

function readToml(file: string): Table {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadable(file, error);
  }
  try {
    return parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const [headline] = error.message.split('\n');
      throw new FlagConfigError({
        file,
        location: `line ${error.line}, column ${error.column}`,
        reason: `${headline ?? 'invalid TOML'}\n${error.codeblock.trimEnd()}`,
        cause: error,
      });
    }
    throw error;
  }
}

function unreadable(file: string, error: unknown): FlagConfigError {
  const detail = error instanceof Error ? error.message : String(error);
  return new FlagConfigError({ file, reason: `cannot read the flag file: ${detail}`, cause: error });
}

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** A flag name as it would be written in a TOML header. */
function tomlKey(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name);
}
