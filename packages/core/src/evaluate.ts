import { answersOwnMetadata } from './answer-metadata.js';
import { EmptyFlagDataException, InvalidInputError, TargetingKeyMissingError } from './errors.js';
import type { EvaluationContext, SegmentLookup } from './evaluation-context.js';
import { targetingKeyOf } from './evaluation-context.js';
import { type EvaluationDetails, type EvaluationReason, evaluationResult } from './evaluation-result.js';
import { DIGEST_BITS, digestWords } from './hash/index.js';
import { md5Words } from './hash/md5.js';
import { sha1Words } from './hash/sha1.js';
import { sha256Words } from './hash/sha256.js';
import { encodeUtf8Into, MAX_BYTES_PER_CODE_UNIT, utf8Bytes } from './hash/utf8.js';
import { jsonEquals } from './json-equality.js';
import { percentToBasisPoints } from './percentages.js';
import { belowThreshold } from './rollout.js';
import { type CompiledRule, compileRules, segmentNamesOf } from './targeting-rules.js';
import type { HashAlgorithm, ResultValue, Revision, RevisionMetadata } from './types.js';
import { parseRevision, type ValidationContext } from './validation.js';
import { variantNameOf } from './variants.js';

/**
 * A revision checked once and turned into what evaluation needs: a map of override
 * ids, compiled rules (operators resolved, values parsed), cumulative thresholds in
 * basis points, the hash key prefix, and every result it can give, made up front.
 * Evaluating a compiled revision does no validation and, without rules, no
 * allocation besides the digest.
 */
export interface CompiledRevision {
  readonly revision: Revision;
  readonly archived: boolean;
  /** `Disabled: true`: every evaluation answers the control value with reason DISABLED. */
  readonly disabled: boolean;
  /** No override ids, no treatment above 0 %, no rules: every answer is the control value (STATIC). */
  readonly targetsNobody: boolean;
  /** The segments the revision's rules refer to, each once. */
  readonly segmentNames: readonly string[];
  /**
   * Every rollout group an evaluation of this revision can answer with (an override
   * group is listed even when its treatment lists no ids): what a reported or counted
   * group may be.
   */
  readonly groups: ReadonlySet<string>;
  /**
   * Whether an evaluation of this revision can answer `value` with `group` (values
   * compared by content): what a reported evaluation may claim.
   */
  canAnswer(group: string, value: ResultValue): boolean;
  /** The revision's `Metadata` (frozen), `{}` without it. */
  readonly metadata: Readonly<RevisionMetadata>;
  /**
   * Whether its answers carry `metadata` (the revision uses the flag model) rather than
   * the runbook format's facts: see `answerMetadata`. Decided once, here, not per answer.
   */
  readonly ownMetadata: boolean;
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
  /**
   * The runbook's evaluation for an instance id: the context `{targetingKey: instanceId}`.
   * `digest` replaces the built-in one, e.g. with a cached one; it must return the same
   * words. `segments` finds the segments rules refer to (without it, a segment is unknown).
   */
  evaluate(instanceId: string, digest?: InstanceDigest, segments?: SegmentLookup): EvaluationDetails;
  /**
   * Evaluates a context (docs/flag-model.md#evaluation). Throws TargetingKeyMissingError
   * when an override list cannot decide and a percentage would, and the context has no
   * targeting key; EmptyFlagDataException for an archived revision.
   */
  evaluateContext(context: EvaluationContext, segments?: SegmentLookup, digest?: InstanceDigest): EvaluationDetails;
}

/** The digest of a revision's hash key for `instanceId`, as `CompiledRevision.digest` computes it. */
export type InstanceDigest = (instanceId: string) => Uint32Array;

interface Bucket {
  readonly cumulativeBasisPoints: number;
  readonly result: EvaluationDetails;
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

const NO_METADATA: Readonly<RevisionMetadata> = Object.freeze({});

class Compiled implements CompiledRevision {
  readonly ownMetadata: boolean;
  readonly archived: boolean;
  readonly disabled: boolean;
  readonly targetsNobody: boolean;
  readonly segmentNames: readonly string[];
  readonly metadata: Readonly<RevisionMetadata>;
  readonly groups: ReadonlySet<string>;
  /** Every value each group can answer with (mostly one). */
  private readonly valuesByGroup = new Map<string, ResultValue[]>();
  private readonly overrides = new Map<string, EvaluationDetails>();
  private readonly buckets: Bucket[] = [];
  private readonly rules: readonly CompiledRule<EvaluationDetails>[];
  private readonly control: EvaluationDetails;
  /** The answer of a disabled revision, or undefined when it is not disabled. */
  private readonly disabledResult: EvaluationDetails | undefined;
  readonly hashScope: string;
  private readonly hasher: KeyHasher;

  constructor(readonly revision: Revision) {
    this.archived = revision.Archived === true;
    this.disabled = revision.Disabled === true;
    const algorithm = revision.HashAlgorithm ?? 'md5';
    const saltPrefix = revision.Salt === undefined ? '' : `${revision.Salt}:`;
    this.hashScope = `${algorithm}:${saltPrefix}`;
    this.hasher = new KeyHasher(algorithm, saltPrefix);
    this.metadata = revision.Metadata === undefined ? NO_METADATA : Object.freeze({ ...revision.Metadata });
    this.ownMetadata = answersOwnMetadata(revision);
    const variants = revision.Variants;
    // Every answer is made here, once: the groups made are the groups there can be.
    const groups = new Set<string>();
    this.groups = groups;
    const result = (value: ResultValue, group: string, reason: EvaluationReason) => {
      groups.add(group);
      const values = this.valuesByGroup.get(group);
      if (values === undefined) this.valuesByGroup.set(group, [value]);
      else if (!values.some((known) => jsonEquals(known, value))) values.push(value);
      return evaluationResult(
        value,
        group,
        reason,
        value === null ? undefined : variants === undefined ? group : variantNameOf(variants, value),
      );
    };
    const numbered = revision.Treatments.length > 1;
    let cumulative = 0;
    let overrideIds = 0;
    revision.Treatments.forEach((treatment, index) => {
      const suffix = numbered ? `-${index + 1}` : '';
      const override = result(treatment.Value, `override${suffix}`, 'TARGETING_MATCH');
      for (const id of treatment.OverrideList) {
        overrideIds++;
        // The first treatment that lists an id wins.
        if (!this.overrides.has(id)) this.overrides.set(id, override);
      }
      const basisPoints = percentToBasisPoints(treatment.PercentRollout);
      cumulative += basisPoints;
      // A 0 % treatment can never match; skipping it keeps the walk short.
      if (basisPoints > 0)
        this.buckets.push({
          cumulativeBasisPoints: cumulative,
          result: result(treatment.Value, `treatment${suffix}`, 'SPLIT'),
        });
    });
    const rules = revision.Rules ?? [];
    this.rules = compileRules(rules, (value, group, split) =>
      result(value, group, split ? 'SPLIT' : 'TARGETING_MATCH'),
    );
    this.segmentNames = Object.freeze(segmentNamesOf(rules));
    this.targetsNobody = overrideIds === 0 && this.buckets.length === 0 && rules.length === 0;
    this.control = result(revision.ControlValue, 'control', this.targetsNobody ? 'STATIC' : 'DEFAULT');
    this.disabledResult = this.disabled ? result(revision.ControlValue, 'disabled', 'DISABLED') : undefined;
  }

  canAnswer(group: string, value: ResultValue): boolean {
    return this.valuesByGroup.get(group)?.some((known) => jsonEquals(known, value)) ?? false;
  }

  digest(instanceId: string): Uint32Array {
    return this.hasher.words(instanceId);
  }

  private refuseArchived(): never {
    throw new EmptyFlagDataException(
      `flag ${this.revision.Name} is archived; roll back to an earlier revision to restore it`,
    );
  }

  evaluate(instanceId: string, digest?: InstanceDigest, segments?: SegmentLookup): EvaluationDetails {
    if (this.archived) this.refuseArchived();
    if (this.disabledResult !== undefined) return this.disabledResult;
    if (this.overrides.size !== 0) {
      const override = this.overrides.get(instanceId);
      if (override !== undefined) return override;
    }
    // Untyped callers may pass a number; it is hashed as its string form, as the runbook system did.
    const id = typeof instanceId === 'string' ? instanceId : String(instanceId);
    if (this.rules.length !== 0) {
      const ruled = this.matchRules({ targetingKey: id }, id, segments, digest);
      if (ruled !== undefined) return ruled;
    }
    const buckets = this.buckets;
    const count = buckets.length;
    if (count === 0) return this.control;
    const words = digest === undefined ? this.hasher.words(id) : digest(id);
    for (let i = 0; i < count; i++) {
      const bucket = buckets[i]!;
      if (belowThreshold(words, bucket.cumulativeBasisPoints)) return bucket.result;
    }
    return this.control;
  }

  evaluateContext(context: EvaluationContext, segments?: SegmentLookup, digest?: InstanceDigest): EvaluationDetails {
    if (this.archived) this.refuseArchived();
    if (this.disabledResult !== undefined) return this.disabledResult;
    const key = targetingKeyOf(context);
    if (key !== undefined && this.overrides.size !== 0) {
      const override = this.overrides.get(key);
      if (override !== undefined) return override;
    }
    if (this.rules.length !== 0) {
      const ruled = this.matchRules(context, key, segments, digest);
      if (ruled !== undefined) return ruled;
    }
    const buckets = this.buckets;
    const count = buckets.length;
    if (count === 0) return this.control;
    if (key === undefined) throw this.keyMissing('its treatments roll out to a percentage of targeting keys');
    const words = digest === undefined ? this.hasher.words(key) : digest(key);
    for (let i = 0; i < count; i++) {
      const bucket = buckets[i]!;
      if (belowThreshold(words, bucket.cumulativeBasisPoints)) return bucket.result;
    }
    return this.control;
  }

  /** The result of the first rule whose conditions hold, or undefined when none does. */
  private matchRules(
    context: EvaluationContext,
    key: string | undefined,
    segments: SegmentLookup | undefined,
    digest: InstanceDigest | undefined,
  ): EvaluationDetails | undefined {
    const rules = this.rules;
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r]!;
      if (!rule.test(context, segments)) continue;
      if (rule.result !== undefined) return rule.result;
      const buckets = rule.buckets!;
      if (key === undefined) throw this.keyMissing(`its rule ${rule.position} splits its contexts by percentage`);
      const words = digest === undefined ? this.hasher.words(key) : digest(key);
      for (let i = 0; i < buckets.length; i++) {
        const bucket = buckets[i]!;
        if (belowThreshold(words, bucket.cumulativeBasisPoints)) return bucket.result;
      }
      // The buckets add up to 100 %, so the last one always holds the hash; kept for safety.
      return buckets[buckets.length - 1]!.result;
    }
    return undefined;
  }

  private keyMissing(why: string): TargetingKeyMissingError {
    return new TargetingKeyMissingError(
      `flag ${this.revision.Name} needs a targetingKey in the evaluation context: ${why}`,
      { hint: 'add targetingKey (the id to bucket, e.g. a user id) to the evaluation context' },
    );
  }
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
 * whose cumulative percentage holds the id's hash, else the control value (with the flag
 * model's kill switch and rules, docs/flag-model.md, for the context `{targetingKey}`). Throws
 * EmptyFlagDataException for an archived revision, and the validation errors for a
 * revision that does not validate.
 */
export function evaluateRevision(revision: Revision | Record<string, unknown>, instanceId: string): EvaluationDetails {
  if (typeof instanceId !== 'string') {
    throw new InvalidInputError(`instance_id must be a string, got ${typeof instanceId}`, { field: 'instance_id' });
  }
  return cachedCompile(revision).evaluate(instanceId);
}

/**
 * `evaluateRevision` for an evaluation context (docs/flag-model.md#evaluation), with the
 * project's segments when its rules refer to any.
 */
export function evaluateRevisionContext(
  revision: Revision | Record<string, unknown>,
  context: EvaluationContext,
  segments?: SegmentLookup,
): EvaluationDetails {
  return cachedCompile(revision).evaluateContext(context, segments);
}

function cachedCompile(revision: Revision | Record<string, unknown>): CompiledRevision {
  let compiled = compiledCache.get(revision);
  if (compiled === undefined) {
    compiled = compileRevision(revision);
    compiledCache.set(revision, compiled);
  }
  return compiled;
}
