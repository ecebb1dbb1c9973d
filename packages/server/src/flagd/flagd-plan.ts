/**
 * What `vexil import flagd` turns a flagd flag-definition file into: Vexil flags and
 * segments (docs/flag-model.md), each as the revision to write, and the notes that
 * tell where Vexil will answer differently from flagd. Nothing here touches a store.
 */

import type { Condition, FlagValue, ResultValue, RevisionMetadata, TargetingRule, ValueFlagType } from '@vexil/core';

/** A flag revision as the import writes it; Name, Type and FormatVersion come with the write. */
export interface ImportedFlagRevision {
  ControlValue: ResultValue;
  Treatments: [];
  Variants: Record<string, FlagValue>;
  Rules?: TargetingRule[];
  Disabled?: true;
  Metadata?: RevisionMetadata;
  Comment: string;
}

export interface ImportedFlag {
  /** The flagd key, which is the Vexil flag name. */
  name: string;
  flagType: ValueFlagType;
  revision: ImportedFlagRevision;
}

/** A segment revision as the import writes it: a flagd `$evaluators` entry that is a condition. */
export interface ImportedSegmentRevision {
  Conditions: Condition[];
  Comment: string;
}

export interface ImportedSegment {
  /** The `$evaluators` name. */
  name: string;
  revision: ImportedSegmentRevision;
}

export interface FlagdImportPlan {
  flags: ImportedFlag[];
  segments: ImportedSegment[];
  /** Where Vexil's answers will differ from flagd's, one line each, for the person importing. */
  notes: string[];
}

/** One construct that cannot be mapped, with where it is: `flag "x": targeting.if[0]: …`. */
export interface FlagdRefusal {
  /** The flag key, or undefined for the file itself (its top level or an unused evaluator). */
  flag: string | undefined;
  /** Where in the flag: `targeting.if[2].in`, `variants`, `$evaluators.is_staff`. */
  path: string;
  message: string;
}

export function describeRefusal(refusal: FlagdRefusal): string {
  const where = refusal.flag === undefined ? '' : `flag ${JSON.stringify(refusal.flag)}: `;
  return `${where}${refusal.path === '' ? '' : `${refusal.path}: `}${refusal.message}`;
}

/** Thrown inside the converter for one unmappable construct; the flag's conversion stops there. */
export class Unmappable extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}
