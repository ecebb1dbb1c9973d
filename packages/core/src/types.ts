/** `feature` flags hold booleans, `data` flags hold strings; the lower-case form is the one in row keys and the API. */
export type FlagType = 'feature' | 'data';
/** The upper-case form stored in a row's `Type` column. */
export type StoredFlagType = 'FEATURE' | 'DATA';
export type HashAlgorithm = 'md5' | 'sha1' | 'sha256';
export type FlagValue = boolean | string;

export interface Treatment {
  OverrideList: string[];
  /** Percent of instance ids, 0..100 with at most two decimals. */
  PercentRollout: number;
  Value: FlagValue;
}

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
  ControlValue: FlagValue;
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
  [extra: string]: unknown;
}

/** Which rule gave the value: `control`, `treatment`, `override`, or `treatment-N` / `override-N` with several treatments. */
export type RolloutGroup = string;

export interface EvaluationResult {
  value: FlagValue;
  group: RolloutGroup;
}

export interface FlagRef {
  project: string;
  flagType: FlagType;
  name: string;
}

export const FLAG_TYPES: readonly FlagType[] = ['feature', 'data'];
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['md5', 'sha1', 'sha256'];

export function storedFlagType(flagType: FlagType): StoredFlagType {
  return flagType === 'feature' ? 'FEATURE' : 'DATA';
}

export function flagTypeOf(stored: StoredFlagType): FlagType {
  return stored === 'FEATURE' ? 'feature' : 'data';
}
