import type { ConditionDraft, RevisionDraft, SegmentDraft } from './revision-draft.js';

/**
 * Where the API's error goes: the API names the field at fault as a path
 * (`Rules[0].Conditions[1].Values[0]`); the message is shown next to the form's input
 * whose path is that field or the longest one containing it, else at the top of the form
 * (`''`).
 */
export function errorOwner(field: string | undefined, inputs: readonly string[]): string {
  if (field === undefined) return '';
  let best = '';
  for (const input of inputs) {
    const holds = field === input || field.startsWith(`${input}.`) || field.startsWith(`${input}[`);
    if (holds && input.length > best.length) best = input;
  }
  return best;
}

function conditionFields(at: string, conditions: readonly ConditionDraft[]): string[] {
  return [
    at,
    ...conditions.flatMap((_, i) => [
      `${at}[${i}]`,
      `${at}[${i}].Attribute`,
      `${at}[${i}].Operator`,
      `${at}[${i}].Values`,
    ]),
  ];
}

/** The field path of every input of a revision form, as the API names them. */
export function revisionFields(draft: RevisionDraft): string[] {
  const fields = ['ControlValue', 'Treatments', 'Rules', 'Variants', 'Metadata', 'Disabled', 'Comment'];
  draft.treatments.forEach((_, i) => {
    fields.push(
      `Treatments[${i}]`,
      `Treatments[${i}].PercentRollout`,
      `Treatments[${i}].Value`,
      `Treatments[${i}].OverrideList`,
    );
  });
  draft.rules.forEach((rule, i) => {
    fields.push(`Rules[${i}]`, `Rules[${i}].Value`, `Rules[${i}].Split`);
    fields.push(...conditionFields(`Rules[${i}].Conditions`, rule.conditions));
    rule.split.forEach((_, j) => {
      fields.push(`Rules[${i}].Split[${j}].Percent`, `Rules[${i}].Split[${j}].Value`);
    });
  });
  for (const v of draft.variants) fields.push(`Variants.${v.name.trim()}`);
  for (const m of draft.metadata) fields.push(`Metadata.${m.key.trim()}`);
  return fields;
}

export function segmentFields(draft: SegmentDraft): string[] {
  return ['Included', 'Excluded', 'Comment', ...conditionFields('Conditions', draft.conditions)];
}
