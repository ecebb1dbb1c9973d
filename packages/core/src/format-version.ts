import { isFlagName } from './names.js';

/** The runbook format's names: lower-case letters, digits and `_` only. */
const RUNBOOK_NAME = /^[a-z0-9_]+$/;

/** The revision fields that only the flag model has. */
export const FLAG_MODEL_FIELDS = Object.freeze(['Variants', 'Rules', 'Disabled', 'Metadata'] as const);

const RUNBOOK_TYPES: readonly unknown[] = ['FEATURE', 'DATA'];

/**
 * The `FormatVersion` a writer sets on a revision (docs/flag-model.md#revision-fields):
 * 2 when it uses anything of the flag model — one of its fields, a new flag type (a
 * segment included), a `null` value, a name with `-` or `.` — and 1 when the runbook
 * format says all of it. Readers never need it: they interpret the fields whatever it says.
 */
export function requiredFormatVersion(revision: Readonly<Record<string, unknown>>): 1 | 2 {
  if (!RUNBOOK_TYPES.includes(revision.Type)) return 2;
  for (const field of FLAG_MODEL_FIELDS) if (revision[field] !== undefined) return 2;
  const name = revision.Name;
  if (typeof name === 'string' && isFlagName(name) && !RUNBOOK_NAME.test(name)) return 2;
  if (revision.ControlValue === null) return 2;
  const treatments = revision.Treatments;
  if (Array.isArray(treatments)) {
    for (const treatment of treatments) {
      if (typeof treatment === 'object' && treatment !== null && (treatment as Record<string, unknown>).Value === null)
        return 2;
    }
  }
  return 1;
}
