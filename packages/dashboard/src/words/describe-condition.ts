import type { Condition } from '@vexil/core';

/** How each operator reads between the attribute and its values. */
const OPERATOR_WORDS: Record<string, string> = {
  equals: '=',
  not_equals: '≠',
  in: 'in',
  not_in: 'not in',
  starts_with: 'starts with',
  ends_with: 'ends with',
  contains: 'contains',
  lt: '<',
  lte: '≤',
  gt: '>',
  gte: '≥',
  semver_eq: '= version',
  semver_lt: '< version',
  semver_lte: '≤ version',
  semver_gt: '> version',
  semver_gte: '≥ version',
  before: 'before',
  after: 'after',
};

/** Operators whose Values are a list even with one entry: `country in [US]`. */
const LIST_OPERATORS = new Set(['in', 'not_in']);

function formatConditionValue(value: string | number | boolean): string {
  return typeof value === 'string' && value !== '' && !/[,[\]]/.test(value) ? value : JSON.stringify(value);
}

/** One condition in words: `country in [US, CA]`, `plan = pro`, `in segment beta-testers`. */
export function describeCondition(condition: Condition): string {
  const values = Array.isArray(condition.Values) ? condition.Values : [];
  const words = values.map(formatConditionValue);
  if (condition.Operator === 'in_segment' || condition.Operator === 'not_in_segment') {
    const negated = condition.Operator === 'not_in_segment';
    const noun = words.length > 1 ? 'segments' : 'segment';
    return `${negated ? 'not in' : 'in'} ${noun} ${words.join(words.length > 1 && negated ? ' nor ' : ' or ')}`;
  }
  const operator = OPERATOR_WORDS[condition.Operator] ?? condition.Operator;
  const shown = LIST_OPERATORS.has(condition.Operator) ? `[${words.join(', ')}]` : words.join(' or ');
  return `${condition.Attribute} ${operator} ${shown}`;
}

/** All of a rule's conditions in words; a rule without conditions holds for everyone. */
export function describeConditions(conditions: readonly Condition[] | undefined): string {
  if (conditions === undefined || conditions.length === 0) return 'everyone';
  return conditions.map(describeCondition).join(' and ');
}
