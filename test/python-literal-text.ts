import type { PyValue } from '@vexil/core/runbook';
import fc from 'fast-check';

/**
 * Python-literal text for property tests of the parsers of `row_cell_value`: a value
 * written out with the variations Python's syntax allows (either quote, spacing and
 * newlines between tokens, trailing commas, tuples for lists).
 */

export interface Rendering {
  quote: "'" | '"';
  space: string;
  trailingComma: boolean;
  tuple: boolean;
}

function quoted(text: string, quote: "'" | '"'): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  return quote === '"' ? `"${escaped}"` : `'${escaped.replaceAll('\\"', '"').replaceAll("'", "\\'")}'`;
}

export function renderPython(value: PyValue, style: Rendering): string {
  const s = style.space;
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    // A whole number past the safe integers is a float in Python only when written as one.
    const text = String(value);
    return Number.isSafeInteger(value) || /[.e]/.test(text) ? text : `${text}.0`;
  }
  if (typeof value === 'string') return quoted(value, style.quote);
  if (Array.isArray(value)) {
    const items = value.map((item) => renderPython(item, style));
    if (style.tuple) {
      // A one-item tuple needs its comma; `(x)` is x.
      const comma = style.trailingComma || items.length === 1 ? ',' : '';
      return `(${s}${items.join(`,${s}`)}${items.length > 0 ? comma : ''}${s})`;
    }
    return `[${s}${items.join(`,${s}`)}${style.trailingComma && items.length > 0 ? ',' : ''}${s}]`;
  }
  const entries = Object.entries(value).map(
    ([key, item]) => `${quoted(key, style.quote)}${s}:${s}${renderPython(item, style)}`,
  );
  return `{${s}${entries.join(`,${s}`)}${style.trailingComma && entries.length > 0 ? ',' : ''}${s}}`;
}

/** Every way of writing a value that `renderPython` knows. */
export const pythonRendering: fc.Arbitrary<Rendering> = fc.record({
  quote: fc.constantFrom("'" as const, '"' as const),
  space: fc.constantFrom('', ' ', '\n  '),
  trailingComma: fc.boolean(),
  tuple: fc.boolean(),
});
