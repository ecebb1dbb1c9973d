import { AIRFLOW_CONFIG_KEYS, type PyValue, parseAirflowConfig, parsePythonLiteral } from '@vexil/core/runbook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT_MS, fuzz } from '../../../test/fuzz.js';
import { pythonRendering as rendering, renderPython } from '../../../test/python-literal-text.js';
import { InvalidInputError, isVexilError } from '../src/errors.js';
import { assertProjectName, isFlagName } from '../src/names.js';

/**
 * Property tests of the parsers that read the runbook system's hand-typed files: the
 * Python literals of `row_cell_value` and the Airflow configs `vexil apply` reads.
 * Whatever the text, they answer a value or an InvalidInputError (400) that says
 * where; never another exception.
 */

/** Throws unless `error` is one of Vexil's own client errors. */
function expectClientError(error: unknown): void {
  if (!isVexilError(error) || error.status !== 400) throw error;
}

// ---------------------------------------------------------------- Python literals

/** Dict keys, with the names that would be prototype pollution in a careless parser. */
const dictKey = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', ''));

const pyValue: fc.Arbitrary<PyValue> = fc.letrec<{ value: PyValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    // -0 reads as 0 in Python too.
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.uniqueArray(fc.tuple(dictKey, tie('value')), { maxLength: 4, selector: ([key]) => key }).map((entries) => {
      const dict: { [key: string]: PyValue } = {};
      for (const [key, item] of entries)
        Object.defineProperty(dict, key, { value: item, enumerable: true, writable: true, configurable: true });
      return dict;
    }),
  ),
})).value;

/** Text made of Python-literal tokens and their near misses: reaches deeper into the parser than random text. */
const tokenSoup = fc
  .array(
    fc.constantFrom(
      "'",
      '"',
      "'''",
      '"""',
      '[',
      ']',
      '(',
      ')',
      '{',
      '}',
      ',',
      ':',
      'True',
      'False',
      'None',
      'true',
      'null',
      '1',
      '-',
      '+',
      '.',
      'e',
      '_',
      '0x',
      '0o',
      '0b',
      '\\',
      '\\x',
      '\\u',
      '\\N{',
      'r',
      'u',
      'b',
      ' ',
      '\n',
      '#',
      'nan',
      'inf',
    ),
    { maxLength: 40 },
  )
  .map((tokens) => tokens.join(''));

describe('parsePythonLiteral, for any text', () => {
  it(
    'answers a value or an InvalidInputError naming row_cell_value',
    async () => {
      await fuzz(
        fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), tokenSoup), (text) => {
          try {
            parsePythonLiteral(text);
          } catch (error) {
            expectClientError(error);
            expect((error as InvalidInputError).field).toBe('row_cell_value');
          }
        }),
        2000,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'reads back every value it can be given, however it is written',
    async () => {
      await fuzz(
        fc.property(pyValue, rendering, (value, style) => {
          const parsed = parsePythonLiteral(renderPython(value, style));
          // toEqual and the JSON text: a dict's own `constructor` key would confuse toStrictEqual's type check.
          expect(parsed).toEqual(value);
          expect(JSON.stringify(parsed)).toBe(JSON.stringify(value));
        }),
        1000,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'answers a value or an InvalidInputError for a valid literal with one character dropped or added',
    async () => {
      await fuzz(
        fc.property(pyValue, rendering, fc.nat(), fc.string({ maxLength: 1 }), (value, style, at, inserted) => {
          const text = renderPython(value, style);
          const i = at % (text.length + 1);
          for (const changed of [text.slice(0, i) + text.slice(i + 1), text.slice(0, i) + inserted + text.slice(i)]) {
            try {
              parsePythonLiteral(changed);
            } catch (error) {
              expectClientError(error);
            }
          }
        }),
        1000,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it('refuses nesting 10,000 deep with an InvalidInputError, not a stack overflow', () => {
    for (const [open, close] of [
      ['[', ']'],
      ['(', ')'],
      ["{'a':", '}'],
    ]) {
      expect(() => parsePythonLiteral(open!.repeat(10_000) + close!.repeat(10_000))).toThrow(InvalidInputError);
    }
  });
});

// ---------------------------------------------------------------- Airflow configs

const name = fc.stringMatching(/^[a-z0-9_][a-z0-9_.-]{0,30}$/).filter(isFlagName);
const project = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,30}$/).filter((text) => {
  try {
    assertProjectName(text);
    return true;
  } catch {
    return false;
  }
});

/** A value for one config key: mostly well-formed, often not. */
const configValue = (key: (typeof AIRFLOW_CONFIG_KEYS)[number]): fc.Arbitrary<unknown> => {
  const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 10 }));
  switch (key) {
    case 'row_key_prefix_PROJECT':
      return fc.oneof(project, junk);
    case 'row_key_prefix_FLAGNAME':
      return fc.oneof(name, junk);
    case 'row_key_prefix_ROWTYPE':
      return fc.oneof(fc.constantFrom('FLAG', 'REVISION', 'flag', 'SEGMENT'), junk);
    case 'row_key_prefix_FLAGTYPE':
      return fc.oneof(fc.constantFrom('feature', 'data', 'number', 'json', 'segment', 'FEATURE'), junk);
    case 'row_cell_value':
      return fc.oneof(
        fc.tuple(pyValue, rendering).map(([value, style]) => renderPython(value, style)),
        fc.constantFrom("{ 'ControlValue': False, 'Treatments': [] }", "{ 'Description': 'x' }"),
        tokenSoup,
        junk,
      );
    case 'add_new_feature_flag':
      return fc.oneof(fc.boolean(), fc.constantFrom('true', 'False', 0, 1), junk);
  }
};

const airflowConfig = fc.record(
  Object.fromEntries(AIRFLOW_CONFIG_KEYS.map((key) => [key, configValue(key)])) as Record<
    (typeof AIRFLOW_CONFIG_KEYS)[number],
    fc.Arbitrary<unknown>
  >,
  { requiredKeys: [] },
);

describe('parseAirflowConfig, for any file', () => {
  it(
    'answers a config or a 400 whose message names the file',
    async () => {
      const text = fc.oneof(
        airflowConfig.map((config) => JSON.stringify(config)),
        fc
          .tuple(
            airflowConfig,
            fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
          )
          .map(([config, extra]) => JSON.stringify({ ...extra, ...config })),
        fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
        fc.string({ unit: 'binary', maxLength: 80 }),
      );
      await fuzz(
        fc.property(text, (input) => {
          try {
            const parsed = parseAirflowConfig(input, 'dag/fuzz.json');
            expect(parsed.addNewFeatureFlag).toBe(parsed.kind === 'FLAG');
          } catch (error) {
            expectClientError(error);
            expect((error as Error).message.startsWith('dag/fuzz.json: ')).toBe(true);
          }
        }),
        2000,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'reads every well-formed config back to its row',
    async () => {
      await fuzz(
        fc.property(
          project,
          name,
          fc.constantFrom('feature', 'data'),
          fc.boolean(),
          (projectName, flag, flagType, adds) => {
            const cell = adds ? "{ 'Description': 'fuzz' }" : "{ 'ControlValue': None, 'Treatments': [] }";
            const parsed = parseAirflowConfig(
              JSON.stringify({
                row_key_prefix_PROJECT: projectName,
                row_key_prefix_ROWTYPE: adds ? 'FLAG' : 'REVISION',
                row_key_prefix_FLAGTYPE: flagType,
                row_key_prefix_FLAGNAME: flag,
                row_cell_value: cell,
                add_new_feature_flag: adds,
              }),
            );
            expect(parsed.ref).toEqual({ project: projectName, flagType, name: flag });
            expect(parsed.kind).toBe(adds ? 'FLAG' : 'REVISION');
          },
        ),
        300,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
