/**
 * What an evaluation is asked for: `targetingKey` (the id that overrides list and
 * percentages hash) and any other attributes, looked up by exact name.
 */
export interface EvaluationContext {
  readonly targetingKey?: string | undefined;
  readonly [attribute: string]: unknown;
}

/**
 * The context's targeting key, or undefined when it has none: a key that is not a
 * non-empty string is no key (the protocols refuse it before; an SDK caller may not).
 */
export function targetingKeyOf(context: EvaluationContext): string | undefined {
  const key = context.targetingKey;
  return typeof key === 'string' && key.length !== 0 ? key : undefined;
}

/** A segment compiled for membership checks. */
export interface CompiledSegment {
  readonly name: string;
  /** An archived segment has no members. */
  readonly archived: boolean;
  contains(context: EvaluationContext): boolean;
}

/** Finds a project's segment by name; undefined for a segment it does not know. */
export type SegmentLookup = (name: string) => CompiledSegment | undefined;
