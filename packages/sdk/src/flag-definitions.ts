import {
  type CompiledRevision,
  type CompiledSegment,
  compileRevision,
  compileSegment,
  formatValue,
  isVexilError,
  type Revision,
  type SegmentLookup,
} from '@vexil/core';
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
  /** The project's segments (their newest revisions), for rules that name them. */
  readonly segments?: readonly Readonly<Record<string, unknown>>[] | undefined;
}

export type FlagConfig = MerinoFlagConfig | RevisionFlagConfig;

/** Flag name → definition: what `FeatureFlags`, the middleware and `loadFlagFiles` deal in. */
export type FlagConfigs = Readonly<Record<string, FlagConfig>>;

/** What `loadFlagFiles` returns: every flag with its scheme filled in. */
export type MerinoFlags = Readonly<Record<string, Readonly<{ enabled: number; scheme: MerinoScheme }>>>;

/** @internal A checked definition, ready for `isEnabled`. */
export type CheckedFlagConfig =
  | { readonly kind: 'merino'; readonly enabled: number; readonly scheme: MerinoScheme }
  | { readonly kind: 'revision'; readonly compiled: CompiledRevision; readonly segments: SegmentLookup | undefined };

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
      if (key !== 'revision' && key !== 'segments') fail(key, 'is not allowed beside "revision" and "segments"');
    }
    let compiled: CompiledRevision;
    try {
      compiled = compileRevision(record.revision);
    } catch (error) {
      const inner = isVexilError(error) && error.field !== undefined ? `revision.${error.field}` : 'revision';
      return fail(inner, error instanceof Error ? error.message : String(error), error);
    }
    return { kind: 'revision', compiled, segments: segmentsOf(record.segments, fail) };
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

const segmentLookups = new WeakMap<object, SegmentLookup>();

/**
 * The lookup over a flag's `segments` (compiled once per list: flags of one snapshot
 * share theirs). A segment that does not validate is refused, naming it.
 */
function segmentsOf(
  value: unknown,
  fail: (field: string | undefined, reason: string, cause?: unknown) => never,
): SegmentLookup | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return fail('segments', `must be a list of segment revisions, got ${formatValue(value)}`);
  let lookup = segmentLookups.get(value);
  if (lookup === undefined) {
    const segments = new Map<string, CompiledSegment>();
    value.forEach((revision: unknown, i) => {
      try {
        const segment = compileSegment(revision);
        segments.set(segment.name, segment);
      } catch (error) {
        const inner =
          isVexilError(error) && error.field !== undefined ? `segments[${i}].${error.field}` : `segments[${i}]`;
        fail(inner, error instanceof Error ? error.message : String(error), error);
      }
    });
    lookup = (name) => segments.get(name);
    segmentLookups.set(value, lookup);
  }
  return lookup;
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
