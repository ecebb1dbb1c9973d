import type { FlagValue, ResultValue, SplitBucket, TargetingRule } from '@vexil/core';
import { Unmappable } from './flagd-plan.js';
import { type Alternatives, type ConditionScope, operation, toAlternatives } from './jsonlogic-conditions.js';

/**
 * A flag's `targeting` as Vexil rules. flagd's targeting is a JSONLogic expression
 * that gives a variant name; Vexil rules are tried in order and the first that holds
 * gives its value. An `if` chain `[c1, v1, c2, v2, …, else]` maps rule by rule; a
 * `fractional` result maps to a rule's percentage split; `null` (or no result) means
 * flagd's default variant, which is Vexil's ControlValue.
 */
export interface TargetingScope extends ConditionScope {
  readonly variants: Readonly<Record<string, FlagValue>>;
  readonly controlValue: ResultValue;
  /** A `$ref` where a result is expected: the evaluator's expression, inlined (converted by `convert`). */
  resolve<T>(name: string, path: string, convert: (expression: unknown, path: string) => T): T;
}

type Result = { kind: 'value'; value: ResultValue } | { kind: 'split'; split: SplitBucket[] } | { kind: 'default' };

interface Branch {
  alternatives: Alternatives;
  result: Result;
  path: string;
}

export function toRules(targeting: unknown, scope: TargetingScope): TargetingRule[] {
  if (targeting === undefined || targeting === null) return [];
  if (typeof targeting === 'object' && !Array.isArray(targeting) && Object.keys(targeting).length === 0) return [];
  return rulesOf(branches(targeting, 'targeting', scope), scope);
}

/** The targeting as branches; an `if` in the else position continues the chain (it is an else-if). */
function branches(node: unknown, path: string, scope: TargetingScope): Branch[] {
  if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
    const [operator, args] = operation(node, path, 'a targeting rule');
    if (operator === '$ref' && typeof args[0] === 'string') {
      return scope.resolve(args[0], `${path}.$ref`, (expression, at) => branches(expression, at, scope));
    }
    if (operator === 'if') return chain(args, `${path}.if`, scope);
  }
  return [{ alternatives: [[]], result: result(node, path, scope), path }];
}

function chain(args: unknown[], path: string, scope: TargetingScope): Branch[] {
  if (args.length < 2) throw new Unmappable(path, '"if" needs a condition and a result');
  const out: Branch[] = [];
  let i = 0;
  for (; i + 1 < args.length; i += 2) {
    out.push({
      alternatives: toAlternatives(args[i], `${path}[${i}]`, scope),
      result: result(args[i + 1], `${path}[${i + 1}]`, scope),
      path: `${path}[${i}]`,
    });
  }
  if (i < args.length) out.push(...branches(args[i], `${path}[${i}]`, scope));
  return out;
}

function result(node: unknown, path: string, scope: TargetingScope): Result {
  if (node === null || node === undefined) return { kind: 'default' };
  if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') {
    return { kind: 'value', value: variantValue(node, path, scope) };
  }
  const [operator, args] = operation(node, path, 'a result (a variant name, null or a JSONLogic operation)');
  switch (operator) {
    case '$ref':
      if (typeof args[0] !== 'string') throw new Unmappable(`${path}.$ref`, '"$ref" must name an evaluator (a string)');
      return scope.resolve(args[0], `${path}.$ref`, (expression, at) => result(expression, at, scope));
    case 'fractional':
      return { kind: 'split', split: split(args, `${path}.fractional`, scope) };
    case 'if':
      throw new Unmappable(
        `${path}.if`,
        'a nested "if" as a result cannot be mapped (only an "if" in the else position continues the chain)',
      );
    case 'var':
      throw new Unmappable(`${path}.var`, 'a variant taken from the context cannot be mapped: name the variant');
    default:
      throw new Unmappable(
        `${path}.${operator}`,
        `a result computed by ${JSON.stringify(operator)} cannot be mapped: a result must name a variant`,
      );
  }
}

/** flagd turns a targeting result into a variant name with toString(), so `true` names the variant "true". */
function variantValue(node: string | number | boolean, path: string, scope: TargetingScope): FlagValue {
  const name = String(node);
  if (!Object.hasOwn(scope.variants, name)) {
    throw new Unmappable(
      path,
      `the targeting gives variant ${JSON.stringify(name)}, which the flag does not have (variants: ${Object.keys(scope.variants).join(', ')})`,
    );
  }
  return scope.variants[name]!;
}

/**
 * `fractional` as a split in basis points (weights rounded by largest remainder, so
 * they add up to exactly 100 %). Only flagd's default bucket key (flag key and
 * targeting key) maps: Vexil always hashes the targeting key.
 */
function split(args: unknown[], path: string, scope: TargetingScope): SplitBucket[] {
  if (args.length === 0) throw new Unmappable(path, '"fractional" needs at least one bucket');
  if (!Array.isArray(args[0])) {
    throw new Unmappable(
      `${path}[0]`,
      '"fractional" with a custom bucket key cannot be mapped: Vexil always buckets by targetingKey',
    );
  }
  const buckets = args.map((entry, i) => {
    const at = `${path}[${i}]`;
    if (!Array.isArray(entry) || entry.length === 0 || entry.length > 2) {
      throw new Unmappable(at, 'a "fractional" bucket is [variant] or [variant, weight]');
    }
    const [variant, weight = 1] = entry as [unknown, unknown];
    if (typeof weight !== 'number' || !Number.isInteger(weight)) {
      throw new Unmappable(`${at}[1]`, `a bucket weight must be a whole number, got ${JSON.stringify(weight)}`);
    }
    let value: ResultValue;
    if (variant === null) value = null;
    else if (typeof variant === 'string' || typeof variant === 'number' || typeof variant === 'boolean') {
      value = variantValue(variant, `${at}[0]`, scope);
    } else throw new Unmappable(`${at}[0]`, 'a computed "fractional" variant cannot be mapped: name the variant');
    // flagd clamps negative weights to 0.
    return { weight: Math.max(0, weight), value };
  });
  const total = buckets.reduce((sum, bucket) => sum + bucket.weight, 0);
  if (total === 0) throw new Unmappable(path, '"fractional" weights add up to 0: no bucket is ever chosen');
  const exact = buckets.map((bucket) => (bucket.weight * 10_000) / total);
  const points = exact.map(Math.floor);
  let left = 10_000 - points.reduce((sum, p) => sum + p, 0);
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (left === 0) break;
    points[i] = points[i]! + 1;
    left -= 1;
  }
  if (exact.some((x, i) => x !== points[i])) {
    scope.note(
      'fractional-rounding',
      `"fractional" weights ${buckets.map((b) => b.weight).join(':')} rounded to ${points.map((p) => `${p / 100}%`).join(' / ')}`,
    );
  }
  scope.note(
    'fractional-hash',
    '"fractional" becomes a Vexil split, hashed with the flag\'s salt and targetingKey (not flagd\'s murmur3 of flag key and targetingKey): ' +
      'users land in different buckets than under flagd, and a context without targetingKey is refused (TARGETING_KEY_MISSING) where flagd answers the default',
  );
  return buckets.map((bucket, i) => ({ Percent: points[i]! / 100, Value: bucket.value }));
}

function rulesOf(all: Branch[], scope: TargetingScope): TargetingRule[] {
  // Trailing "default" results are what falling through every rule gives already.
  let end = all.length;
  while (end > 0 && all[end - 1]!.result.kind === 'default') end -= 1;
  const rules: TargetingRule[] = [];
  for (const branch of all.slice(0, end)) {
    let fields: Pick<TargetingRule, 'Value' | 'Split'>;
    if (branch.result.kind === 'split') fields = { Split: branch.result.split };
    else if (branch.result.kind === 'value') fields = { Value: branch.result.value };
    else {
      // A default result before other rules must stop them: a rule giving the ControlValue does.
      scope.note(
        `default-rule:${branch.path}`,
        `${branch.path} gives the default variant before later rules: Vexil answers it with reason TARGETING_MATCH (flagd: DEFAULT)`,
      );
      fields = { Value: scope.controlValue };
    }
    for (const conditions of branch.alternatives) rules.push({ Conditions: conditions, ...fields });
  }
  return rules;
}
