import { type CompiledRevision, compileRevision, formatValue, isVexilError, type Revision } from '@vexil/core';
import { MERINO_SCHEMES, type MerinoScheme } from '@vexil/core/merino';
import { FlagConfigError } from './flag-config-error.js';

/** A flag in Merino's format: `[default.flags.<name>]` with `enabled` and `scheme`. */
export interface MerinoFlagConfig {
  /** The share of checks that are on, from 0 to 1 (inclusive). */
  readonly enabled: number;
  /** `session` (bucket on the request's sid; the default, as in Merino) or `random` (a new draw per check). */
  readonly scheme?: MerinoScheme | undefined;
}

/** A flag answered by a Vexil revision (see `flagsFromSnapshot`): the session id is the instance id. */
export interface RevisionFlagConfig {
  readonly revision: Revision;
}

export type FlagConfig = MerinoFlagConfig | RevisionFlagConfig;

/** Flag name → definition: what `FeatureFlags`, the middleware and `loadFlagFiles` deal in. */
export type FlagConfigs = Readonly<Record<string, FlagConfig>>;

/** What `loadFlagFiles` returns: every flag with its scheme filled in. */
export type MerinoFlags = Readonly<Record<string, Readonly<{ enabled: number; scheme: MerinoScheme }>>>;

/** @internal A checked definition, ready for `isEnabled`. */
export type CheckedFlagConfig =
  | { readonly kind: 'merino'; readonly enabled: number; readonly scheme: MerinoScheme }
  | { readonly kind: 'revision'; readonly compiled: CompiledRevision };

/** @internal */
export type FlagTable = ReadonlyMap<string, CheckedFlagConfig>;

/** Names where a field's value came from, for messages: the flag's own source when `field` is undefined. */
export type SourceOf = (field: string | undefined) => { file: string; location?: string | undefined };

const MERINO_FIELDS: ReadonlySet<string> = new Set(['enabled', 'scheme']);
const ENABLED_RULE = 'must be a number from 0 to 1 (0 is off for everyone, 1 on for everyone, 0.25 a quarter)';

/**
 * Checks one flag definition by Merino's rules: `enabled` a number in [0, 1] (an
 * integer 0 or 1 is fine), `scheme` 'random' or 'session' (default 'session'), no
 * other fields. Throws FlagConfigError naming the file, flag and field.
 */
export function checkFlagConfig(name: string, value: unknown, sourceOf: SourceOf): CheckedFlagConfig {
  const fail = (field: string | undefined, reason: string, cause?: unknown): never => {
    throw new FlagConfigError({ ...sourceOf(field), flag: name, field, reason, cause });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(
      undefined,
      `must be a table with "enabled" (a number from 0 to 1) and optionally "scheme", got ${formatValue(value)}`,
    );
  }
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, 'revision')) {
    for (const key of Object.keys(record)) {
      if (key !== 'revision') fail(key, 'is not allowed beside "revision"');
    }
    try {
      return { kind: 'revision', compiled: compileRevision(record.revision) };
    } catch (error) {
      const inner = isVexilError(error) && error.field !== undefined ? `revision.${error.field}` : 'revision';
      return fail(inner, error instanceof Error ? error.message : String(error), error);
    }
  }
  for (const key of Object.keys(record)) {
    if (!MERINO_FIELDS.has(key)) {
      fail(key, 'is not a flag field: a flag has "enabled" (a number from 0 to 1) and "scheme" (random or session)');
    }
  }
  const enabled = record.enabled;
  if (enabled === undefined) fail('enabled', `is required: it ${ENABLED_RULE}`);
  if (typeof enabled !== 'number' || !(enabled >= 0 && enabled <= 1)) {
    fail('enabled', `${ENABLED_RULE}, got ${formatValue(enabled)}${typeof enabled === 'string' ? ' (a string)' : ''}`);
  }
  const scheme = record.scheme ?? 'session';
  if (!MERINO_SCHEMES.includes(scheme as MerinoScheme)) {
    fail('scheme', `must be "random" or "session", got ${formatValue(scheme)}`);
  }
  return { kind: 'merino', enabled: enabled as number, scheme: scheme as MerinoScheme };
}

const tables = new WeakMap<object, FlagTable>();

/**
 * Checks every definition once per flags object (remembered, so building a
 * FeatureFlags per request costs a lookup). Throws FlagConfigError.
 */
export function compileFlags(flags: FlagConfigs | undefined, file = 'FeatureFlags flags'): FlagTable {
  if (flags === undefined) return EMPTY_TABLE;
  if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) {
    throw new FlagConfigError({
      file,
      reason: `flags must be an object of flag name → definition, got ${formatValue(flags)}`,
    });
  }
  let table = tables.get(flags);
  if (table === undefined) {
    const map = new Map<string, CheckedFlagConfig>();
    for (const name of Object.keys(flags)) {
      map.set(
        name,
        checkFlagConfig(name, flags[name], () => ({ file })),
      );
    }
    table = map;
    tables.set(flags, table);
  }
  return table;
}

const EMPTY_TABLE: FlagTable = new Map();
