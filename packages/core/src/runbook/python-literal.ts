/**
 * Parses the Python literals the runbook system's Airflow configs hold in
 * `row_cell_value`: the subset of `ast.literal_eval` those configs use.
 *
 * Hand-written rather than borrowed, because:
 * - the format is Python's own literal syntax (single quotes, True/False/None,
 *   tuples, adjacent string concatenation), which no JSON or JSON5 parser reads;
 * - the strings are typed by hand into configs, so every error has to point at an
 *   exact line and column and say what was expected there;
 * - `@vexil/core` takes no runtime dependencies.
 *
 * Accepted:
 * - strings in '…' or "…" (also triple-quoted), with an optional r/u prefix and
 *   Python's escapes; adjacent strings are joined ('a' 'b' is 'ab'); an unknown
 *   escape such as \d keeps its backslash, as in Python;
 * - True, False, None;
 * - integers (decimal with `_` separators, 0x/0o/0b) within ±Number.MAX_SAFE_INTEGER,
 *   and finite floats (1.5, .5, 5., 1e3), each with an optional leading sign;
 * - lists [...] and tuples (...), both as arrays; `(x)` is just x, as in Python;
 * - dicts {...} with string keys, each key once;
 * - trailing commas, and whitespace (newlines included) between tokens.
 *
 * Everything else (JSON's true/false/null, sets, bytes, f-strings, complex numbers,
 * NaN, infinity, names, calls, comments) is an {@link InvalidInputError}.
 */
import { InvalidInputError } from '../errors.js';

/** A value `ast.literal_eval` can return, as JSON-shaped data: tuples become arrays. */
export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

export interface PythonLiteralOptions {
  /** The field named in errors; `row_cell_value` when absent. */
  field?: string;
}

const DEFAULT_FIELD = 'row_cell_value';
/** Deeper nesting than any flag needs; keeps hostile input from exhausting the stack. */
const MAX_DEPTH = 100;
/** Characters of the offending line shown on either side of the caret. */
const EXCERPT_RADIUS = 40;

const VALUE_KINDS = 'a quoted string, a number, True, False, None, a list, a tuple or a dict';

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const HEX_INT = /0[xX](?:_?[0-9a-fA-F])+/y;
const OCT_INT = /0[oO](?:_?[0-7])+/y;
const BIN_INT = /0[bB](?:_?[01])+/y;
const DECIMAL = /(\d(?:_?\d)*)?(\.(?:\d(?:_?\d)*)?)?([eE][+-]?\d(?:_?\d)*)?/y;
const WORD_CHAR = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;

export function parsePythonLiteral(text: string, options: PythonLiteralOptions = {}): PyValue {
  return new Parser(text, options.field ?? DEFAULT_FIELD).parseDocument();
}

type Closer = ']' | ')' | '}';

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly field: string,
  ) {}

  parseDocument(): PyValue {
    this.skipWhitespace();
    const value = this.parseValue();
    this.skipWhitespace();
    if (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      this.fail(
        this.pos,
        `expected end of input after the value, got ${this.describeToken(this.pos)}`,
        ch !== undefined && isCloser(ch) ? `this '${ch}' closes nothing: the brackets are unbalanced` : undefined,
      );
    }
    return value;
  }

  private parseValue(): PyValue {
    const start = this.pos;
    const ch = this.text[start];
    if (ch === undefined) this.fail(start, `expected a value (${VALUE_KINDS}), got end of input`);
    if (ch === '{') return this.parseDict();
    if (ch === '[') {
      this.enter(start);
      this.pos += 1;
      return this.parseSequence('[', ']', 'list', start);
    }
    if (ch === '(') return this.parseParenthesized();
    if (ch === '+' || ch === '-') return this.parseSigned();
    if (DIGIT.test(ch) || (ch === '.' && DIGIT.test(this.text[start + 1] ?? ''))) return this.parseNumber(1);
    if (this.stringPrefixAt(start) !== undefined) return this.parseStrings();
    if (/[A-Za-z_]/.test(ch)) return this.parseName();
    this.fail(start, `expected a value (${VALUE_KINDS}), got ${this.describeToken(start)}`);
  }

  // ── containers ──────────────────────────────────────────────────────────────

  private enter(start: number): void {
    this.depth += 1;
    if (this.depth > MAX_DEPTH) this.fail(start, `values are nested more than ${MAX_DEPTH} levels deep`);
  }

  /** The rest of a list after its '[', or of a tuple after its first item and comma. */
  private parseSequence(open: '[' | '(', close: Closer, kind: 'list' | 'tuple', openAt: number): PyValue[] {
    const items: PyValue[] = [];
    for (;;) {
      this.skipWhitespace();
      const next = this.text[this.pos];
      if (next === close) break;
      if (next === undefined || next === ',' || isCloser(next)) {
        this.fail(
          this.pos,
          `expected a ${kind} item or '${close}', got ${this.describeToken(this.pos)}`,
          next === ',' ? undefined : this.openedAt(kind, open, openAt),
        );
      }
      items.push(this.parseValue());
      this.skipWhitespace();
      const ch = this.text[this.pos];
      if (ch === ',') {
        this.pos += 1;
        continue;
      }
      if (ch === close) break;
      this.fail(
        this.pos,
        `expected ',' or '${close}' after a ${kind} item, got ${this.describeToken(this.pos)}`,
        this.openedAt(kind, open, openAt),
      );
    }
    this.pos += 1; // the closing bracket
    this.depth -= 1;
    return items;
  }

  /** `()` is an empty tuple, `(x,)` and `(x, y)` are tuples, `(x)` is just x. */
  private parseParenthesized(): PyValue {
    const start = this.pos;
    this.enter(start);
    this.pos += 1;
    this.skipWhitespace();
    if (this.text[this.pos] === ')') {
      this.pos += 1;
      this.depth -= 1;
      return [];
    }
    const first = this.parseValue();
    this.skipWhitespace();
    const ch = this.text[this.pos];
    if (ch === ')') {
      this.pos += 1;
      this.depth -= 1;
      return first;
    }
    if (ch === ',') {
      this.pos += 1;
      return [first, ...this.parseSequence('(', ')', 'tuple', start)];
    }
    this.fail(
      this.pos,
      `expected ',' or ')' after a tuple item, got ${this.describeToken(this.pos)}`,
      this.openedAt('tuple', '(', start),
    );
  }

  private parseDict(): { [key: string]: PyValue } {
    const start = this.pos;
    this.enter(start);
    this.pos += 1;
    const dict: { [key: string]: PyValue } = {};
    const keyOffsets = new Map<string, number>();
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] === '}') break;
      const keyStart = this.pos;
      const key = this.parseDictKey(start);
      const firstAt = keyOffsets.get(key);
      if (firstAt !== undefined) {
        const first = locate(this.text, firstAt);
        this.fail(
          keyStart,
          `duplicate dict key ${pyQuote(key)} (first at line ${first.line}, column ${first.column})`,
          'each key may appear once: remove one of them',
        );
      }
      keyOffsets.set(key, keyStart);
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') {
        this.fail(this.pos, `expected ':' after the dict key ${pyQuote(key)}, got ${this.describeToken(this.pos)}`);
      }
      this.pos += 1;
      this.skipWhitespace();
      // defineProperty, so a key such as "__proto__" is stored as data like any other.
      Object.defineProperty(dict, key, {
        value: this.parseValue(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skipWhitespace();
      const ch = this.text[this.pos];
      if (ch === ',') {
        this.pos += 1;
        continue;
      }
      if (ch === '}') break;
      this.fail(
        this.pos,
        `expected ',' or '}' after a dict value, got ${this.describeToken(this.pos)}`,
        this.openedAt('dict', '{', start),
      );
    }
    this.pos += 1;
    this.depth -= 1;
    return dict;
  }

  private parseDictKey(openAt: number): string {
    const start = this.pos;
    const ch = this.text[start];
    if (ch === undefined || ch === ',' || ch === ':' || isCloser(ch)) {
      this.fail(
        start,
        `expected a dict key (a quoted string) or '}', got ${this.describeToken(start)}`,
        ch === undefined || isCloser(ch) ? this.openedAt('dict', '{', openAt) : undefined,
      );
    }
    if (this.stringPrefixAt(start) === undefined) {
      NAME.lastIndex = start;
      const word = NAME.exec(this.text)?.[0];
      if (word !== undefined && word !== 'True' && word !== 'False' && word !== 'None') {
        this.fail(start, `expected a dict key (a quoted string), got ${word}`, `quote it: '${word}'`);
      }
    }
    const key = this.parseValue();
    if (typeof key !== 'string') {
      this.fail(start, `dict keys must be strings, got ${kindOf(key)} ${this.text.slice(start, this.pos)}`);
    }
    return key;
  }

  // ── strings ─────────────────────────────────────────────────────────────────

  /** The prefix (possibly empty) when a string literal starts at `offset`. */
  private stringPrefixAt(offset: number): string | undefined {
    for (let length = 0; length <= 2; length += 1) {
      const ch = this.text[offset + length];
      if (ch === "'" || ch === '"') return this.text.slice(offset, offset + length);
      if (ch === undefined || !/[rRuUbBfF]/.test(ch)) return undefined;
    }
    return undefined;
  }

  /** One string, or several adjacent ones joined, as Python does. */
  private parseStrings(): string {
    let value = this.parseString();
    for (;;) {
      const before = this.pos;
      this.skipWhitespace();
      if (this.stringPrefixAt(this.pos) === undefined) {
        this.pos = before;
        return value;
      }
      value += this.parseString();
    }
  }

  private parseString(): string {
    const start = this.pos;
    const prefix = this.stringPrefixAt(start) ?? '';
    const lower = prefix.toLowerCase();
    if (lower.includes('b')) this.fail(start, `bytes literals (${prefix}'…') are not supported`, 'drop the b prefix');
    if (lower.includes('f')) this.fail(start, `f-strings (${prefix}'…') are not literals`, 'drop the f prefix');
    if (lower.length > 1) this.fail(start, `string prefix ${prefix} is not valid Python`, 'use at most one of r or u');
    const raw = lower === 'r';
    this.pos += prefix.length;
    const quote = this.text[this.pos] as "'" | '"';
    const triple = this.text.startsWith(quote.repeat(3), this.pos);
    const closing = triple ? quote.repeat(3) : quote;
    this.pos += closing.length;
    let value = '';
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined) {
        this.fail(
          start,
          `unterminated string: no closing ${closing} before end of input`,
          `end the string with ${closing}`,
        );
      }
      if (this.text.startsWith(closing, this.pos)) {
        this.pos += closing.length;
        return value;
      }
      if (!triple && (ch === '\n' || ch === '\r')) {
        this.fail(
          start,
          `unterminated string: no closing ${quote} before end of line ${locate(this.text, this.pos).line}`,
          `close the string on the same line; to go on, start another string (adjacent strings are joined), or use ${quote.repeat(3)}`,
        );
      }
      if (ch !== '\\') {
        value += ch;
        this.pos += 1;
      } else if (raw) {
        // A raw string keeps the backslash and whatever follows it, even its quote.
        const next = this.text[this.pos + 1];
        value += ch + (next ?? '');
        this.pos += next === undefined ? 1 : 2; // at the end: reported as unterminated on the next turn
      } else {
        value += this.parseEscape();
      }
    }
  }

  private parseEscape(): string {
    const at = this.pos;
    const next = this.text[at + 1];
    this.pos += 2;
    switch (next) {
      case undefined:
        this.pos = at + 1;
        return '';
      case '\n':
        return '';
      case '\r':
        if (this.text[this.pos] === '\n') this.pos += 1;
        return '';
      case '\\':
      case "'":
      case '"':
        return next;
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'v':
        return '\v';
      case 'x':
        return String.fromCharCode(this.hexDigits(at, 2, '\\x'));
      case 'u':
        return String.fromCharCode(this.hexDigits(at, 4, '\\u'));
      case 'U': {
        const codePoint = this.hexDigits(at, 8, '\\U');
        if (codePoint > 0x10ffff) this.fail(at, `\\U escape ${this.text.slice(at, this.pos)} is beyond U+10FFFF`);
        return String.fromCodePoint(codePoint);
      }
      case 'N':
        this.fail(at, '\\N{…} escapes are not supported', 'write the character itself or a \\uXXXX escape');
    }
    if (/[0-7]/.test(next)) {
      let digits = next;
      while (digits.length < 3 && /[0-7]/.test(this.text[this.pos] ?? '')) {
        digits += this.text[this.pos];
        this.pos += 1;
      }
      return String.fromCharCode(Number.parseInt(digits, 8));
    }
    // Python keeps unknown escapes, backslash and all ('\d' is two characters).
    return `\\${next}`;
  }

  private hexDigits(escapeStart: number, count: number, sequence: string): number {
    const digits = this.text.slice(this.pos, this.pos + count);
    if (!new RegExp(`^[0-9a-fA-F]{${count}}$`).test(digits)) {
      this.fail(
        escapeStart,
        `invalid ${sequence} escape: expected ${count} hex digits, got ${this.text.slice(escapeStart, this.pos + count)}`,
        'write a literal backslash as \\\\',
      );
    }
    this.pos += count;
    return Number.parseInt(digits, 16);
  }

  // ── numbers ─────────────────────────────────────────────────────────────────

  private parseSigned(): number {
    const start = this.pos;
    const sign = this.text[start] === '-' ? -1 : 1;
    this.pos += 1;
    this.skipWhitespace();
    const ch = this.text[this.pos] ?? '';
    if (!(DIGIT.test(ch) || (ch === '.' && DIGIT.test(this.text[this.pos + 1] ?? '')))) {
      const got = this.describeToken(this.pos);
      const infinite = /^(?:inf|infinity|nan)$/i.test(got);
      this.fail(
        this.pos,
        `expected a number after '${this.text[start]}', got ${got}${infinite ? ': NaN and infinity are not supported' : ''}`,
      );
    }
    return this.parseNumber(sign, start);
  }

  private parseNumber(sign: 1 | -1, start = this.pos): number {
    const at = this.pos;
    let radix = 10;
    let match: RegExpExecArray | null = null;
    for (const [pattern, base] of [
      [HEX_INT, 16],
      [OCT_INT, 8],
      [BIN_INT, 2],
    ] as const) {
      pattern.lastIndex = at;
      match = pattern.exec(this.text);
      if (match) {
        radix = base;
        break;
      }
    }
    if (!match) {
      DECIMAL.lastIndex = at;
      match = DECIMAL.exec(this.text)!;
    }
    this.pos = at + match[0].length;

    // A number runs into nothing word-like: 1_, 1__0, 1e, 0x, 12abc and 1j all stop here.
    if (WORD_CHAR.test(this.text[this.pos] ?? '')) {
      let end = this.pos;
      while (WORD_CHAR.test(this.text[end] ?? '')) end += 1;
      const token = this.text.slice(at, end);
      const complex = /^[0-9._]+[jJ]$/.test(token);
      this.fail(
        at,
        complex ? `complex number ${token} is not supported` : `invalid number ${token}`,
        complex ? undefined : "underscores go only between digits; quote it if it is meant as a string: '…'",
      );
    }

    const token = this.text.slice(start, this.pos);
    const clean = match[0].replace(/_/g, '');
    if (radix !== 10) return this.checkedInteger(sign * Number.parseInt(clean.slice(2), radix), start, token);
    const isFloat = match[2] !== undefined || match[3] !== undefined;
    if (!isFloat) {
      if (/^0+[1-9]/.test(clean)) {
        this.fail(
          at,
          `leading zeros are not allowed in an integer: ${token}`,
          `write ${Number(clean)}, or 0o${clean.replace(/^0+/, '')} for octal`,
        );
      }
      return this.checkedInteger(sign * Number(clean), start, token);
    }
    const value = sign * Number(clean);
    if (!Number.isFinite(value)) {
      this.fail(start, `float ${token} is out of range: infinity is not supported`);
    }
    return value;
  }

  private checkedInteger(value: number, start: number, token: string): number {
    if (!Number.isSafeInteger(value)) {
      this.fail(
        start,
        `integer ${token} is beyond ±${Number.MAX_SAFE_INTEGER} (Number.MAX_SAFE_INTEGER) and cannot be held exactly`,
        'quote it if it is an identifier',
      );
    }
    return value === 0 ? 0 : value; // no -0 for integers
  }

  // ── names ───────────────────────────────────────────────────────────────────

  private parseName(): PyValue {
    const start = this.pos;
    NAME.lastIndex = start;
    const word = NAME.exec(this.text)![0];
    this.pos = start + word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    const lower = word.toLowerCase();
    const fix =
      lower === 'true'
        ? 'True'
        : lower === 'false'
          ? 'False'
          : lower === 'none' || lower === 'null'
            ? 'None'
            : undefined;
    if (fix !== undefined || lower === 'undefined' || lower === 'nil') {
      this.fail(
        start,
        `expected a value, got ${word}`,
        `use True/False/None: write ${fix ?? 'None'} instead of ${word}`,
      );
    }
    if (lower === 'nan' || lower === 'inf' || lower === 'infinity') {
      this.fail(start, `expected a value, got ${word}: NaN and infinity are not supported`);
    }
    this.fail(
      start,
      `expected a value (${VALUE_KINDS}), got the name ${word}`,
      `quote it if it is a string: '${word}'`,
    );
  }

  // ── tokens, positions and errors ────────────────────────────────────────────

  /** Whitespace between tokens, newlines and backslash line continuations included. */
  private skipWhitespace(): void {
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f') {
        this.pos += 1;
      } else if (ch === '\\' && (this.text[this.pos + 1] === '\n' || this.text[this.pos + 1] === '\r')) {
        this.pos += 2;
      } else {
        return;
      }
    }
  }

  private openedAt(kind: string, open: string, offset: number): string {
    const { line, column } = locate(this.text, offset);
    return `the ${kind} opened with '${open}' at line ${line}, column ${column} is not closed`;
  }

  private describeToken(offset: number): string {
    const ch = this.text[offset];
    if (ch === undefined) return 'end of input';
    if (ch === '\n' || ch === '\r') return 'end of line';
    if (this.stringPrefixAt(offset) !== undefined) return 'a string';
    const run = /[A-Za-z0-9_.]+/y;
    run.lastIndex = offset;
    const word = WORD_CHAR.test(ch) ? run.exec(this.text)?.[0] : undefined;
    if (word !== undefined) return word;
    return `'${String.fromCodePoint(this.text.codePointAt(offset)!)}'`;
  }

  private fail(offset: number, message: string, hint?: string): never {
    const { line, column, excerpt } = locate(this.text, offset);
    throw new InvalidInputError(
      `${this.field}: line ${line}, column ${column}: ${message}${hint === undefined ? '' : `; ${hint}`}\n${excerpt}`,
      { field: this.field, hint },
    );
  }
}

function isCloser(ch: string): ch is Closer {
  return ch === ']' || ch === ')' || ch === '}';
}

function kindOf(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return 'the number';
  if (Array.isArray(value)) return 'the list';
  return 'the dict';
}

/** Python's repr of a string key, close enough for messages. */
function pyQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

interface Location {
  /** 1-based. */
  line: number;
  /** 1-based, in characters (code points). */
  column: number;
  /** The line (or up to EXCERPT_RADIUS characters either side) and a caret under the offset. */
  excerpt: string;
}

/** Lines end at \n, \r\n or \r, as in Python. */
function locate(text: string, offset: number): Location {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) {
      line += 1;
      lineStart = i + 1;
    }
  }
  let lineEnd = lineStart;
  while (lineEnd < text.length && text[lineEnd] !== '\n' && text[lineEnd] !== '\r') lineEnd += 1;
  const chars = Array.from(text.slice(lineStart, lineEnd), (ch) => (ch < ' ' || ch === '\x7f' ? ' ' : ch));
  const column = Array.from(text.slice(lineStart, Math.max(lineStart, Math.min(offset, lineEnd)))).length + 1;
  const from = Math.max(0, column - 1 - EXCERPT_RADIUS);
  const to = Math.min(chars.length, column - 1 + EXCERPT_RADIUS);
  const before = from > 0 ? '…' : '';
  const after = to < chars.length ? '…' : '';
  const shown = `${before}${chars.slice(from, to).join('')}${after}`;
  const caret = `${' '.repeat(before.length + column - 1 - from)}^`;
  return { line, column, excerpt: `  ${shown}\n  ${caret}` };
}
