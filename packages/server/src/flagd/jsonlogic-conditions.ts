import type { Condition, ConditionOperator } from '@vexil/core';
import { Unmappable } from './flagd-plan.js';

/**
 * flagd's JSONLogic conditions as Vexil conditions. A JSONLogic condition may hold
 * `or`, so it becomes a list of alternatives, each a list of conditions that must all
 * hold (disjunctive normal form): one Vexil rule per alternative, all giving the same
 * result, keeps flagd's first-match order exactly.
 *
 * Hand-written rather than run through a JSONLogic library: the work is recognising
 * the few shapes Vexil can express and naming exactly what it cannot, which no
 * evaluator library does.
 */
export type Conjunction = Condition[];
export type Alternatives = Conjunction[];

export interface ConditionScope {
  /** A `$ref` in a condition: a segment membership condition, or the evaluator inlined. */
  reference(name: string, path: string): Alternatives;
  /** Records where Vexil will answer differently from flagd (said once per kind). */
  note(kind: string, message: string): void;
}

/** More alternatives than this from one condition is refused: the rule list would be unreadable. */
export const MAX_ALTERNATIVES = 64;

type Literal = string | number | boolean;

const COMPARISONS: Readonly<Record<string, ConditionOperator>> = { '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' };
const FLIPPED: Readonly<Record<string, string>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=', '!=': '!=' };

export function toAlternatives(node: unknown, path: string, scope: ConditionScope): Alternatives {
  const [operator, args] = operation(node, path, 'a condition');
  const at = `${path}.${operator}`;
  switch (operator) {
    case '$ref':
      if (typeof args[0] !== 'string') throw new Unmappable(at, '"$ref" must name an evaluator (a string)');
      return scope.reference(args[0], at);
    case 'and': {
      if (args.length === 0) throw new Unmappable(at, '"and" with no conditions cannot be mapped');
      let product: Alternatives = [[]];
      args.forEach((arg, i) => {
        const alternatives = toAlternatives(arg, `${at}[${i}]`, scope);
        product = product.flatMap((left) => alternatives.map((right) => [...left, ...right]));
        tooMany(product, at);
      });
      return product;
    }
    case 'or': {
      if (args.length === 0) throw new Unmappable(at, '"or" with no conditions cannot be mapped');
      const union = args.flatMap((arg, i) => toAlternatives(arg, `${at}[${i}]`, scope));
      tooMany(union, at);
      return union;
    }
    case '!':
      return [[truthiness(args, at, false, scope)]];
    case 'var':
      return [[truthiness([node], path, true, scope)]];
    case '==':
    case '===':
    case '!=':
    case '!==':
      return [[equality(operator, args, at, scope)]];
    case '<':
    case '<=':
    case '>':
    case '>=':
      return [comparison(operator, args, at, scope)];
    case 'in':
      return [[membership(args, at, scope)]];
    case 'starts_with':
    case 'ends_with':
      return [[affix(operator, args, at)]];
    case 'sem_ver':
      return semanticVersion(args, at, scope);
    case 'fractional':
      throw new Unmappable(at, '"fractional" gives a variant, not a condition: use it as an "if" result');
    case 'if':
      throw new Unmappable(at, '"if" inside a condition cannot be mapped: only an "if" chain of results maps to rules');
    case 'regex':
      throw new Unmappable(
        at,
        'regular expressions are not supported by Vexil (no linear-time engine in core): use starts_with, ends_with, in',
      );
    default:
      throw new Unmappable(at, `operator ${JSON.stringify(operator)} cannot be mapped to a Vexil condition`);
  }
}

/** A JSONLogic operation `{op: args}`: its operator and its arguments as a list (the unary shorthand too). */
export function operation(node: unknown, path: string, what: string): [string, unknown[]] {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    throw new Unmappable(path, `${JSON.stringify(node)} is not ${what} (a JSONLogic operation such as {"==": […]})`);
  }
  const keys = Object.keys(node);
  if (keys.length !== 1) {
    throw new Unmappable(path, `a JSONLogic operation has exactly one operator, found ${JSON.stringify(keys)}`);
  }
  const operator = keys[0]!;
  const args = (node as Record<string, unknown>)[operator];
  return [operator, Array.isArray(args) ? args : [args]];
}

function tooMany(alternatives: Alternatives, path: string): void {
  if (alternatives.length > MAX_ALTERNATIVES) {
    throw new Unmappable(
      path,
      `"or" expands to more than ${MAX_ALTERNATIVES} Vexil rules; simplify the condition or split the flag`,
    );
  }
}

/**
 * The attribute a `var` reads: a plain context key. flagd's `var` also reads nested
 * paths (`user.name`), its own `$flagd.*` properties and takes a default; Vexil looks
 * attributes up by exact name, so those are refused.
 */
export function attributeOf(node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
  const keys = Object.keys(node);
  if (keys.length !== 1 || keys[0] !== 'var') return undefined;
  const raw = (node as { var: unknown }).var;
  const args = Array.isArray(raw) ? raw : [raw];
  return typeof args[0] === 'string' && args.length === 1 ? args[0] : undefined;
}

function attribute(node: unknown, path: string): string {
  const name = attributeOf(node);
  if (name === undefined) {
    const raw = (node as { var: unknown }).var;
    if (Array.isArray(raw) && raw.length > 1) {
      throw new Unmappable(
        `${path}.var`,
        '"var" with a default value cannot be mapped (a missing attribute never holds)',
      );
    }
    throw new Unmappable(`${path}.var`, `"var" must name one context attribute, got ${JSON.stringify(raw)}`);
  }
  if (name.startsWith('$flagd.')) {
    throw new Unmappable(
      `${path}.var`,
      `flagd's own property ${JSON.stringify(name)} cannot be mapped (Vexil adds no $flagd properties to the context)`,
    );
  }
  if (name === '' || name.includes('.')) {
    throw new Unmappable(
      `${path}.var`,
      `"var" ${JSON.stringify(name)} reads a nested path; Vexil looks attributes up by their exact name only`,
    );
  }
  return name;
}

function isVar(node: unknown): boolean {
  return typeof node === 'object' && node !== null && !Array.isArray(node) && Object.keys(node)[0] === 'var';
}

function literal(node: unknown, path: string, kinds: readonly ('string' | 'number' | 'boolean')[]): Literal {
  const kind = typeof node;
  if ((kind === 'string' || kind === 'number' || kind === 'boolean') && kinds.includes(kind)) {
    if (kind === 'number' && !Number.isFinite(node)) throw new Unmappable(path, `${node} is not a finite number`);
    return node as Literal;
  }
  throw new Unmappable(
    path,
    `expected a ${kinds.join(' or ')} literal, got ${JSON.stringify(node)} (only an attribute compared with a literal maps)`,
  );
}

/** `var` and `!var`: JSONLogic truthiness, which Vexil can test only as the boolean itself. */
function truthiness(args: unknown[], path: string, wanted: boolean, scope: ConditionScope): Condition {
  if (args.length !== 1 || !isVar(args[0])) {
    throw new Unmappable(path, '"!" maps only when applied to one attribute ({"!": {"var": "name"}})');
  }
  const name = attribute(args[0], path);
  scope.note(
    `truthiness:${name}:${wanted}`,
    wanted
      ? `attribute ${name} tested for truth holds in Vexil only for the boolean true (flagd: any truthy value)`
      : `"!" on attribute ${name} holds in Vexil only for the boolean false; flagd also matches a missing attribute, null, 0 and ""`,
  );
  return { Attribute: name, Operator: 'equals', Values: [wanted] };
}

/** The attribute and the literal of a binary operation, in either order. */
function sides(args: unknown[], path: string, kinds: readonly ('string' | 'number' | 'boolean')[]) {
  if (args.length !== 2) throw new Unmappable(path, `expected two arguments, got ${args.length}`);
  const [left, right] = args;
  // An attribute Vexil cannot read is the first thing to name.
  for (const side of args) if (isVar(side)) attribute(side, path);
  if (isVar(left) && !isVar(right))
    return { name: attribute(left, path), value: literal(right, path, kinds), flipped: false };
  if (isVar(right) && !isVar(left))
    return { name: attribute(right, path), value: literal(left, path, kinds), flipped: true };
  throw new Unmappable(path, 'only an attribute ({"var": …}) compared with a literal maps to a Vexil condition');
}

function equality(operator: string, args: unknown[], path: string, scope: ConditionScope): Condition {
  const { name, value } = sides(args, path, ['string', 'number', 'boolean']);
  const negated = operator.startsWith('!');
  if (operator.length === 2) {
    scope.note('loose-equality', `"${operator}" compares without type conversion in Vexil ("29" is not 29)`);
  }
  if (negated) {
    scope.note(
      `not-equals:${name}`,
      `"${operator}" on attribute ${name} does not hold in Vexil when the attribute is missing (flagd: it holds)`,
    );
  }
  return { Attribute: name, Operator: negated ? 'not_equals' : 'equals', Values: [value] };
}

function comparison(operator: string, args: unknown[], path: string, scope: ConditionScope): Conjunction {
  const conditions = numericComparison(operator, args, path);
  const name = conditions[0]!.Attribute;
  scope.note(
    `comparison:${name}`,
    `"${operator}" on attribute ${name} holds in Vexil only for a number (flagd converts strings and null to numbers first)`,
  );
  return conditions;
}

function numericComparison(operator: string, args: unknown[], path: string): Conjunction {
  if (args.length === 3 && (operator === '<' || operator === '<=')) {
    // JSONLogic's "between": low < x < high.
    const [low, middle, high] = args;
    if (!isVar(middle))
      throw new Unmappable(path, `a three-argument "${operator}" maps only with the attribute in the middle`);
    const name = attribute(middle, path);
    const op = COMPARISONS[operator]!;
    return [
      { Attribute: name, Operator: op === 'lt' ? 'gt' : 'gte', Values: [literal(low, path, ['number'])] },
      { Attribute: name, Operator: op, Values: [literal(high, path, ['number'])] },
    ];
  }
  const { name, value, flipped } = sides(args, path, ['number']);
  return [{ Attribute: name, Operator: COMPARISONS[flipped ? FLIPPED[operator]! : operator]!, Values: [value] }];
}

/** `in`: an attribute in a literal list, or a literal substring of an attribute. */
function membership(args: unknown[], path: string, scope: ConditionScope): Condition {
  if (args.length !== 2) throw new Unmappable(path, `expected two arguments, got ${args.length}`);
  const [needle, haystack] = args;
  if (isVar(needle) && Array.isArray(haystack)) {
    if (haystack.length === 0) throw new Unmappable(path, '"in" an empty list never holds; remove the condition');
    const values = haystack.map((item, i) => literal(item, `${path}[1][${i}]`, ['string', 'number']));
    return { Attribute: attribute(needle, path), Operator: 'in', Values: values };
  }
  if (typeof needle === 'string' && isVar(haystack)) {
    const name = attribute(haystack, path);
    scope.note(
      `contains:${name}`,
      `"in" on attribute ${name} holds in Vexil only for a string containing the text (flagd also tests list membership)`,
    );
    return { Attribute: name, Operator: 'contains', Values: [needle] };
  }
  throw new Unmappable(
    path,
    '"in" maps only as {"in": [{"var": …}, [literals…]]} (attribute in a list) or {"in": ["text", {"var": …}]} (attribute contains text)',
  );
}

function affix(operator: 'starts_with' | 'ends_with', args: unknown[], path: string): Condition {
  if (args.length !== 2 || !isVar(args[0])) {
    throw new Unmappable(path, `"${operator}" maps only as {"${operator}": [{"var": …}, "text"]}`);
  }
  return { Attribute: attribute(args[0], path), Operator: operator, Values: [literal(args[1], path, ['string'])] };
}

interface Version {
  major: number;
  minor: number;
  text: string;
}

/** SemVer 2.0.0 with flagd's leniency for literals: a leading v, and `1` or `1.2` read as `1.0.0` / `1.2.0`. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function version(raw: unknown, path: string): Version {
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    throw new Unmappable(path, `"sem_ver" needs a version literal, got ${JSON.stringify(raw)}`);
  }
  const text = String(raw).replace(/^[vV]/, '');
  const strict = SEMVER.exec(text);
  if (strict) return { major: Number(strict[1]), minor: Number(strict[2]), text };
  const partial = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (partial) {
    const major = Number(partial[1]);
    const minor = Number(partial[2] ?? 0);
    return { major, minor, text: `${major}.${minor}.0` };
  }
  throw new Unmappable(path, `${JSON.stringify(raw)} is not a semantic version`);
}

function semanticVersion(args: unknown[], path: string, scope: ConditionScope): Alternatives {
  if (args.length !== 3) throw new Unmappable(path, `"sem_ver" takes three arguments, got ${args.length}`);
  const [left, rawOperator, right] = args;
  let operator = String(rawOperator);
  let name: string;
  let raw: unknown;
  if (isVar(left) && !isVar(right)) {
    name = attribute(left, path);
    raw = right;
  } else if (isVar(right) && !isVar(left)) {
    name = attribute(right, path);
    raw = left;
    operator = FLIPPED[operator] ?? operator;
  } else {
    throw new Unmappable(path, '"sem_ver" maps only with one attribute and one version literal');
  }
  const v = version(raw, `${path}[${raw === right ? 2 : 0}]`);
  scope.note(
    `semver:${name}`,
    `"sem_ver" on attribute ${name}: Vexil reads only full versions (MAJOR.MINOR.PATCH); flagd also reads "1" and "1.2"`,
  );
  const condition = (op: string, text: string): Condition => ({
    Attribute: name,
    Operator: op,
    Values: [text],
  });
  switch (operator) {
    case '=':
      return [[condition('semver_eq', v.text)]];
    case '<':
      return [[condition('semver_lt', v.text)]];
    case '<=':
      return [[condition('semver_lte', v.text)]];
    case '>':
      return [[condition('semver_gt', v.text)]];
    case '>=':
      return [[condition('semver_gte', v.text)]];
    case '!=':
      return [[condition('semver_lt', v.text)], [condition('semver_gt', v.text)]];
    // flagd's ^ and ~ compare the major (and minor) numbers only; `-0` is the lowest pre-release, so the ranges are exact.
    case '^':
      return [[condition('semver_gte', `${v.major}.0.0-0`), condition('semver_lt', `${v.major + 1}.0.0-0`)]];
    case '~':
      return [
        [condition('semver_gte', `${v.major}.${v.minor}.0-0`), condition('semver_lt', `${v.major}.${v.minor + 1}.0-0`)],
      ];
    default:
      throw new Unmappable(`${path}[1]`, `unknown "sem_ver" operator ${JSON.stringify(rawOperator)}`);
  }
}
