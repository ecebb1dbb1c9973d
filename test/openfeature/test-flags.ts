/**
 * The flags OpenFeature's gherkin suite expects, as one flagd flag-definition file for
 * `vexil import flagd`.
 *
 * The spec's `test-flags.json` is in the in-memory provider's format: `disabled`,
 * `flagMetadata`, and `contextEvaluator` strings that are code each SDK's harness
 * supplies (the in-memory provider takes a function). Exactly the expressions the file
 * holds are translated here, by hand, into the flagd JSONLogic that means the same: the
 * expression gives a variant name, and `''` gives none, which flagd writes as `null`
 * (the default variant, reason DEFAULT). An expression not in the table stops the run,
 * so a newer test-flags.json cannot be imported half-understood.
 *
 * flagd-testbed's `testing-flags.json` is already flagd's format; of it, only the flags
 * the feature files ask for and test-flags.json lacks are taken (`context-aware`, for
 * the deprecated evaluation.feature): the rest of the testbed's file serves flagd's own
 * suites, and some of it (`$flagd.timestamp`) is refused by the import, rightly.
 */
const email = { var: 'email' };
const CONTEXT_EVALUATORS: Readonly<Record<string, unknown>> = {
  "email == 'ballmer@macrosoft.com' ? 'zero' : ''": { if: [{ '==': [email, 'ballmer@macrosoft.com'] }, 'zero', null] },
  "!customer && email == 'ballmer@macrosoft.com' && age > 10 ? 'internal' : ''": {
    if: [
      {
        and: [{ '!': { var: 'customer' } }, { '==': [email, 'ballmer@macrosoft.com'] }, { '>': [{ var: 'age' }, 10] }],
      },
      'internal',
      null,
    ],
  },
};

interface InMemoryFlag {
  variants: Record<string, unknown>;
  defaultVariant?: string | null;
  disabled?: boolean;
  flagMetadata?: Record<string, unknown> | null;
  contextEvaluator?: string;
}

interface FlagdFlag {
  state: 'ENABLED' | 'DISABLED';
  variants: Record<string, unknown>;
  defaultVariant?: string | null;
  metadata?: Record<string, unknown>;
  targeting?: unknown;
}

/** One in-memory-provider flag as a flagd flag. */
function asFlagd(key: string, flag: InMemoryFlag): FlagdFlag {
  const known = new Set(['variants', 'defaultVariant', 'disabled', 'flagMetadata', 'contextEvaluator']);
  const unknown = Object.keys(flag).filter((field) => !known.has(field));
  if (unknown.length > 0)
    throw new Error(`test-flags.json: flag ${key} has fields this harness does not know: ${unknown}`);
  const out: FlagdFlag = { state: flag.disabled === true ? 'DISABLED' : 'ENABLED', variants: flag.variants };
  if ('defaultVariant' in flag) out.defaultVariant = flag.defaultVariant;
  if (flag.flagMetadata) out.metadata = flag.flagMetadata;
  if (flag.contextEvaluator !== undefined) {
    const targeting = CONTEXT_EVALUATORS[flag.contextEvaluator];
    if (targeting === undefined) {
      throw new Error(
        `test-flags.json: flag ${key}: no JSONLogic translation for ${JSON.stringify(flag.contextEvaluator)}`,
      );
    }
    out.targeting = targeting;
  }
  return out;
}

/**
 * The flagd file to import: every flag of test-flags.json, plus the testbed flags among
 * `wanted` (the keys the feature files name) that test-flags.json does not have.
 */
export function suiteFlags(
  testFlags: Record<string, InMemoryFlag>,
  testbed: { flags: Record<string, unknown> },
  wanted: ReadonlySet<string>,
): { flags: Record<string, unknown> } {
  const flags: Record<string, unknown> = {};
  for (const [key, flag] of Object.entries(testFlags)) flags[key] = asFlagd(key, flag);
  for (const [key, flag] of Object.entries(testbed.flags)) {
    if (wanted.has(key) && !(key in flags)) flags[key] = flag;
  }
  return { flags };
}
