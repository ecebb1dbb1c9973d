import type { CompiledRevision } from './evaluate.js';
import { requiredFormatVersion } from './format-version.js';
import type { Revision, RevisionMetadata } from './types.js';

/** Which flag and revision gave an answer. */
export interface AnswerFacts {
  readonly project: string;
  readonly flagType: string;
  /** The WTIME of the revision evaluated. */
  readonly revision: string;
}

/**
 * Whether answers of `revision` carry its own `Metadata` (docs/flag-model.md#where-it-shows):
 * so does every revision that uses the flag model, as OpenFeature's suite expects. A
 * revision in the runbook format answers what it answered before the flag model existed
 * (`runbookAnswerMetadata`), so that every runbook answer stays unchanged. A compiled
 * revision holds the answer as `ownMetadata`.
 */
export function answersOwnMetadata(revision: Revision): boolean {
  return requiredFormatVersion(revision as unknown as Readonly<Record<string, unknown>>) === 2;
}

/** The `metadata` of an answer of a revision in the runbook format: which project, type and revision answered. */
export function runbookAnswerMetadata(facts: AnswerFacts): Readonly<RevisionMetadata> {
  return { project: facts.project, flagType: facts.flagType, revision: facts.revision };
}

/** OFREP's `metadata` (and the OpenFeature providers' `flagMetadata`) for an answer of `compiled`. */
export function answerMetadata(
  compiled: Pick<CompiledRevision, 'ownMetadata' | 'metadata'>,
  facts: AnswerFacts,
): Readonly<RevisionMetadata> {
  return compiled.ownMetadata ? compiled.metadata : runbookAnswerMetadata(facts);
}
