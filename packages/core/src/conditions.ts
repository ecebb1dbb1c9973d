import { formatValue } from './errors.js';
import type { EvaluationContext, SegmentLookup } from './evaluation-context.js';
import type { FieldChecker } from './field-checker.js';
import { compareInstants, type Instant, instantSeconds, parseInstant } from './instants.js';
import { FLAG_NAME_RULE, isFlagName } from './names.js';
import { compareSemver, parseSemver, type SemanticVersion } from './semver.js';
import type { Condition } from './types.js';

/** Every condition operator (docs/flag-model.md#rules), in the order the docs list them. */
export const CONDITION_OPERATORS = Object.freeze([
  'equals',
  'not_equals',
  'in',
  'not_in',
  'starts_with',
  'ends_with',
  'contains',
  'lt',
  'lte',
  'gt',
  'gte',
  'semver_eq',
  'semver_lt',
  'semver_lte',
  'semver_gt',
  'semver_gte',
  'before',
  'after',
  'in_segment',
  'not_in_segment',
] as const);
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

/** The operators that test segment membership; segments' own conditions may not use them. */
export const SEGMENT_OPERATORS: readonly ConditionOperator[] = Object.freeze(['in_segment', 'not_in_segment']);

/** The attribute that segment operators name: they test the context, not one attribute. */
export const SEGMENT_ATTRIBUTE = 'targetingKey';

export function isConditionOperator(value: unknown): value is ConditionOperator {
  return typeof value === 'string' && (CONDITION_OPERATORS as readonly string[]).includes(value);
}

/** Whether a condition holds for a context; never throws, whatever the context holds. */
export type ConditionTest = (context: EvaluationContext, segments: SegmentLookup | undefined) => boolean;

const CONDITION_FIELDS = ['Attribute', 'Operator', 'Values'] as const;

type Scalar = string | number | boolean;

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** What `Values` must hold for each kind of operator, for messages. */
function valuesShape(operator: ConditionOperator): string {
  switch (operator) {
    case 'equals':
    case 'not_equals':
      return 'one string, number or boolean';
    case 'in':
    case 'not_in':
      return 'one or more strings and/or numbers';
    case 'starts_with':
    case 'ends_with':
    case 'contains':
      return 'one or more strings';
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return 'one finite number';
    case 'semver_eq':
    case 'semver_lt':
    case 'semver_lte':
    case 'semver_gt':
    case 'semver_gte':
      return 'one semantic version, e.g. "2.1.0" or "v1.4.0-beta.2"';
    case 'before':
    case 'after':
      return 'one date: "YYYY-MM-DD" or an RFC 3339 date-time such as "2026-12-01T09:30:00Z"';
    case 'in_segment':
    case 'not_in_segment':
      return 'one or more segment names';
  }
}

/** What one entry of `Values` must be for each kind of operator, for messages. */
function itemShape(operator: ConditionOperator): string {
  switch (operator) {
    case 'equals':
    case 'not_equals':
      return 'a string, a finite number or a boolean';
    case 'in':
    case 'not_in':
      return 'a string or a finite number';
    case 'starts_with':
    case 'ends_with':
    case 'contains':
      return 'a string';
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return 'a finite number';
    case 'semver_eq':
    case 'semver_lt':
    case 'semver_lte':
    case 'semver_gt':
    case 'semver_gte':
      return 'a semantic version, e.g. "2.1.0" or "v1.4.0-beta.2"';
    case 'before':
    case 'after':
      return 'a date: "YYYY-MM-DD" or an RFC 3339 date-time such as "2026-12-01T09:30:00Z"';
    case 'in_segment':
    case 'not_in_segment':
      return `a segment name (${FLAG_NAME_RULE})`;
  }
}

function singleValue(operator: ConditionOperator): boolean {
  const shape = valuesShape(operator);
  return shape.startsWith('one ') && !shape.startsWith('one or more');
}

/** Whether one entry of `Values` fits the operator. */
function valueFits(operator: ConditionOperator, value: unknown): boolean {
  switch (operator) {
    case 'equals':
    case 'not_equals':
      return typeof value === 'string' || typeof value === 'boolean' || isFiniteNumber(value);
    case 'in':
    case 'not_in':
      return typeof value === 'string' || isFiniteNumber(value);
    case 'starts_with':
    case 'ends_with':
    case 'contains':
      return typeof value === 'string';
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return isFiniteNumber(value);
    case 'semver_eq':
    case 'semver_lt':
    case 'semver_lte':
    case 'semver_gt':
    case 'semver_gte':
      return typeof value === 'string' && parseSemver(value) !== undefined;
    case 'before':
    case 'after':
      return typeof value === 'string' && parseInstant(value) !== undefined;
    case 'in_segment':
    case 'not_in_segment':
      return typeof value === 'string' && isFlagName(value);
  }
}

/**
 * Checks one condition at `at` (e.g. `Rules[2].Conditions[0]`); `allowSegments` is false
 * inside a segment (no segment depends on another).
 */
export function parseCondition(raw: unknown, at: string, check: FieldChecker, allowSegments: boolean): Condition {
  const condition = check.object(raw, at, '{Attribute, Operator, Values}');
  check.knownKeys(condition, at, CONDITION_FIELDS);
  const operator = condition.Operator;
  if (!isConditionOperator(operator)) {
    throw check.error(
      `${at}.Operator`,
      `must be one of ${CONDITION_OPERATORS.join(', ')}, got ${formatValue(operator)}`,
    );
  }
  const segmentOperator = SEGMENT_OPERATORS.includes(operator);
  if (segmentOperator && !allowSegments) {
    throw check.error(
      `${at}.Operator`,
      `${formatValue(operator)} cannot be used in a segment: no segment depends on another`,
    );
  }
  const attribute = condition.Attribute;
  if (typeof attribute !== 'string' || attribute.length === 0) {
    throw check.error(
      `${at}.Attribute`,
      `must be the name of a context attribute (a non-empty string), got ${formatValue(attribute)}`,
    );
  }
  if (segmentOperator && attribute !== SEGMENT_ATTRIBUTE) {
    throw check.error(
      `${at}.Attribute`,
      `must be "${SEGMENT_ATTRIBUTE}" for ${operator}, got ${formatValue(attribute)}`,
    );
  }
  const values = condition.Values;
  const shape = valuesShape(operator);
  if (!Array.isArray(values) || values.length === 0 || (singleValue(operator) && values.length !== 1)) {
    throw check.error(`${at}.Values`, `must be a list of ${shape} for ${operator}, got ${formatValue(values)}`);
  }
  values.forEach((value: unknown, i) => {
    if (!valueFits(operator, value)) {
      throw check.error(
        `${at}.Values[${i}]`,
        `must be ${itemShape(operator)} for ${operator}, got ${formatValue(value)}`,
      );
    }
  });
  return { ...condition, Attribute: attribute, Operator: operator, Values: values as Scalar[] };
}

/**
 * A condition's attribute as an operator reads it: semantic versions and dates in
 * attributes are parsed on use, and a population shares few of them (a handful of app
 * versions, signup dates), so each condition keeps its recent parses — a parse
 * allocates, a lookup does not. Bounded: emptied when full, so a stream of distinct
 * texts costs at most one parse each and holds at most RECENT_PARSES of them.
 */
class RecentParses<T> {
  private readonly parsed = new Map<string, T | null>();
  constructor(private readonly parse: (text: string) => T | undefined) {}
  get(text: string): T | undefined {
    const known = this.parsed.get(text);
    if (known !== undefined) return known ?? undefined;
    const parsed = this.parse(text);
    if (this.parsed.size >= RECENT_PARSES) this.parsed.clear();
    this.parsed.set(text, parsed ?? null);
    return parsed;
  }
}
const RECENT_PARSES = 32;

function semverTest(attribute: string, version: SemanticVersion, holds: (order: number) => boolean): ConditionTest {
  const recent = new RecentParses(parseSemver);
  return (context) => {
    const value = context[attribute];
    if (typeof value !== 'string') return false;
    const parsed = recent.get(value);
    return parsed !== undefined && holds(compareSemver(parsed, version));
  };
}

function dateTest(attribute: string, instant: Instant, holds: (order: number) => boolean): ConditionTest {
  const recent = new RecentParses(parseInstant);
  const seconds = instantSeconds(instant);
  return (context) => {
    const value = context[attribute];
    if (typeof value === 'string') {
      const parsed = recent.get(value);
      return parsed !== undefined && holds(compareInstants(parsed, instant));
    }
    // A number attribute is Unix time in seconds.
    if (isFiniteNumber(value)) return holds(value < seconds ? -1 : value > seconds ? 1 : 0);
    return false;
  };
}

function stringTest(
  attribute: string,
  values: readonly string[],
  test: (value: string, probe: string) => boolean,
): ConditionTest {
  if (values.length === 1) {
    const only = values[0] as string;
    return (context) => {
      const value = context[attribute];
      return typeof value === 'string' && test(value, only);
    };
  }
  return (context) => {
    const value = context[attribute];
    if (typeof value !== 'string') return false;
    for (let i = 0; i < values.length; i++) if (test(value, values[i] as string)) return true;
    return false;
  };
}

function segmentTest(names: readonly string[], wantMember: boolean): ConditionTest {
  return (context, segments) => {
    if (segments === undefined) return false;
    let member = false;
    // Every segment must be known: an unknown one makes the condition not hold, for both operators.
    for (let i = 0; i < names.length; i++) {
      const segment = segments(names[i] as string);
      if (segment === undefined) return false;
      if (!member && segment.contains(context)) member = true;
    }
    return member === wantMember;
  };
}

/**
 * Compiles a checked condition into a test: operators are resolved here, once per
 * revision, and `Values` turned into what the test compares against (sets, parsed
 * versions and instants). The tests read the attribute and compare; a missing, `null`
 * or wrongly typed attribute makes every operator, negated or not, not hold.
 */
export function compileCondition(condition: Condition): ConditionTest {
  const attribute = condition.Attribute;
  const operator = condition.Operator as ConditionOperator;
  const values = condition.Values;
  const first = values[0] as Scalar;
  switch (operator) {
    case 'equals':
      // Strict equality never converts types; NaN from a caller equals nothing.
      return (context) => context[attribute] === first;
    case 'not_equals': {
      const type = typeof first;
      return (context) => {
        const value = context[attribute];
        return typeof value === type && value !== first && (type !== 'number' || Number.isFinite(value));
      };
    }
    case 'in':
    case 'not_in': {
      const strings = new Set(values.filter((v): v is string => typeof v === 'string'));
      const numbers = new Set(values.filter((v): v is number => typeof v === 'number'));
      const wantIn = operator === 'in';
      return (context) => {
        const value = context[attribute];
        if (typeof value === 'string') return strings.has(value) === wantIn;
        if (isFiniteNumber(value)) return numbers.has(value) === wantIn;
        return false;
      };
    }
    case 'starts_with':
      return stringTest(attribute, values as string[], (value, probe) => value.startsWith(probe));
    case 'ends_with':
      return stringTest(attribute, values as string[], (value, probe) => value.endsWith(probe));
    case 'contains':
      return stringTest(attribute, values as string[], (value, probe) => value.includes(probe));
    case 'lt':
      return (context) => {
        const value = context[attribute];
        return isFiniteNumber(value) && value < (first as number);
      };
    case 'lte':
      return (context) => {
        const value = context[attribute];
        return isFiniteNumber(value) && value <= (first as number);
      };
    case 'gt':
      return (context) => {
        const value = context[attribute];
        return isFiniteNumber(value) && value > (first as number);
      };
    case 'gte':
      return (context) => {
        const value = context[attribute];
        return isFiniteNumber(value) && value >= (first as number);
      };
    case 'semver_eq':
    case 'semver_lt':
    case 'semver_lte':
    case 'semver_gt':
    case 'semver_gte':
      return semverTest(attribute, parseSemver(first as string) as SemanticVersion, ORDER_TESTS[operator]);
    case 'before':
      return dateTest(attribute, parseInstant(first as string) as Instant, (order) => order < 0);
    case 'after':
      return dateTest(attribute, parseInstant(first as string) as Instant, (order) => order > 0);
    case 'in_segment':
      return segmentTest(values as string[], true);
    case 'not_in_segment':
      return segmentTest(values as string[], false);
  }
}

const ORDER_TESTS: Readonly<
  Record<'semver_eq' | 'semver_lt' | 'semver_lte' | 'semver_gt' | 'semver_gte', (order: number) => boolean>
> = {
  semver_eq: (order) => order === 0,
  semver_lt: (order) => order < 0,
  semver_lte: (order) => order <= 0,
  semver_gt: (order) => order > 0,
  semver_gte: (order) => order >= 0,
};

/** All of `tests` hold (an empty list always holds). */
export function allHold(tests: readonly ConditionTest[]): ConditionTest {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0] as ConditionTest;
  return (context, segments) => {
    for (let i = 0; i < tests.length; i++) if (!(tests[i] as ConditionTest)(context, segments)) return false;
    return true;
  };
}
