import type { CompiledRevision } from './evaluate.js';
import { requiredFormatVersion } from './format-version.js';
import type { RevisionMetadata } from './types.js';

/** Which flag and revision gave an answer. */
export interface AnswerFacts {
  readonly project: string;
  readonly flagType: string;
  /** The WTIME of the revision evaluated. */
  readonly revision: string;
}

/**
 * OFREP's `metadata` (and the OpenFeature providers' `flagMetadata`) for an answer of
 * `compiled` (docs/flag-model.md#where-it-shows). A revision in the runbook format
 * answers what it answered before the flag model existed — the project, flag type and
 * revision — so that every runbook answer stays unchanged; a revision that uses the flag
 * model answers its own `Metadata` (`{}` without it), as OpenFeature's suite expects.
 */
export function answerMetadata(
  compiled: Pick<CompiledRevision, 'revision' | 'metadata'>,
  facts: AnswerFacts,
): Readonly<RevisionMetadata> {
  if (requiredFormatVersion(compiled.revision as unknown as Readonly<Record<string, unknown>>) === 1) {
    return { project: facts.project, flagType: facts.flagType, revision: facts.revision };
  }
  return compiled.metadata;
}
