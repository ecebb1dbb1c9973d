import { jsonEquals } from './json-equality.js';
import { basisPointsOf } from './percentages.js';
import type { ResultValue, Revision } from './types.js';

/** A rollout group of a revision and the share of instance ids its percentages give it. */
export interface ConfiguredShare {
  /** The group as evaluation names it: control, treatment(-N), override(-N), rule-N, rule-N-split-M, disabled. */
  group: string;
  /**
   * Percent of the ids no override list or rule catches (0–100, two decimals at most);
   * null for a group an id reaches by a list or a rule's conditions, which no percentage sets.
   */
  percentage: number | null;
}

/**
 * The groups a revision answers with (those that can answer at all) and the share its
 * percentages give each, in evaluation order: overrides, rules, treatments, control.
 * A disabled revision answers `disabled` for everybody; an archived one nothing.
 */
export function configuredShares(revision: Revision): ConfiguredShare[] {
  if (revision.Archived === true) return [];
  if (revision.Disabled === true) return [{ group: 'disabled', percentage: 100 }];
  const shares: ConfiguredShare[] = [];
  const numbered = revision.Treatments.length > 1;
  revision.Treatments.forEach((treatment, index) => {
    if (treatment.OverrideList.length > 0) {
      shares.push({ group: `override${numbered ? `-${index + 1}` : ''}`, percentage: null });
    }
  });
  (revision.Rules ?? []).forEach((rule, index) => {
    const position = index + 1;
    if (rule.Split === undefined) shares.push({ group: `rule-${position}`, percentage: null });
    else {
      rule.Split.forEach((bucket, i) => {
        if ((basisPointsOf(bucket.Percent) ?? 0) > 0) {
          shares.push({ group: `rule-${position}-split-${i + 1}`, percentage: null });
        }
      });
    }
  });
  let used = 0;
  revision.Treatments.forEach((treatment, index) => {
    const basisPoints = basisPointsOf(treatment.PercentRollout) ?? 0;
    used += basisPoints;
    if (basisPoints > 0) {
      shares.push({ group: `treatment${numbered ? `-${index + 1}` : ''}`, percentage: basisPoints / 100 });
    }
  });
  if (used < 10_000) shares.push({ group: 'control', percentage: (10_000 - used) / 100 });
  return shares;
}

/**
 * Every value a revision can answer anybody, each once (by content): "one value for
 * everybody" when there is one. A disabled revision answers its ControlValue; an archived
 * one nothing.
 */
export function answerableValues(revision: Revision): ResultValue[] {
  if (revision.Archived === true) return [];
  if (revision.Disabled === true) return [revision.ControlValue];
  const values: ResultValue[] = [];
  const add = (value: ResultValue) => {
    if (!values.some((known) => jsonEquals(known, value))) values.push(value);
  };
  let used = 0;
  for (const treatment of revision.Treatments) {
    const basisPoints = basisPointsOf(treatment.PercentRollout) ?? 0;
    used += basisPoints;
    if (treatment.OverrideList.length > 0 || basisPoints > 0) add(treatment.Value);
  }
  for (const rule of revision.Rules ?? []) {
    if (rule.Split === undefined) add(rule.Value ?? null);
    else for (const bucket of rule.Split) if ((basisPointsOf(bucket.Percent) ?? 0) > 0) add(bucket.Value);
  }
  if (used < 10_000) add(revision.ControlValue);
  return values;
}
