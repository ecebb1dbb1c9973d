import { isVexilError } from '@vexil/core';
import type { PyValue } from '@vexil/core/runbook';
import type { StoreEngine } from '@vexil/store';
import fc from 'fast-check';
import { pythonRendering, renderPython } from '../../../../test/python-literal-text.js';

/**
 * Inputs for the server's property tests, shaped like the real thing often enough to
 * get past the first check, and wrong in every way often enough to reach the others.
 */

/** Every row of every project, as text: what "nothing was written" is checked against. */
export async function storeContents(store: StoreEngine): Promise<string> {
  const projects = await store.listProjects();
  const rows = await Promise.all(projects.map((project) => store.scanProject(project)));
  return JSON.stringify(rows);
}

/** Rethrows anything but one of Vexil's client errors (4xx). */
export function expectClientError(error: unknown): void {
  if (!isVexilError(error) || error.status >= 500) throw error;
}

/** Mostly `valid`, sometimes `junk`: past the first check often enough to reach the later ones. */
export function mostly<T, U>(valid: fc.Arbitrary<T>, junk: fc.Arbitrary<U>): fc.Arbitrary<T | U> {
  return fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: junk, weight: 1 });
}

/** Names: the seeded flags', new valid ones, and invalid ones. */
export const flagName = mostly(
  fc.oneof(
    fc.constantFrom('new_checkout', 'llm_provider', 'fresh_flag', 'page-size', 'a.b'),
    fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,12}$/),
  ),
  fc.oneof(fc.constantFrom('', 'Bad Name', 'x'.repeat(201), '../up', '%', 'ü'), fc.string({ maxLength: 8 })),
);

/** Any JSON value, shallow: what a field may be given instead of what it wants. */
export const anyJson = fc.jsonValue({ maxDepth: 2 });

/** A value of one of the flag types, or not. */
export const flagValue = fc.oneof(
  fc.boolean(),
  fc.string({ maxLength: 6 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant(null),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
  anyJson,
);

const percent = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: -10, max: 150, noNaN: true }), anyJson);

const condition = fc.record(
  {
    Attribute: fc.oneof(fc.constantFrom('targetingKey', 'country', 'email'), anyJson),
    Operator: fc.oneof(
      fc.constantFrom('in', 'not_in', 'starts_with', 'semver_gte', 'in_segment', 'gt', 'bogus'),
      anyJson,
    ),
    Values: fc.oneof(fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 3 }), anyJson),
  },
  { requiredKeys: [] },
);

/** A revision's fields: the flag model's, each valid or not, some left out. */
export const revisionFields = fc.record(
  {
    ControlValue: flagValue,
    Treatments: fc.oneof(
      fc.array(
        fc.record(
          {
            OverrideList: fc.oneof(fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), anyJson),
            PercentRollout: percent,
            Value: flagValue,
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
      anyJson,
    ),
    Rules: fc.oneof(
      fc.array(
        fc.record(
          {
            Conditions: fc.oneof(fc.array(condition, { maxLength: 2 }), anyJson),
            Value: flagValue,
            Split: fc.oneof(fc.array(fc.record({ Percent: percent, Value: flagValue }), { maxLength: 3 }), anyJson),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 2 },
      ),
      anyJson,
    ),
    Variants: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), flagValue, { maxKeys: 3 }), anyJson),
    Disabled: fc.oneof(fc.boolean(), anyJson),
    Metadata: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 3 }), anyJson),
    Salt: fc.oneof(fc.string({ maxLength: 6 }), anyJson),
    HashAlgorithm: fc.oneof(fc.constantFrom('md5', 'sha1', 'sha256', 'crc'), anyJson),
    Description: fc.oneof(fc.string({ maxLength: 10 }), anyJson),
  },
  { requiredKeys: [] },
);

/** JSON values as Python literals can hold them (no -0, whole numbers written as floats past the safe range). */
function asPython(value: unknown): PyValue {
  return JSON.parse(JSON.stringify(value)) as PyValue;
}

/** A revision that is valid for a flag of `flagType` more often than not. */
function likelyRevision(flagType: 'feature' | 'data'): fc.Arbitrary<Record<string, unknown>> {
  const value = flagType === 'feature' ? fc.boolean() : fc.string({ minLength: 1, maxLength: 6 });
  const treatment = fc.record({
    OverrideList: fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { maxLength: 3 }),
    PercentRollout: fc.integer({ min: 0, max: 50 }),
    Value: value,
  });
  return mostly(fc.record({ ControlValue: value, Treatments: fc.array(treatment, { maxLength: 2 }) }), revisionFields);
}

/** One Airflow config (as a JSON object) for project `shop`: mostly well-formed, each key sometimes not. */
export const airflowConfig = fc
  .record({
    kind: fc.constantFrom('FLAG' as const, 'REVISION' as const),
    flagType: fc.constantFrom('feature' as const, 'data' as const),
    name: flagName,
  })
  .chain(({ kind, flagType, name }) =>
    fc.record({
      row_key_prefix_PROJECT: mostly(fc.constantFrom('shop', 'other-project'), anyJson),
      row_key_prefix_ROWTYPE: mostly(fc.constant(kind), anyJson),
      row_key_prefix_FLAGTYPE: mostly(fc.constant(flagType), anyJson),
      row_key_prefix_FLAGNAME: fc.constant(name),
      row_cell_value: mostly(
        fc
          .tuple(
            kind === 'FLAG' ? fc.record({ Description: fc.string({ maxLength: 8 }) }) : likelyRevision(flagType),
            pythonRendering,
          )
          // The runbook's cells name the flag and its stored type.
          .map(([fields, style]) =>
            renderPython(asPython({ Name: name, Type: flagType === 'feature' ? 'FEATURE' : 'DATA', ...fields }), style),
          ),
        fc.string({ maxLength: 20 }),
      ),
      add_new_feature_flag: mostly(fc.constant(kind === 'FLAG'), anyJson),
    }),
  );

const jsonLogicVar = fc.record({
  var: fc.oneof(fc.constantFrom('email', 'country', 'age', 'app', 'targetingKey'), anyJson),
});

/** JSONLogic as flagd targeting writes it, with the operators Vexil maps and some it does not. */
export const jsonLogic: fc.Arbitrary<unknown> = fc.letrec<{ rule: unknown }>((tie) => ({
  rule: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean(), fc.constant(null)),
    jsonLogicVar,
    fc
      .tuple(
        fc.constantFrom(
          '==',
          '!=',
          '===',
          '<',
          '<=',
          '>',
          '>=',
          'in',
          'starts_with',
          'ends_with',
          'sem_ver',
          'merge',
          'cat',
        ),
        fc.array(fc.oneof(jsonLogicVar, tie('rule')), { maxLength: 3 }),
      )
      .map(([op, args]) => ({ [op]: args })),
    fc
      .tuple(fc.constantFrom('and', 'or', 'if', '!', '!!'), fc.array(tie('rule'), { maxLength: 4 }))
      .map(([op, args]) => ({ [op]: args })),
    fc
      .array(fc.tuple(fc.string({ maxLength: 4 }), fc.oneof(fc.integer({ min: -5, max: 120 }), anyJson)), {
        maxLength: 3,
      })
      .map((buckets) => ({ fractional: buckets })),
    fc.record({ $ref: fc.oneof(fc.constantFrom('staff', 'missing'), anyJson) }),
    anyJson,
  ),
})).rule;

const variantName = fc.stringMatching(/^[a-z][a-z0-9_-]{0,6}$/);

/** Variants of one type, as flagd files have them. */
const variants = fc.oneof(
  fc.constant({ on: true, off: false }),
  fc.dictionary(variantName, fc.string({ maxLength: 6 }), { minKeys: 1, maxKeys: 3 }),
  fc.dictionary(variantName, fc.integer({ min: -1000, max: 1000 }), { minKeys: 1, maxKeys: 3 }),
  fc.dictionary(variantName, fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), anyJson, { maxKeys: 2 }), {
    minKeys: 1,
    maxKeys: 3,
  }),
);

/** A condition flagd writes and Vexil maps. */
const mappedCondition = fc.oneof(
  fc.string({ maxLength: 4 }).map((value) => ({ '==': [{ var: 'country' }, value] })),
  fc
    .array(fc.string({ maxLength: 3 }), { minLength: 1, maxLength: 3 })
    .map((list) => ({ in: [{ var: 'country' }, list] })),
  fc.string({ maxLength: 4 }).map((prefix) => ({ starts_with: [{ var: 'email' }, prefix] })),
  fc.integer({ min: 0, max: 99 }).map((age) => ({ '>=': [{ var: 'age' }, age] })),
  fc
    .tuple(fc.constantFrom('>=', '<', '=', '^', '~'), fc.nat(9), fc.nat(9))
    .map(([op, major, minor]) => ({ sem_ver: [{ var: 'app' }, op, `${major}.${minor}.0`] })),
  fc.constant({ $ref: 'staff' }),
);

/** Targeting over `names` (the flag's variants): mostly what maps, sometimes any JSONLogic. */
function targetingOver(names: readonly string[]): fc.Arbitrary<unknown> {
  const variant = fc.constantFrom(...names);
  const condition = fc.oneof(
    mappedCondition,
    fc.array(mappedCondition, { minLength: 2, maxLength: 3 }).map((all) => ({ and: all })),
  );
  const split = fc
    .array(variant, { minLength: 1, maxLength: 3 })
    .map((picked) => ({ fractional: picked.map((name, i) => [name, i === 0 ? 100 - (picked.length - 1) * 10 : 10]) }));
  return mostly(
    fc.oneof(
      fc.tuple(condition, variant, fc.oneof(variant, fc.constant(null))).map((branches) => ({ if: branches })),
      fc.tuple(condition, variant, split).map((branches) => ({ if: branches })),
      split,
    ),
    jsonLogic,
  );
}

const flagdFlag = variants.chain((given) => {
  const names = Object.keys(given);
  return fc.record(
    {
      state: mostly(fc.constantFrom('ENABLED', 'DISABLED'), anyJson),
      variants: mostly(fc.constant(given), anyJson),
      defaultVariant: mostly(fc.oneof(fc.constantFrom(...names), fc.constant(null)), anyJson),
      targeting: targetingOver(names),
      metadata: mostly(
        fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
        anyJson,
      ),
    },
    { requiredKeys: ['state', 'variants', 'defaultVariant'] },
  );
});

/** A flagd flag definition file: flags with variants, states, default variants, targeting and metadata. */
export const flagdFile = fc.record(
  {
    $schema: fc.constant('https://flagd.dev/schema/v0/flags.json'),
    metadata: mostly(
      fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
      anyJson,
    ),
    $evaluators: mostly(fc.record({ staff: mappedCondition }), anyJson),
    flags: mostly(fc.dictionary(flagName, flagdFlag, { minKeys: 1, maxKeys: 3 }), anyJson),
  },
  { requiredKeys: ['flags'] },
);
