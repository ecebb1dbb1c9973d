/**
 * Values as the feature files write them: every value is text in a step, typed by the
 * step (`a Float-flag … fallback value "0.1"`) or by a table column (`metadata_type`).
 */
export type FlagKind = 'boolean' | 'string' | 'integer' | 'float' | 'object';

export function flagKind(word: string): FlagKind {
  const kind = word.toLowerCase();
  if (kind === 'boolean' || kind === 'string' || kind === 'integer' || kind === 'float' || kind === 'object')
    return kind;
  throw new Error(`unknown flag type in a step: ${word}`);
}

/**
 * The feature files escape quotes inside quoted JSON (`"{\"a\": 1}"`); gherkin keeps
 * the backslashes (a table cell escapes only `\|`, `\\` and `\n`), so they go here.
 */
function unescapeQuotes(text: string): string {
  return text.replaceAll('\\"', '"');
}

export function typedValue(kind: FlagKind | 'number', text: string): unknown {
  switch (kind) {
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw new Error(`not a boolean in a step: ${text}`);
      return text === 'true';
    case 'string':
      return text;
    case 'integer':
      return Number.parseInt(text, 10);
    case 'float':
    case 'number':
      return Number.parseFloat(text);
    case 'object':
      return JSON.parse(unescapeQuotes(text));
  }
}

/** A metadata table's `metadata_type` (String, Integer, Float, Boolean). */
export function metadataValue(type: string, text: string): unknown {
  return typedValue(flagKind(type), text);
}

/** A hooks table's `data_type` and value, where `null` means the field is absent. */
export function detailValue(type: string, text: string): unknown {
  if (text === 'null') return undefined;
  return typedValue(flagKind(type), text);
}
