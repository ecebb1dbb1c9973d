import {
  type Condition,
  InvalidInputError,
  type ResultValue,
  SEGMENT_ATTRIBUTE,
  SEGMENT_OPERATORS,
  type SplitBucket,
  type TargetingRule,
  type ValueFlagType,
} from '@vexil/core';
import { parseFlagValue } from './arguments.js';

/**
 * The command line's one-line form of targeting rules and conditions
 * (`vexil add-revision --rule`, `vexil segment create --condition`): a small grammar
 * of Vexil's own, so it is parsed here by hand. What it builds is checked by core
 * like any revision, so operators, value shapes and percentages are reported with
 * core's messages and field paths.
 */
export const RULE_SYNTAX_HELP = `
Rules (--rule, repeatable, evaluated in order after the override lists):
  --rule 'CONDITION [and CONDITION]… => OUTCOME'
  --rule 'country in DE,FR and plan equals pro => on'
  --rule 'in_segment beta-testers => 50%:on, 50%:off'
  --rule 'version semver_gte 2.1.0 => default'
  --rule '=> off'                        (no condition: always matches)

  CONDITION  ATTRIBUTE OPERATOR VALUE[,VALUE]…, or in_segment / not_in_segment SEGMENT[,SEGMENT]…
  OPERATOR   equals not_equals in not_in starts_with ends_with contains lt lte gt gte
             semver_eq semver_lt semver_lte semver_gt semver_gte before after
             (also = == != < <= > >=, and "not in")
  VALUE      a word; "double quotes" for one with spaces, commas or quotes, or to keep
             a number or true/false a string ("18"). Numbers are numbers for equals,
             not_equals, in, not_in and the comparisons; true/false are booleans for
             equals and not_equals; everything else is a string. Dates: 2026-12-01 or
             2026-12-01T09:30:00Z.
  OUTCOME    a value, or a split PERCENT%:VALUE, PERCENT%:VALUE… adding up to 100.
             A value is a variant name (--variant), default (no value: the caller's
             default), or a value of the flag's type ("quoted" for a literal string).

  --rules-json takes the full form instead: a JSON list of
  {Conditions: [{Attribute, Operator, Values}], Value} or {Conditions, Split: [{Percent, Value}]}.`;

/** Symbols and two-word forms people type, each the name of one of core's operators. */
const OPERATOR_ALIASES: Readonly<Record<string, string>> = {
  '=': 'equals',
  '==': 'equals',
  '!=': 'not_equals',
  '<': 'lt',
  '<=': 'lte',
  '>': 'gt',
  '>=': 'gte',
};

/** Operators whose values may be numbers (a bare number is one); `equals`/`not_equals` also take booleans. */
const NUMBER_OPERATORS = new Set(['equals', 'not_equals', 'in', 'not_in', 'lt', 'lte', 'gt', 'gte']);
const BOOLEAN_OPERATORS = new Set(['equals', 'not_equals']);
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

type Token = { kind: 'word' | 'string' | 'comma'; text: string; at: number };

/** Splits text into words, "quoted strings" (JSON string literals) and commas. */
function tokenize(text: string, field: string, whole: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === ',') {
      tokens.push({ kind: 'comma', text: ',', at: i });
      i++;
    } else if (ch === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (end >= text.length)
        throw syntaxError(whole, field, `a closing " for the string starting at ${JSON.stringify(text.slice(i))}`);
      const literal = text.slice(i, end + 1);
      let value: unknown;
      try {
        value = JSON.parse(literal);
      } catch {
        throw syntaxError(whole, field, `a valid quoted string (JSON escapes), not ${literal}`);
      }
      tokens.push({ kind: 'string', text: value as string, at: i });
      i = end + 1;
    } else {
      let end = i;
      while (end < text.length && !/[\s,"]/.test(text[end]!)) end++;
      tokens.push({ kind: 'word', text: text.slice(i, end), at: i });
      i = end;
    }
  }
  return tokens;
}

function syntaxError(whole: string, field: string, expected: string): InvalidInputError {
  return new InvalidInputError(`${field} ${JSON.stringify(whole)}: expected ${expected}`, {
    field,
    hint: "see vexil add-revision --help for the rule syntax, e.g. --rule 'country in DE,FR and plan equals pro => on'",
  });
}

/** A condition value: typed by what the operator compares (see RULE_SYNTAX_HELP). */
function conditionValue(token: Token, operator: string): string | number | boolean {
  if (token.kind === 'string') return token.text;
  if (NUMBER_OPERATORS.has(operator) && NUMBER.test(token.text)) return Number(token.text);
  if (BOOLEAN_OPERATORS.has(operator) && (token.text === 'true' || token.text === 'false'))
    return token.text === 'true';
  return token.text;
}

/**
 * Conditions in the one-line form, `country in DE,FR and plan equals pro`; empty text
 * or `always` is no condition. `field` names the option in errors.
 */
export function parseConditions(text: string, field: string, whole = text): Condition[] {
  const tokens = tokenize(text, field, whole);
  if (tokens.length === 0 || (tokens.length === 1 && tokens[0]!.kind === 'word' && tokens[0]!.text === 'always')) {
    return [];
  }
  const conditions: Condition[] = [];
  let i = 0;
  const next = () => tokens[i];
  while (i < tokens.length) {
    const first = tokens[i]!;
    let attribute: string;
    let operator: string;
    if (first.kind === 'word' && (SEGMENT_OPERATORS as readonly string[]).includes(first.text)) {
      attribute = SEGMENT_ATTRIBUTE;
      operator = first.text;
      i++;
    } else {
      if (first.kind === 'comma') throw syntaxError(whole, field, `an attribute name, not ","`);
      attribute = first.text;
      i++;
      const op = next();
      if (op === undefined || op.kind !== 'word') {
        throw syntaxError(whole, field, `an operator after ${JSON.stringify(attribute)} (equals, in, gte, …)`);
      }
      operator = OPERATOR_ALIASES[op.text] ?? op.text;
      i++;
      if (operator === 'not' && next()?.kind === 'word' && next()?.text === 'in') {
        operator = 'not_in';
        i++;
      } else if (SEGMENT_OPERATORS.includes(operator as never) && attribute !== SEGMENT_ATTRIBUTE) {
        throw syntaxError(whole, field, `${operator} without an attribute: write "${operator} SEGMENT"`);
      }
    }
    const values: (string | number | boolean)[] = [];
    for (;;) {
      const value = next();
      if (value === undefined || value.kind === 'comma') {
        throw syntaxError(whole, field, `a value after ${values.length === 0 ? JSON.stringify(operator) : '","'}`);
      }
      values.push(conditionValue(value, operator));
      i++;
      if (next()?.kind !== 'comma') break;
      i++;
    }
    conditions.push({ Attribute: attribute, Operator: operator, Values: values });
    const joiner = next();
    if (joiner === undefined) break;
    if (joiner.kind !== 'word' || joiner.text !== 'and') {
      throw syntaxError(whole, field, `"and" or the end of the conditions, not ${JSON.stringify(joiner.text)}`);
    }
    i++;
    if (next() === undefined) throw syntaxError(whole, field, 'a condition after "and"');
  }
  return conditions;
}

/** The flag's variants, for outcomes that name one. */
export type VariantValues = Readonly<Record<string, unknown>>;

/**
 * One value of an outcome: "quoted" is a literal string; a bare word is `default`
 * (null), a variant's name, or a value of the flag's type.
 */
export function outcomeValue(
  text: string,
  flagType: ValueFlagType,
  variants: VariantValues,
  field: string,
): ResultValue {
  const trimmed = text.trim();
  if (trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2) {
    try {
      return JSON.parse(trimmed) as string;
    } catch {
      throw new InvalidInputError(`${field} ${trimmed} is not a valid quoted string (JSON escapes)`, { field });
    }
  }
  if (trimmed === 'default') return null;
  if (Object.hasOwn(variants, trimmed)) return variants[trimmed] as ResultValue;
  return parseFlagValue(trimmed, flagType, field);
}

/** Splits at top-level commas: not inside quotes, brackets or braces (a JSON value holds commas). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const SPLIT_PART = /^\s*(-?\d+(?:\.\d+)?)\s*%\s*:(.*)$/s;

/** `--rule 'CONDITIONS => OUTCOME'`: a targeting rule (see RULE_SYNTAX_HELP). */
export function parseRule(
  text: string,
  flagType: ValueFlagType,
  variants: VariantValues,
  index: number,
): TargetingRule {
  const field = `Rules[${index}]`;
  const arrow = findArrow(text);
  if (arrow === UNCLOSED_QUOTE) throw syntaxError(text, field, 'a closing " for a quoted string');
  if (arrow < 0) throw syntaxError(text, field, '"=>" between the conditions and the outcome');
  const Conditions = parseConditions(text.slice(0, arrow), field, text);
  const outcome = text.slice(arrow + 2);
  if (outcome.trim() === '') throw syntaxError(text, field, 'an outcome after "=>" (a value, a variant or a split)');
  const parts = splitTopLevel(outcome);
  const splits = parts.map((part) => SPLIT_PART.exec(part));
  if (splits.some((match) => match !== null)) {
    const Split: SplitBucket[] = splits.map((match, m) => {
      if (match === null) {
        throw syntaxError(
          text,
          field,
          `PERCENT%:VALUE for every part of a split, not ${JSON.stringify(parts[m]!.trim())}`,
        );
      }
      return {
        Percent: Number(match[1]),
        Value: outcomeValue(match[2]!, flagType, variants, `${field}.Split[${m}].Value`),
      };
    });
    return { Conditions, Split };
  }
  if (parts.length > 1 && flagType !== 'json') {
    throw syntaxError(
      text,
      field,
      `one value after "=>", or a split (50%:a, 50%:b); quote a value holding a comma: "${outcome.trim().replace(/"/g, '\\"')}"`,
    );
  }
  return { Conditions, Value: outcomeValue(outcome, flagType, variants, `${field}.Value`) };
}

const UNCLOSED_QUOTE = -2;

/** Where `=>` is, outside quotes; -1 when it is not there, UNCLOSED_QUOTE when a quote never closes. */
function findArrow(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '=' && text[i + 1] === '>') return i;
  }
  return quoted ? UNCLOSED_QUOTE : -1;
}

// ---------------------------------------------------------------- the same form, written back

function formatConditionValue(value: unknown, operator: string): string {
  if (typeof value === 'string') {
    const plain =
      /^[^\s,"]+$/.test(value) &&
      value !== 'and' &&
      !(NUMBER_OPERATORS.has(operator) && NUMBER.test(value)) &&
      !(BOOLEAN_OPERATORS.has(operator) && (value === 'true' || value === 'false'));
    return plain ? value : JSON.stringify(value);
  }
  return JSON.stringify(value);
}

/** Conditions in the one-line form, as `parseConditions` reads them. */
export function formatConditions(conditions: readonly Condition[]): string {
  if (conditions.length === 0) return 'always';
  return conditions
    .map((condition) => {
      const values = (Array.isArray(condition.Values) ? condition.Values : [])
        .map((value) => formatConditionValue(value, condition.Operator))
        .join(',');
      return (SEGMENT_OPERATORS as readonly string[]).includes(condition.Operator) &&
        condition.Attribute === SEGMENT_ATTRIBUTE
        ? `${condition.Operator} ${values}`
        : `${formatConditionValue(condition.Attribute, '')} ${condition.Operator} ${values}`;
    })
    .join(' and ');
}

/** A value of an outcome: its variant's name when it has one, `default` for null. */
function formatOutcomeValue(value: unknown, variants: VariantValues): string {
  if (value === null) return 'default';
  const text = JSON.stringify(value);
  const named = Object.entries(variants).find(([, v]) => JSON.stringify(v) === text);
  return named ? named[0] : text;
}

/** A rule in the one-line form, as `--rule` takes it. */
export function formatRule(rule: TargetingRule, variants: VariantValues = {}): string {
  const conditions = Array.isArray(rule.Conditions) ? rule.Conditions : [];
  const outcome = Array.isArray(rule.Split)
    ? rule.Split.map((bucket) => `${bucket.Percent}%:${formatOutcomeValue(bucket.Value, variants)}`).join(', ')
    : formatOutcomeValue(rule.Value, variants);
  return `${conditions.length === 0 ? '' : `${formatConditions(conditions)} `}=> ${outcome}`;
}
