import type { Revision, TargetingRule } from '@vexil/core';
import { describeConditions } from './describe-condition.js';
import { formatPercent, formatValue, plural } from './format-value.js';

/**
 * A revision's rules in words, one line: "1 override → true, country in [US, CA] → on,
 * 40 % → true, otherwise false". The parts come in the order evaluation tries them
 * (overrides, rules, percentages, the control value; docs/flag-model.md#evaluation),
 * so the line says who gets what even where a rule and a percentage both match. Values
 * show as their variant name when the revision names them.
 */
export function describeRevision(revision: Revision): string {
  const variants = revision.Variants;
  const value = (v: unknown) => formatValue(v, variants);
  if (revision.Archived === true) return 'archived: no value for anyone';
  if (revision.Disabled === true) return `disabled (kill switch): everyone gets ${value(revision.ControlValue)}`;

  const treatments = Array.isArray(revision.Treatments) ? revision.Treatments : [];
  const rules = Array.isArray(revision.Rules) ? revision.Rules : [];
  const parts: string[] = [];

  const overrides = treatments.filter((t) => Array.isArray(t.OverrideList) && t.OverrideList.length > 0);
  const overrideValues = new Set(overrides.map((t) => JSON.stringify(t.Value)));
  if (overrides.length > 0) {
    const count = overrides.reduce((sum, t) => sum + t.OverrideList.length, 0);
    if (overrideValues.size === 1) parts.push(`${plural(count, 'override')} → ${value(overrides[0]!.Value)}`);
    else for (const t of overrides) parts.push(`${plural(t.OverrideList.length, 'override')} → ${value(t.Value)}`);
  }

  for (const rule of rules) {
    parts.push(describeRule(rule, value));
    // A rule without conditions holds for everyone: nothing after it is ever reached.
    if ((rule.Conditions ?? []).length === 0) return parts.join(', ');
  }

  for (const t of treatments) {
    if (typeof t.PercentRollout === 'number' && t.PercentRollout > 0) {
      parts.push(`${formatPercent(t.PercentRollout)} → ${value(t.Value)}`);
    }
  }

  const control = value(revision.ControlValue);
  if (parts.length === 0) return `everyone: ${control}`;
  parts.push(`otherwise ${control}`);
  return parts.join(', ');
}

/** One rule in words: `country in [US, CA] → true`, `plan = pro → 50 % a / 50 % b`. */
export function describeRule(rule: TargetingRule, value: (v: unknown) => string = (v) => formatValue(v)): string {
  const who = describeConditions(rule.Conditions);
  if (Array.isArray(rule.Split)) {
    const buckets = rule.Split.filter((b) => b.Percent > 0).map((b) => `${formatPercent(b.Percent)} ${value(b.Value)}`);
    return `${who} → ${buckets.join(' / ')}`;
  }
  return `${who} → ${value(rule.Value)}`;
}
