import {
  FLAG_NAME_RULE,
  type FlagValue,
  InvalidInputError,
  isFlagName,
  isVariantName,
  type ResultValue,
  SEGMENT_ATTRIBUTE,
  SEGMENT_OPERATORS,
  type ValueFlagType,
} from '@vexil/core';
import {
  describeRefusal,
  type FlagdImportPlan,
  type FlagdRefusal,
  type ImportedFlag,
  type ImportedSegment,
  Unmappable,
} from './flagd-plan.js';
import { toRules } from './flagd-targeting.js';
import { type Alternatives, toAlternatives } from './jsonlogic-conditions.js';

/**
 * A flagd flag-definition file (flagd.dev/reference/flag-definitions) as Vexil flags
 * and segments. The whole file is checked before anything is planned: every construct
 * that cannot be mapped is collected, with the flag and the place it is in, so one
 * run names them all; a plan comes back only when there are none.
 */
export interface FlagdConversion {
  plan: FlagdImportPlan;
  refusals: FlagdRefusal[];
}

const FILE_KEYS = new Set(['$schema', 'flags', '$evaluators', 'metadata']);
const FLAG_KEYS = new Set(['state', 'variants', 'defaultVariant', 'targeting', 'metadata']);

/** Converts a parsed flagd file; `source` names it in revision comments. */
export function convertFlagdDefinition(definition: unknown, source: string): FlagdConversion {
  const refusals: FlagdRefusal[] = [];
  const notes = new Map<string, string>();
  const plan: FlagdImportPlan = { flags: [], segments: [], notes: [] };
  const refuse = (flag: string | undefined, error: unknown) => {
    if (!(error instanceof Unmappable)) throw error;
    refusals.push({ flag, path: error.path, message: error.message });
  };

  if (!isObject(definition)) {
    refuse(undefined, new Unmappable('', 'a flagd file is a JSON object with "flags"'));
    return { plan, refusals };
  }
  for (const key of Object.keys(definition)) {
    if (!FILE_KEYS.has(key))
      refuse(undefined, new Unmappable(key, `unknown key (flagd files hold ${[...FILE_KEYS].join(', ')})`));
  }
  const flags = definition.flags;
  if (!isObject(flags) || Object.keys(flags).length === 0) {
    refuse(undefined, new Unmappable('flags', 'the file has no flags (an object of flag key → flag)'));
    return { plan, refusals };
  }
  const evaluators = definition.$evaluators ?? {};
  if (!isObject(evaluators)) refuse(undefined, new Unmappable('$evaluators', 'must be an object of name → JSONLogic'));
  let fileMetadata: Record<string, string | number | boolean> = {};
  try {
    fileMetadata = metadataOf(definition.metadata, 'metadata');
  } catch (error) {
    refuse(undefined, error);
  }

  const comment = `imported from flagd (${source})`;
  const segments = new Map<string, ImportedSegment>();
  /** Evaluators being expanded, to refuse a `$ref` cycle instead of recursing forever. */
  const expanding: string[] = [];
  /** Converts evaluator `name` with `convert`, refusing a missing one and a cycle. */
  const expand = <T>(name: string, path: string, convert: (expression: unknown, path: string) => T): T => {
    if (!isObject(evaluators) || !Object.hasOwn(evaluators, name)) {
      throw new Unmappable(path, `no evaluator named ${JSON.stringify(name)} in $evaluators`);
    }
    if (expanding.includes(name)) {
      throw new Unmappable(
        path,
        `evaluator ${JSON.stringify(name)} refers to itself (${[...expanding, name].join(' → ')})`,
      );
    }
    expanding.push(name);
    try {
      return convert(evaluators[name], `$evaluators.${name}`);
    } finally {
      expanding.pop();
    }
  };

  for (const [key, raw] of Object.entries(flags)) {
    const flagNotes = (kind: string, message: string) => {
      if (!notes.has(`${key}:${kind}`)) notes.set(`${key}:${kind}`, `flag ${JSON.stringify(key)}: ${message}`);
    };
    try {
      if (!isFlagName(key)) {
        throw new Unmappable('', `the key is not a valid Vexil flag name (${FLAG_NAME_RULE})`);
      }
      if (!isObject(raw)) throw new Unmappable('', 'a flag is an object with state, variants, defaultVariant');
      for (const field of Object.keys(raw)) {
        if (!FLAG_KEYS.has(field))
          throw new Unmappable(field, `unknown key (a flag holds ${[...FLAG_KEYS].join(', ')})`);
      }
      const { flagType, variants } = variantsOf(raw.variants);
      const controlValue = defaultOf(raw.defaultVariant, variants);
      const disabled = stateOf(raw.state);
      const metadata = { ...fileMetadata, ...metadataOf(raw.metadata, 'metadata') };

      const reference = (name: string, path: string): Alternatives => {
        const alternatives = expand(name, path, (expression, at) =>
          toAlternatives(expression, at, { reference, note: flagNotes }),
        );
        const segment = asSegment(name, alternatives);
        if (!segment) return alternatives;
        if (!segments.has(name)) segments.set(name, { name, revision: { Conditions: segment, Comment: comment } });
        return [[{ Attribute: SEGMENT_ATTRIBUTE, Operator: 'in_segment', Values: [name] }]];
      };
      const rules = toRules(raw.targeting, { variants, controlValue, reference, resolve: expand, note: flagNotes });

      const flag: ImportedFlag = {
        name: key,
        flagType,
        revision: { ControlValue: controlValue, Treatments: [], Variants: variants, Comment: comment },
      };
      if (rules.length > 0) flag.revision.Rules = rules;
      if (disabled) flag.revision.Disabled = true;
      if (Object.keys(metadata).length > 0) flag.revision.Metadata = metadata;
      plan.flags.push(flag);
    } catch (error) {
      refuse(key, error);
    }
  }
  plan.segments = [...segments.values()];
  plan.notes = [...notes.values()];
  return { plan, refusals };
}

/**
 * The plan for a flagd file, or an InvalidInputError naming every construct that
 * cannot be mapped (so nothing is written).
 */
export function planFlagdImport(definition: unknown, source: string): FlagdImportPlan {
  const { plan, refusals } = convertFlagdDefinition(definition, source);
  if (refusals.length > 0) {
    throw new InvalidInputError(
      `cannot import ${source}: ${refusals.length === 1 ? 'one construct' : `${refusals.length} constructs`} cannot be mapped to Vexil, so nothing was written:\n` +
        refusals.map((refusal) => `  - ${describeRefusal(refusal)}`).join('\n'),
      { field: 'file', hint: 'change or remove what is listed (see docs/flag-model.md for what Vexil rules express)' },
    );
  }
  return plan;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An evaluator becomes a segment when it is one list of conditions (no `or`) that uses
 * no other segment, and its name is a valid segment name; else it is inlined.
 */
function asSegment(name: string, alternatives: Alternatives) {
  if (!isFlagName(name) || alternatives.length !== 1) return undefined;
  const [conditions] = alternatives;
  if (
    conditions!.length === 0 ||
    conditions!.some((c) => (SEGMENT_OPERATORS as readonly string[]).includes(c.Operator))
  ) {
    return undefined;
  }
  return conditions!;
}

function typeOf(value: unknown): ValueFlagType | undefined {
  if (typeof value === 'boolean') return 'feature';
  if (typeof value === 'string') return 'data';
  if (typeof value === 'number' && Number.isFinite(value)) return 'number';
  if (typeof value === 'object' && value !== null) return 'json';
  return undefined;
}

const TYPE_WORDS: Readonly<Record<ValueFlagType, string>> = {
  feature: 'booleans',
  data: 'strings',
  number: 'numbers',
  json: 'objects or arrays',
};

function variantsOf(raw: unknown): { flagType: ValueFlagType; variants: Record<string, FlagValue> } {
  if (!isObject(raw) || Object.keys(raw).length === 0) {
    throw new Unmappable('variants', 'a flag needs variants: an object of variant name → value');
  }
  const types = new Map<ValueFlagType, string[]>();
  for (const [name, value] of Object.entries(raw)) {
    if (!isVariantName(name)) {
      throw new Unmappable(
        `variants.${name}`,
        'not a valid Vexil variant name (1–100 letters, digits, "_", "-" or ".", starting with a letter or digit)',
      );
    }
    const type = typeOf(value);
    if (type === undefined) {
      throw new Unmappable(
        `variants.${name}`,
        `${JSON.stringify(value)} is not a boolean, string, number, object or array`,
      );
    }
    types.set(type, [...(types.get(type) ?? []), name]);
  }
  if (types.size > 1) {
    const mix = [...types].map(([type, names]) => `${TYPE_WORDS[type]} (${names.join(', ')})`).join(' and ');
    throw new Unmappable(
      'variants',
      `mixed value types cannot be mapped: a Vexil flag holds one type, these are ${mix}`,
    );
  }
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(raw)) {
    const canonical = canonicalJson(value);
    const twin = seen.get(canonical);
    if (twin !== undefined) {
      throw new Unmappable('variants', `variants ${twin} and ${name} have the same value; Vexil names each value once`);
    }
    seen.set(canonical, name);
  }
  return { flagType: [...types.keys()][0]!, variants: raw as Record<string, FlagValue> };
}

/** JSON with object keys sorted, so values equal by content compare equal. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `defaultVariant` null or absent: flagd answers the caller's default, which is ControlValue null. */
function defaultOf(raw: unknown, variants: Record<string, FlagValue>): ResultValue {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'string' || !Object.hasOwn(variants, raw)) {
    throw new Unmappable(
      'defaultVariant',
      `${JSON.stringify(raw)} is not one of the variants (${Object.keys(variants).join(', ')})`,
    );
  }
  return variants[raw]!;
}

function stateOf(raw: unknown): boolean {
  if (raw === 'ENABLED') return false;
  if (raw === 'DISABLED') return true;
  throw new Unmappable('state', `must be "ENABLED" or "DISABLED", got ${JSON.stringify(raw)}`);
}

function metadataOf(raw: unknown, path: string): Record<string, string | number | boolean> {
  if (raw === undefined) return {};
  if (!isObject(raw)) throw new Unmappable(path, 'must be an object of key → string, number or boolean');
  for (const [key, value] of Object.entries(raw)) {
    if (
      typeof value !== 'string' &&
      typeof value !== 'boolean' &&
      !(typeof value === 'number' && Number.isFinite(value))
    ) {
      throw new Unmappable(`${path}.${key}`, `${JSON.stringify(value)} is not a string, number or boolean`);
    }
  }
  return raw as Record<string, string | number | boolean>;
}
