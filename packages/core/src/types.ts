/**
 * A flag's type, as in row keys and the API: `feature` flags hold booleans, `data`
 * flags strings, `number` flags finite numbers, `json` flags JSON objects or arrays;
 * a `segment` is not a flag but is stored and versioned like one (docs/flag-model.md).
 */
export type FlagType = 'feature' | 'data' | 'number' | 'json' | 'segment';
/** The flag types that have values and are evaluated. */
export type ValueFlagType = Exclude<FlagType, 'segment'>;
/** The upper-case form stored in a row's `Type` column. */
export type StoredFlagType = 'FEATURE' | 'DATA' | 'NUMBER' | 'JSON' | 'SEGMENT';
export type HashAlgorithm = 'md5' | 'sha1' | 'sha256';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** A value a flag can hold: a boolean, a string, a finite number, or a JSON object or array. */
export type FlagValue = boolean | string | number | JsonObject | JsonValue[];
/** A value a revision can give: a flag value, or `null` ("no value: use the caller's default"). */
export type ResultValue = FlagValue | null;

export interface Treatment {
  OverrideList: string[];
  /** Percent of instance ids, 0..100 with at most two decimals. */
  PercentRollout: number;
  Value: ResultValue;
}

/** One condition of a targeting rule or a segment (docs/flag-model.md#rules). */
export interface Condition {
  Attribute: string;
  Operator: string;
  Values: (string | number | boolean)[];
}

/** One bucket of a rule's percentage split. */
export interface SplitBucket {
  /** 0..100 with at most two decimals; a split's buckets add up to exactly 100. */
  Percent: number;
  Value: ResultValue;
}

/** A targeting rule: its conditions, and either a `Value` or a `Split`. */
export interface TargetingRule {
  Conditions: Condition[];
  Value?: ResultValue;
  Split?: SplitBucket[];
}

/** A revision's free key/values (owning team, ticket link, expiry date, …). */
export type RevisionMetadata = Record<string, string | number | boolean>;

/** A FLAG row: the flag's metadata; a newer row replaces the older one. */
export interface FlagMetadata {
  Name: string;
  Type: StoredFlagType;
  Description?: string;
  CreatedTime?: string;
  [extra: string]: unknown;
}

/** A REVISION row: the rules in force from its `CreatedTime` until a newer revision. */
export interface Revision {
  Name: string;
  Type: StoredFlagType;
  FormatVersion: number;
  ControlValue: ResultValue;
  Treatments: Treatment[];
  Comment?: string;
  OwnerID?: string;
  CreatedTime?: string;
  /** Ours: md5 when absent, as in the runbook system. */
  HashAlgorithm?: HashAlgorithm;
  /** Ours: hashed as `Salt:instanceId`; Vexil's own writes set it to the flag name. */
  Salt?: string;
  /** Ours: the WTIME of the revision a rollback republished. */
  RollbackOf?: string;
  /** Ours: an archived flag answers as if it had no data; history stays. */
  Archived?: boolean;
  /** Flag model: names for the revision's values. */
  Variants?: Record<string, FlagValue>;
  /** Flag model: targeting rules, evaluated in order after the override lists. */
  Rules?: TargetingRule[];
  /** Flag model: the kill switch. */
  Disabled?: boolean;
  /** Flag model: free key/values. */
  Metadata?: RevisionMetadata;
  [extra: string]: unknown;
}

/** A REVISION row of a segment: a named audience that rules refer to. */
export interface SegmentRevision {
  Name: string;
  Type: 'SEGMENT';
  FormatVersion: number;
  Included?: string[];
  Excluded?: string[];
  Conditions?: Condition[];
  Comment?: string;
  OwnerID?: string;
  CreatedTime?: string;
  Archived?: boolean;
  [extra: string]: unknown;
}

/**
 * Which step gave the value: `control`, `treatment`, `override` (`-N` with several
 * treatments), `rule-N`, `rule-N-split-M` or `disabled`.
 */
export type RolloutGroup = string;

export interface FlagRef {
  project: string;
  flagType: FlagType;
  name: string;
}

export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['md5', 'sha1', 'sha256'];
