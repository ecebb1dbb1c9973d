import { EmptyFlagDataException, InvalidInputError } from './errors.js';
import { DIGEST_BITS, digestWords } from './hash/index.js';
import { md5Words } from './hash/md5.js';
import { sha1Words } from './hash/sha1.js';
import { sha256Words } from './hash/sha256.js';
import { encodeUtf8Into, MAX_BYTES_PER_CODE_UNIT, utf8Bytes } from './hash/utf8.js';
import { belowThreshold } from './rollout.js';
import type { EvaluationResult, FlagValue, HashAlgorithm, Revision } from './types.js';
import { parseRevision, percentToBasisPoints, type ValidationContext } from './validation.js';

/**
 * A revision checked once and turned into what evaluation needs: a map of override
 * ids, cumulative thresholds in basis points, and the hash key prefix. Evaluating a
 * compiled revision does no validation and no allocation besides the digest.
 */
export interface CompiledRevision {
  readonly revision: Revision;
  readonly archived: boolean;
  /**
   * What the digest of an id depends on (algorithm and salt): revisions with the same
   * scope hash every id alike, so a cache of digests can be shared by scope.
   */
  readonly hashScope: string;
  /**
   * The digest of the hash key for `instanceId` (salt and `:` before it) as big-endian
   * 32-bit words, in an array that the next call overwrites: copy it to keep it.
   */
  digest(instanceId: string): Uint32Array;
  /** `digest` replaces the built-in one, e.g. with a cached one; it must return the same words. */
  evaluate(instanceId: string, digest?: InstanceDigest): EvaluationResult;
}

/** The digest of a revision's hash key for `instanceId`, as `CompiledRevision.digest` computes it. */
export type InstanceDigest = (instanceId: string) => Uint32Array;

interface Rule {
  readonly cumulativeBasisPoints: number;
  readonly result: EvaluationResult;
}

/** Code units of an id hashed without growing a revision's key buffer; longer ids grow it, up to the cap below. */
const KEY_BUFFER_CODE_UNITS = 64;
/** Ids longer than this are hashed by `digestWords` (its own buffer), so no revision keeps a huge one. */
const KEY_BUFFER_MAX_CODE_UNITS = 4096;

/**
 * Hashes `prefix + id` for one revision, the evaluation hot path: the prefix (the salt
 * and `:`) is encoded once, each id is encoded right after it in a buffer of the
 * revision's own, and the digest goes into a reused array. No string concatenation
 * (whose flattening costs a copy and an allocation) and no allocation per call. The
 * returned words are valid until the next call; evaluation is synchronous, so they
 * are read before anyone else can hash.
 */
class KeyHasher {
  private buffer: Uint8Array;
  private idView: Uint8Array;
  private readonly prefixLength: number;
  private readonly out: Uint32Array;
  private readonly hashBytes: (bytes: Uint8Array, length: number, out: Uint32Array) => void;

  constructor(
    private readonly algorithm: HashAlgorithm,
    private readonly prefix: string,
  ) {
    const prefixBytes = utf8Bytes(prefix);
    this.prefixLength = prefixBytes.length;
    this.buffer = new Uint8Array(this.prefixLength + KEY_BUFFER_CODE_UNITS * MAX_BYTES_PER_CODE_UNIT);
    this.buffer.set(prefixBytes);
    this.idView = this.buffer.subarray(this.prefixLength);
    this.out = new Uint32Array(DIGEST_BITS[algorithm] / 32);
    this.hashBytes = algorithm === 'md5' ? md5Words : algorithm === 'sha1' ? sha1Words : sha256Words;
  }

  words(id: string): Uint32Array {
    if (id.length * MAX_BYTES_PER_CODE_UNIT > this.idView.length) {
      if (id.length > KEY_BUFFER_MAX_CODE_UNITS) return digestWords(this.algorithm, this.prefix + id);
      const grown = new Uint8Array(this.prefixLength + id.length * MAX_BYTES_PER_CODE_UNIT);
      grown.set(this.buffer.subarray(0, this.prefixLength));
      this.buffer = grown;
      this.idView = grown.subarray(this.prefixLength);
    }
    const length = this.prefixLength + encodeUtf8Into(id, this.idView);
    this.hashBytes(this.buffer, length, this.out);
    return this.out;
  }
}

class Compiled implements CompiledRevision {
  readonly archived: boolean;
  private readonly overrides = new Map<string, EvaluationResult>();
  private readonly rules: Rule[] = [];
  private readonly control: EvaluationResult;
  readonly hashScope: string;
  private readonly hasher: KeyHasher;

  constructor(readonly revision: Revision) {
    this.archived = revision.Archived === true;
    const algorithm = revision.HashAlgorithm ?? 'md5';
    const saltPrefix = revision.Salt === undefined ? '' : `${revision.Salt}:`;
    this.hashScope = `${algorithm}:${saltPrefix}`;
    this.hasher = new KeyHasher(algorithm, saltPrefix);
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

  digest(instanceId: string): Uint32Array {
    return this.hasher.words(instanceId);
  }

  evaluate(instanceId: string, digest?: InstanceDigest): EvaluationResult {
    if (this.archived) {
      throw new EmptyFlagDataException(
        `flag ${this.revision.Name} is archived; roll back to an earlier revision to restore it`,
      );
    }
    if (this.overrides.size !== 0) {
      const override = this.overrides.get(instanceId);
      if (override !== undefined) return override;
    }
    const rules = this.rules;
    const count = rules.length;
    if (count === 0) return this.control;
    // Untyped callers may pass a number; it is hashed as its string form, as the runbook system did.
    const id = typeof instanceId === 'string' ? instanceId : String(instanceId);
    const words = digest === undefined ? this.hasher.words(id) : digest(id);
    for (let i = 0; i < count; i++) {
      const rule = rules[i]!;
      if (belowThreshold(words, rule.cumulativeBasisPoints)) return rule.result;
    }
    return this.control;
  }
}

function freeze(value: FlagValue, group: string): EvaluationResult {
  return Object.freeze({ value, group });
}

/** Validates a revision (throwing the documented errors) and prepares it for evaluation. */
export function compileRevision(revision: unknown, context: ValidationContext = {}): CompiledRevision {
  // Compiled revisions are read back from stores, so they are checked as stored data unless told otherwise.
  return new Compiled(parseRevision(revision, { mode: 'stored', ...context }));
}

// Revisions are plain objects treated as immutable once read; remembering their
// compiled form makes repeated evaluateRevision calls on the same object cheap.
const compiledCache = new WeakMap<object, CompiledRevision>();

/**
 * The evaluation rule of docs/design.md: an override list match, else the first treatment
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
