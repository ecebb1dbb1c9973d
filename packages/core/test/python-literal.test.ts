import { parsePythonLiteral } from '@vexil/core/runbook';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';

function errorOf(text: string, options?: { field?: string }): InvalidInputError {
  try {
    parsePythonLiteral(text, options);
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

/** The class, the field, the position and the words that say what to do. */
function expectRejected(text: string, line: number, column: number, ...phrases: string[]): InvalidInputError {
  const error = errorOf(text);
  expect(error).toBeInstanceOf(InvalidInputError);
  expect(error.field).toBe('row_cell_value');
  expect(error.message).toContain(`line ${line}, column ${column}`);
  for (const phrase of phrases) expect(error.message).toContain(phrase);
  return error;
}

describe('parsePythonLiteral: values', () => {
  it('parses single- and double-quoted strings', () => {
    expect(parsePythonLiteral("'it works'")).toBe('it works');
    expect(parsePythonLiteral('"it\'s"')).toBe("it's");
    expect(parsePythonLiteral(`'say "hi"'`)).toBe('say "hi"');
    expect(parsePythonLiteral("''")).toBe('');
  });

  it('parses True, False and None', () => {
    expect(parsePythonLiteral('True')).toBe(true);
    expect(parsePythonLiteral('False')).toBe(false);
    expect(parsePythonLiteral('None')).toBeNull();
  });

  it('parses integers with a sign and underscore separators', () => {
    expect(parsePythonLiteral('40')).toBe(40);
    expect(parsePythonLiteral('-7')).toBe(-7);
    expect(parsePythonLiteral('+7')).toBe(7);
    expect(parsePythonLiteral('- 7')).toBe(-7);
    expect(parsePythonLiteral('1_000_000')).toBe(1_000_000);
    expect(parsePythonLiteral('0')).toBe(0);
    expect(Object.is(parsePythonLiteral('-0'), 0)).toBe(true);
    expect(parsePythonLiteral(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(parsePythonLiteral(`-${Number.MAX_SAFE_INTEGER}`)).toBe(-Number.MAX_SAFE_INTEGER);
  });

  it('parses hex, octal and binary integers', () => {
    expect(parsePythonLiteral('0xff')).toBe(255);
    expect(parsePythonLiteral('0o17')).toBe(15);
    expect(parsePythonLiteral('0b101')).toBe(5);
    expect(parsePythonLiteral('-0x_10')).toBe(-16);
  });

  it('parses floats in each Python form', () => {
    expect(parsePythonLiteral('1.5')).toBe(1.5);
    expect(parsePythonLiteral('.5')).toBe(0.5);
    expect(parsePythonLiteral('5.')).toBe(5);
    expect(parsePythonLiteral('1e3')).toBe(1000);
    expect(parsePythonLiteral('1.5E-3')).toBe(0.0015);
    expect(parsePythonLiteral('-2.5')).toBe(-2.5);
    expect(parsePythonLiteral('33.33')).toBe(33.33);
    expect(parsePythonLiteral('1_000.5')).toBe(1000.5);
  });

  it('parses lists, dicts and their nesting', () => {
    expect(parsePythonLiteral('[]')).toStrictEqual([]);
    expect(parsePythonLiteral('{}')).toStrictEqual({});
    expect(parsePythonLiteral("[1, 'two', [True, None], {'k': [3.5]}]")).toStrictEqual([
      1,
      'two',
      [true, null],
      { k: [3.5] },
    ]);
    expect(
      parsePythonLiteral(
        "{ 'Treatments': [{ 'OverrideList': ['A12345'], 'PercentRollout': 40, 'Value': True }], 'ControlValue': False }",
      ),
    ).toStrictEqual({
      Treatments: [{ OverrideList: ['A12345'], PercentRollout: 40, Value: true }],
      ControlValue: false,
    });
  });

  it('keeps dict keys in source order', () => {
    expect(Object.keys(parsePythonLiteral("{'b': 1, 'a': 2, 'c': 3}") as object)).toStrictEqual(['b', 'a', 'c']);
  });

  it('parses tuples as arrays and a parenthesized value as the value itself', () => {
    expect(parsePythonLiteral('()')).toStrictEqual([]);
    expect(parsePythonLiteral('(1,)')).toStrictEqual([1]);
    expect(parsePythonLiteral("(1, 'a', (2, 3))")).toStrictEqual([1, 'a', [2, 3]]);
    expect(parsePythonLiteral('(1)')).toBe(1);
    expect(parsePythonLiteral("(('a'))")).toBe('a');
  });

  it('allows a trailing comma in lists, tuples and dicts', () => {
    expect(parsePythonLiteral('[1, 2,]')).toStrictEqual([1, 2]);
    expect(parsePythonLiteral('(1, 2, )')).toStrictEqual([1, 2]);
    expect(parsePythonLiteral("{'a': 1, }")).toStrictEqual({ a: 1 });
  });

  it('allows whitespace and newlines between tokens', () => {
    const text = "\n  {\r\n\t'a' :\n [ 1 ,\n 2 ] ,\f 'b'\n:\nNone\n}\n  ";
    expect(parsePythonLiteral(text)).toStrictEqual({ a: [1, 2], b: null });
  });

  it('decodes Python escapes', () => {
    expect(parsePythonLiteral(String.raw`'a\\b \' \" \n \r \t \0'`)).toBe('a\\b \' " \n \r \t \0');
    expect(parsePythonLiteral(String.raw`'\a\b\f\v'`)).toBe('\x07\b\f\v');
    expect(parsePythonLiteral(String.raw`'\x41\u00e9\U0001F600'`)).toBe('Aé😀');
    expect(parsePythonLiteral(String.raw`'\101\60\0'`)).toBe('A0\0');
    expect(parsePythonLiteral("'line \\\ncontinued'")).toBe('line continued');
  });

  it('keeps the backslash of an unknown escape, as Python does', () => {
    expect(parsePythonLiteral(String.raw`'^\d+\.\w$'`)).toBe('^\\d+\\.\\w$');
  });

  it('joins adjacent string literals', () => {
    expect(parsePythonLiteral("'a' 'b'")).toBe('ab');
    expect(parsePythonLiteral(`'one, '\n  "two, "   'three'`)).toBe('one, two, three');
    expect(parsePythonLiteral("{'Comment': 'Rollout ' 'to 40%'}")).toStrictEqual({ Comment: 'Rollout to 40%' });
  });

  it('reads r and u prefixes, raw strings keeping their backslashes', () => {
    expect(parsePythonLiteral(String.raw`r'\d+\n'`)).toBe('\\d+\\n');
    expect(parsePythonLiteral(String.raw`R"a\"b"`)).toBe('a\\"b');
    expect(parsePythonLiteral("u'plain'")).toBe('plain');
    expect(parsePythonLiteral(String.raw`u'\n' r'\n'`)).toBe('\n\\n');
  });

  it('reads triple-quoted strings across lines', () => {
    expect(parsePythonLiteral("'''first\nsecond'''")).toBe('first\nsecond');
    expect(parsePythonLiteral(`"""it's "quoted" """`)).toBe('it\'s "quoted" ');
  });

  it('keeps non-ASCII text as it is', () => {
    expect(parsePythonLiteral("{'Description': 'Ünïcode ✓ 😀'}")).toStrictEqual({ Description: 'Ünïcode ✓ 😀' });
  });

  it('stores a __proto__ key as an ordinary own key', () => {
    const dict = parsePythonLiteral("{'__proto__': {'polluted': True}}") as Record<string, unknown>;
    expect(Object.keys(dict)).toStrictEqual(['__proto__']);
    expect(Object.getPrototypeOf(dict)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parsePythonLiteral: errors', () => {
  it.each([
    ['true', 'True'],
    ['false', 'False'],
    ['null', 'None'],
    ['undefined', 'None'],
  ])('rejects the JSON spelling %s and says to use True/False/None', (word, fix) => {
    const error = expectRejected(`{'Value': ${word}}`, 1, 11, `got ${word}`, 'use True/False/None', `write ${fix}`);
    expect(error.hint).toContain('use True/False/None');
  });

  it('rejects a string left open at the end of input', () => {
    expectRejected("{'Name': 'multi_step", 1, 10, 'unterminated string', "no closing ' before end of input");
  });

  it('rejects a single-quoted string that runs into a new line', () => {
    expectRejected(
      "{'Name':\n  'multi\nstep'}",
      2,
      3,
      'unterminated string',
      'before end of line 2',
      'adjacent strings',
    );
  });

  it('rejects an unclosed list and names where it was opened', () => {
    expectRejected(
      "{'a': [1, 2",
      1,
      12,
      "expected ',' or ']'",
      'got end of input',
      "list opened with '[' at line 1, column 7",
    );
    expectRejected('[1,', 1, 4, "expected a list item or ']'", 'not closed');
  });

  it('rejects a closing bracket of the wrong kind', () => {
    expectRejected("{'a': [1, 2}", 1, 12, "expected ',' or ']'", "got '}'", 'not closed');
    expectRejected("{'a': 1]", 1, 8, "expected ',' or '}'", "got ']'", "dict opened with '{' at line 1, column 1");
    expectRejected('(1, 2]', 1, 6, "expected ',' or ')'", "got ']'", 'tuple opened');
  });

  it('rejects a closing bracket that closes nothing', () => {
    expectRejected("{'a': 1}}", 1, 9, 'expected end of input', "got '}'", 'unbalanced');
  });

  it('rejects a dict key that is not a string', () => {
    expectRejected("{'a': 1, 2: 'b'}", 1, 10, 'dict keys must be strings', 'got the number 2');
    expectRejected('{None: 1}', 1, 2, 'dict keys must be strings', 'got None');
    expectRejected("{('a',): 1}", 1, 2, 'dict keys must be strings', 'got the list');
  });

  it('rejects an unquoted dict key and shows it quoted', () => {
    expectRejected('{Name: 1}', 1, 2, 'expected a dict key (a quoted string)', 'got Name', "quote it: 'Name'");
  });

  it('rejects a duplicate dict key and names the first one', () => {
    const text = "{\n  'Name': 'a',\n  'Type': 'FEATURE',\n  'Name': 'b'\n}";
    expectRejected(text, 4, 3, "duplicate dict key 'Name'", 'first at line 2, column 3');
  });

  it('rejects a dict key without a value', () => {
    expectRejected("{'a', 'b'}", 1, 5, "expected ':' after the dict key 'a'", "got ','");
  });

  it('rejects a missing comma between items', () => {
    expectRejected("['a' 1]", 1, 6, "expected ',' or ']' after a list item", 'got 1');
  });

  it('rejects a doubled comma', () => {
    expectRejected('[1,, 2]', 1, 4, 'expected a list item', "got ','");
  });

  it('rejects anything after the value', () => {
    expectRejected("{'a': 1} extra", 1, 10, 'expected end of input after the value', 'got extra');
  });

  it('rejects empty input', () => {
    expectRejected('   ', 1, 4, 'expected a value', 'got end of input');
  });

  it('rejects integers beyond Number.MAX_SAFE_INTEGER', () => {
    expectRejected('[9007199254740992]', 1, 2, 'integer 9007199254740992 is beyond', 'MAX_SAFE_INTEGER');
    expectRejected('[1, -9_007_199_254_740_993]', 1, 5, 'integer -9_007_199_254_740_993 is beyond');
    expectRejected('0x20000000000000', 1, 1, 'is beyond');
  });

  it('rejects NaN and infinity', () => {
    expectRejected('[nan]', 1, 2, 'got nan', 'NaN and infinity are not supported');
    expectRejected('[-inf]', 1, 3, 'got inf', 'NaN and infinity are not supported');
    expectRejected('Infinity', 1, 1, 'NaN and infinity are not supported');
    expectRejected('[1e999]', 1, 2, 'float 1e999 is out of range', 'infinity is not supported');
  });

  it('rejects malformed numbers', () => {
    expectRejected('[007]', 1, 2, 'leading zeros are not allowed', 'write 7, or 0o7 for octal');
    expectRejected('[1__0]', 1, 2, 'invalid number 1__0', 'underscores go only between digits');
    expectRejected('[1e]', 1, 2, 'invalid number 1e');
    expectRejected('[2j]', 1, 2, 'complex number 2j is not supported');
    expectRejected('--1', 1, 2, "expected a number after '-'", "got '-'");
  });

  it('rejects a bare name and suggests quoting it', () => {
    expectRejected("{'Value': FEATURE}", 1, 11, 'got the name FEATURE', "quote it if it is a string: 'FEATURE'");
  });

  it('rejects malformed escapes', () => {
    expectRejected(String.raw`'\x4g'`, 1, 2, 'invalid \\x escape: expected 2 hex digits');
    expectRejected(String.raw`'\u12'`, 1, 2, 'invalid \\u escape: expected 4 hex digits');
    expectRejected(String.raw`'\U00110000'`, 1, 2, 'beyond U+10FFFF');
    expectRejected(String.raw`'\N{BULLET}'`, 1, 2, '\\N{…} escapes are not supported');
  });

  it('rejects bytes literals and f-strings', () => {
    expectRejected("b'x'", 1, 1, 'bytes literals', 'drop the b prefix');
    expectRejected("f'{x}'", 1, 1, 'f-strings', 'drop the f prefix');
    expectRejected("ur'x'", 1, 1, 'string prefix ur is not valid Python');
  });

  it('rejects characters that start no value', () => {
    expectRejected("{'a': @}", 1, 7, 'expected a value', "got '@'");
    expectRejected("{'a': 1 # comment\n}", 1, 9, "expected ',' or '}'", "got '#'");
  });

  it('rejects nesting deeper than 100 levels', () => {
    expectRejected(`${'['.repeat(101)}${']'.repeat(101)}`, 1, 101, 'nested more than 100 levels deep');
    expect(parsePythonLiteral(`${'['.repeat(100)}${']'.repeat(100)}`)).toBeInstanceOf(Array);
  });

  it('shows the offending line with a caret under the error', () => {
    const error = errorOf("{'a': 1,\n 'b': tru}");
    expect(error.message.split('\n').slice(1)).toStrictEqual(["   'b': tru}", '        ^']);
  });

  it('shortens a long line around the error in the excerpt', () => {
    const text = `{'Description': '${'x'.repeat(200)}', 'Value': yes}`;
    const [, shown, caret] = errorOf(text).message.split('\n') as [string, string, string];
    expect(shown.startsWith('  …')).toBe(true);
    expect(shown.length).toBeLessThan(90);
    expect(shown[caret.indexOf('^')]).toBe('y');
  });

  it('counts columns in characters, not UTF-16 units', () => {
    expectRejected("['😀😀', oops]", 1, 8, 'got the name oops');
  });

  it('names the field given in options in the error and its message', () => {
    const error = errorOf('[1, 2', { field: 'Treatments[0]' });
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe('Treatments[0]');
    expect(error.message).toMatch(/^Treatments\[0\]: line 1, column 6: /);
  });

  it('names row_cell_value by default', () => {
    expect(errorOf('[').message).toMatch(/^row_cell_value: line 1, column 2: /);
  });
});
