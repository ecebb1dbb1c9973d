import type { FlagRef } from '@vexil/core';
import type { NewRow } from '../src/index.js';

/** A small feature-flag revision row for the engine-specific tests. */
export function revision(ref: FlagRef, comment: string): NewRow {
  return {
    kind: 'REVISION',
    ref,
    fields: {
      Name: ref.name,
      Type: 'FEATURE',
      FormatVersion: 1,
      ControlValue: false,
      Treatments: [],
      Comment: comment,
    },
  };
}

/** A feature flag's metadata row. */
export function flag(ref: FlagRef, description = 'a flag'): NewRow {
  return { kind: 'FLAG', ref, fields: { Name: ref.name, Type: 'FEATURE', Description: description } };
}
