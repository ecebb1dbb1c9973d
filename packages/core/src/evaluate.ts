import { EmptyFlagDataException, InvalidInputError } from './errors.js';
import { digestWords } from './hash/index.js';
import { belowThreshold } from './rollout.js';
import type { EvaluationResult, FlagValue, HashAlgorithm, Revision } from './types.js';
import { parseRevision, percentToBasisPoints, type ValidationMode } from './validation.js';

/**
 * A revision checked once and turned into what evaluation needs: a map of override
 * ids, cumulative thresholds in basis points, and the hash key prefix. Evaluating a
 * compiled revision does no validation and no allocation besides the digest.
 */
export interface CompiledRevision {
  readonly revision: Revision;
  readonly archived: boolean;
  /** `hash` replaces the built-in digest, e.g. with a cached one; it must return the same words. */
  evaluate(instanceId: string, hash?: DigestFunction): EvaluationResult;
}

/** The digest of `key` as big-endian 32-bit words (see `digestWords`). */
export type DigestFunction = (algorithm: HashAlgorithm, key: string) => Uint32Array;

interface Rule {
  readonly cumulativeBasisPoints: number;
  readonly result: EvaluationResult;
}

class Compiled implements CompiledRevision {
  readonly archived: boolean;
  private readonly overrides = new Map<string, EvaluationResult>();
  private readonly rules: Rule[] = [];
  private readonly control: EvaluationResult;
  private readonly algorithm: HashAlgorithm;
  private readonly saltPrefix: string;

  constructor(readonly revision: Revision) {
    this.archived = revision.Archived === true;
    this.algorithm = revision.HashAlgorithm ?? 'md5';
    this.saltPrefix = revision.Salt === undefined ? '' : `${revision.Salt}:`;
    this.control = freeze(revision.ControlValue, 'control');
    const numbered = revision.Treatments.length > 1;
    let cumulative = 0;
    revision.Treatments.forEach((treatment, index) => {
      const suffix = numbered ? `-${index + 1}` : '';
      const override = freeze(treatment.Value, `override${suffix}`);
      for (const id of treatment.OverrideList) {
        // The first treatment that lists an id wins.
        if (!this.overrides.has(id)) this.overrides.set(id, override);
      }
      const basisPoints = percentToBasisPoints(treatment.PercentRollout);
      cumulative += basisPoints;
      // A 0 % treatment can never match; skipping it keeps the walk short.
      if (basisPoints > 0)
        this.rules.push({ cumulativeBasisPoints: cumulative, result: freeze(treatment.Value, `treatment${suffix}`) });
    });
  }

  evaluate(instanceId: string, hash: DigestFunction = digestWords): EvaluationResult {
    if (this.archived) {
      throw new EmptyFlagDataException(
        `flag ${this.revision.Name} is archived; roll back to an earlier revision to restore it`,
      );
    }
    const override = this.overrides.get(instanceId);
    if (override !== undefined) return override;
    const rules = this.rules;
    if (rules.length === 0) return this.control;
    const words = hash(this.algorithm, this.saltPrefix === '' ? instanceId : this.saltPrefix + instanceId);
    for (const rule of rules) {
      if (belowThreshold(words, rule.cumulativeBasisPoints)) return rule.result;
    }
    return this.control;
  }
}

function freeze(value: FlagValue, group: string): EvaluationResult {
  return Object.freeze({ value, group });
}

/** Validates a revision (throwing the documented errors) and prepares it for evaluation. */
export function compileRevision(revision: unknown, mode: ValidationMode = 'stored'): CompiledRevision {
  return new Compiled(parseRevision(revision, { mode }));
}

// Revisions are plain objects treated as immutable once read; remembering their
// compiled form makes repeated evaluateRevision calls on the same object cheap.
const compiledCache = new WeakMap<object, CompiledRevision>();

/**
 * The evaluation rule of DESIGN.md: an override list match, else the first treatment
 * whose cumulative percentage holds the id's hash, else the control value. Throws
 * EmptyFlagDataException for an archived revision, and the validation errors for a
 * revision that does not validate.
 */
export function evaluateRevision(revision: Revision | Record<string, unknown>, instanceId: string): EvaluationResult {
  if (typeof instanceId !== 'string') {
    throw new InvalidInputError(`instance_id must be a string, got ${typeof instanceId}`, { field: 'instance_id' });
  }
  let compiled = compiledCache.get(revision);
  if (compiled === undefined) {
    compiled = compileRevision(revision);
    compiledCache.set(revision, compiled);
  }
  return compiled.evaluate(instanceId);
}
