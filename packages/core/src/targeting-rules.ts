import { allHold, type ConditionTest, compileCondition, parseCondition, SEGMENT_OPERATORS } from './conditions.js';
import { formatValue } from './errors.js';
import type { FieldChecker } from './field-checker.js';
import { basisPointsOf } from './percentages.js';
import { checkResultValue } from './revision-fields.js';
import type { FlagValue, ResultValue, SplitBucket, TargetingRule, ValueFlagType } from './types.js';
import { checkVariantValue } from './variants.js';

const RULE_FIELDS = ['Conditions', 'Value', 'Split'] as const;
const BUCKET_FIELDS = ['Percent', 'Value'] as const;

/**
 * `Rules`: a list of `{Conditions, Value}` or `{Conditions, Split}`; a split's `Percent`s
 * have at most two decimals and add up to exactly 100. Values are of the flag's type or
 * null, and one of `variants`' values when there are variants.
 */
export function parseRules(
  check: FieldChecker,
  raw: unknown,
  type: ValueFlagType,
  variants: Readonly<Record<string, FlagValue>> | undefined,
): TargetingRule[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const rules = check.list(raw, 'Rules', '{Conditions, Value} or {Conditions, Split}');
  return rules.map((item, index) => {
    const at = `Rules[${index}]`;
    const rule = check.object(item, at, '{Conditions, Value} or {Conditions, Split}');
    check.knownKeys(rule, at, RULE_FIELDS);
    if (!Array.isArray(rule.Conditions)) {
      throw check.error(
        `${at}.Conditions`,
        `must be a list of {Attribute, Operator, Values} (an empty list matches every context), got ${formatValue(rule.Conditions)}`,
      );
    }
    const Conditions = rule.Conditions.map((c: unknown, i) => parseCondition(c, `${at}.Conditions[${i}]`, check, true));
    const hasValue = 'Value' in rule;
    const hasSplit = 'Split' in rule && rule.Split !== undefined;
    if (hasValue === hasSplit) {
      throw check.error(
        at,
        hasValue
          ? 'has both Value and Split: give the value its contexts get, or a percentage Split, not both'
          : 'needs a Value (the value its contexts get) or a Split (a list of {Percent, Value})',
      );
    }
    if (hasValue) {
      const Value = checkResultValue(check, rule.Value, type, `${at}.Value`);
      checkVariantValue(check, variants, Value, `${at}.Value`);
      return { ...rule, Conditions, Value };
    }
    const buckets = check.list(rule.Split, `${at}.Split`, '{Percent, Value} adding up to 100 percent');
    if (buckets.length === 0)
      throw check.error(`${at}.Split`, 'must hold at least one {Percent, Value}, adding up to 100 percent');
    let total = 0;
    const Split: SplitBucket[] = buckets.map((b, i) => {
      const bucketAt = `${at}.Split[${i}]`;
      const bucket = check.object(b, bucketAt, '{Percent, Value}');
      check.knownKeys(bucket, bucketAt, BUCKET_FIELDS);
      const basisPoints = basisPointsOf(bucket.Percent);
      if (basisPoints === undefined) {
        throw check.error(
          `${bucketAt}.Percent`,
          `must be a number in [0, 100] with at most two decimals, got ${formatValue(bucket.Percent)}`,
        );
      }
      total += basisPoints;
      if (!('Value' in bucket))
        throw check.error(`${bucketAt}.Value`, 'is required: the value this part of the split gives');
      const Value = checkResultValue(check, bucket.Value, type, `${bucketAt}.Value`);
      checkVariantValue(check, variants, Value, `${bucketAt}.Value`);
      return { ...bucket, Percent: bucket.Percent as number, Value };
    });
    if (total !== 10_000) {
      throw check.error(`${at}.Split`, `has percentages adding up to ${total / 100}; they must add up to exactly 100`);
    }
    return { ...rule, Conditions, Split };
  });
}

/** The names of the segments that `rules` refer to, each once, in order of first use. */
export function segmentNamesOf(rules: readonly TargetingRule[] | undefined): string[] {
  const names = new Set<string>();
  for (const rule of rules ?? []) {
    for (const condition of rule.Conditions) {
      if ((SEGMENT_OPERATORS as readonly string[]).includes(condition.Operator)) {
        for (const name of condition.Values) names.add(name as string);
      }
    }
  }
  return [...names];
}

/** One bucket of a compiled split: where it ends, in basis points from 0, and what it gives. */
export interface CompiledBucket<R> {
  readonly cumulativeBasisPoints: number;
  readonly result: R;
}

/** A rule ready to evaluate: its conditions as one test, and its result or split buckets. */
export interface CompiledRule<R> {
  readonly test: ConditionTest;
  /** The 1-based position of the rule, for messages. */
  readonly position: number;
  /** A rule with `Value`: its result. */
  readonly result: R | undefined;
  /** A rule with `Split`: the buckets that can be chosen (those above 0 %). */
  readonly buckets: readonly CompiledBucket<R>[] | undefined;
}

/**
 * Compiles checked rules once per revision; `resultOf` turns a value and its group into
 * the (precomputed, shared) result, so evaluating a rule allocates nothing.
 */
export function compileRules<R>(
  rules: readonly TargetingRule[],
  resultOf: (value: ResultValue, group: string, split: boolean) => R,
): CompiledRule<R>[] {
  return rules.map((rule, index) => {
    const position = index + 1;
    const test = allHold(rule.Conditions.map(compileCondition));
    if (rule.Split === undefined) {
      return { test, position, result: resultOf(rule.Value ?? null, `rule-${position}`, false), buckets: undefined };
    }
    let cumulative = 0;
    const buckets: CompiledBucket<R>[] = [];
    rule.Split.forEach((bucket, i) => {
      const basisPoints = basisPointsOf(bucket.Percent) ?? 0;
      cumulative += basisPoints;
      // A 0 % bucket can never be chosen; skipping it keeps the walk short (numbering stays).
      if (basisPoints > 0) {
        buckets.push({
          cumulativeBasisPoints: cumulative,
          result: resultOf(bucket.Value, `rule-${position}-split-${i + 1}`, true),
        });
      }
    });
    return { test, position, result: undefined, buckets };
  });
}
