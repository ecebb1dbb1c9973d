import { InvalidInputError, type Revision, type Treatment } from '@vexil/core';
import type { ScheduledRevisionInput } from './change-records.js';

/**
 * What a ramp's step sets, precisely: the revision in force at the step's time, copied,
 * with its Treatments made exactly one treatment giving the ramp's value to the step's
 * percentage (`Treatments[0].PercentRollout`), that treatment's OverrideList kept.
 * Everything else (ControlValue, Rules, Variants, Metadata, Disabled, Salt) is kept as
 * it is in force then, so a change made during the ramp is not undone by its next step.
 * Rules' own splits are not ramped.
 */
export function rampedRevision(
  inForce: Revision,
  percent: number,
  value: boolean,
  comment: string,
): ScheduledRevisionInput {
  const first = checkRampable(inForce, value, 'the revision in force');
  const treatment: Treatment = {
    ...first,
    OverrideList: first?.OverrideList ?? [],
    PercentRollout: percent,
    Value: value,
  };
  const input: ScheduledRevisionInput = {
    ControlValue: inForce.ControlValue,
    Treatments: [treatment],
    Comment: comment,
    // Absent in the stored row: the bare id is hashed, as the runbook system did.
    Salt: inForce.Salt ?? null,
    FormatVersion: inForce.FormatVersion,
  };
  if (inForce.Variants !== undefined) input.Variants = inForce.Variants;
  if (inForce.Rules !== undefined) input.Rules = inForce.Rules;
  if (inForce.Disabled !== undefined) input.Disabled = inForce.Disabled;
  if (inForce.Metadata !== undefined) input.Metadata = inForce.Metadata;
  if (inForce.HashAlgorithm !== undefined) input.HashAlgorithm = inForce.HashAlgorithm;
  return input;
}

/**
 * A ramp drives one treatment: the revision must have none, or one whose Value is the
 * ramp's value, and its ControlValue must not be that value (nothing would change).
 * Answers that treatment.
 */
export function checkRampable(revision: Revision, value: boolean, what: string): Treatment | undefined {
  if (revision.Archived === true) {
    throw new InvalidInputError(`${what} is archived: roll back to restore the flag before ramping it`, {
      field: 'flag_name',
    });
  }
  if (revision.Treatments.length > 1) {
    throw new InvalidInputError(
      `${what} has ${revision.Treatments.length} treatments; a ramp drives one treatment's PercentRollout: write a revision with one treatment (or none) first`,
      { field: 'Treatments' },
    );
  }
  const [first] = revision.Treatments;
  if (first !== undefined && first.Value !== value) {
    throw new InvalidInputError(
      `${what}'s treatment gives ${JSON.stringify(first.Value)}, but the ramp rolls out ${JSON.stringify(value)}`,
      { field: 'value' },
    );
  }
  if (revision.ControlValue === value) {
    throw new InvalidInputError(
      `${what}'s ControlValue is already ${JSON.stringify(value)}: everybody gets it, there is nothing to ramp`,
      { field: 'value' },
    );
  }
  return first;
}
