import { formatValue } from '@vexil/core';
import { merinoDecision, merinoDecisionForKey } from '@vexil/core/merino';
import { type CheckedFlagConfig, compileFlags, type FlagConfigs, type FlagTable } from './flag-definitions.js';
import { consoleLogger, type FeatureFlagsLogger } from './logger.js';

export interface FeatureFlagsOptions {
  /** The request's session id (Merino's `sid`); `''` is a session id, `undefined`/`null` is none. */
  sessionId?: string | null | undefined;
  /** Gets one error per check that cannot be decided. Default: `console.error`. */
  logger?: FeatureFlagsLogger | undefined;
  /** Called once per flag, with its first (recorded) decision; what it throws is ignored. */
  onDecision?: ((flagName: string, decision: boolean) => void) | undefined;
}

/** What `isEnabled` buckets on instead of the flag's scheme: a string (hashed with sha256) or bytes (used as they are). */
export type BucketFor = string | Uint8Array;

const MISSING_SESSION_ID = 'Expected a session_id but none exist in this context';

/**
 * Merino's per-request feature flags object. Make one per request (the middleware
 * does), check flags with `isEnabled`, and read every decision made so far from
 * `decisions` — what the metric helpers turn into tags.
 *
 * The first decision for a flag is kept: later checks of that flag in the same
 * object return it (a `random` flag does not flip within a request), whatever their
 * `bucketFor`. `isEnabled` never throws: an unknown flag is off, a `session` flag
 * without a session id is off and logs one error.
 */
export class FeatureFlags {
  /** Flag name → the decision recorded for it (a plain object with no prototype). */
  readonly decisions: Record<string, boolean> = Object.create(null);
  readonly sessionId: string | undefined;
  private readonly table: FlagTable;
  private readonly logger: FeatureFlagsLogger;
  private readonly onDecision: ((flagName: string, decision: boolean) => void) | undefined;

  /**
   * `flags`: flag name → definition, from `loadFlagFiles`, `flagsFromSnapshot` or
   * written inline. They are checked the first time an object is seen (a bad
   * definition throws FlagConfigError here, never in `isEnabled`), so build the flags
   * once and share them between requests.
   */
  constructor(flags?: FlagConfigs, options: FeatureFlagsOptions = {}) {
    this.table = compileFlags(flags);
    this.sessionId = options.sessionId ?? undefined;
    this.logger = options.logger ?? consoleLogger;
    this.onDecision = options.onDecision;
  }

  /**
   * Whether `flagName` is on for this request. `bucketFor` replaces the flag's scheme:
   * a string is bucketed on its sha256, bytes as they are (Merino's `bucket_for`).
   */
  isEnabled(flagName: string, bucketFor?: BucketFor | null): boolean {
    try {
      if (typeof flagName !== 'string') return false;
      const recorded = this.decisions[flagName];
      if (recorded !== undefined) return recorded;
      const decision = this.decide(flagName, bucketFor);
      this.decisions[flagName] = decision;
      if (this.onDecision !== undefined) {
        try {
          this.onDecision(flagName, decision);
        } catch {
          // A telemetry hook must not change an answer.
        }
      }
      return decision;
    } catch {
      return false;
    }
  }

  /** The names of the flags this object knows (whether checked or not). */
  flagNames(): string[] {
    return [...this.table.keys()];
  }

  private decide(flagName: string, bucketFor: BucketFor | null | undefined): boolean {
    const flag = this.table.get(flagName);
    if (flag === undefined) return false;
    if (flag.kind === 'revision') return this.decideRevision(flagName, flag, bucketFor);
    const enabled = flag.enabled;
    if (enabled === 0) return false;
    if (enabled === 1) return true;
    if (bucketFor !== undefined && bucketFor !== null) {
      if (typeof bucketFor === 'string') return merinoDecisionForKey(bucketFor, enabled);
      if (bucketFor instanceof Uint8Array) return merinoDecision(bucketFor, enabled);
      return this.fail(`bucket_for must be a string or bytes (Uint8Array), got ${formatValue(bucketFor)}`, flagName);
    }
    if (flag.scheme === 'random') return merinoDecision(randomBucketingId(), enabled);
    if (this.sessionId === undefined) return this.fail(MISSING_SESSION_ID, flagName);
    return merinoDecisionForKey(this.sessionId, enabled);
  }

  /** A Vexil revision: the bucketing string (or session id) is the instance id. */
  private decideRevision(
    flagName: string,
    flag: Extract<CheckedFlagConfig, { kind: 'revision' }>,
    bucketFor: BucketFor | null | undefined,
  ): boolean {
    const compiled = flag.compiled;
    if (compiled.archived) return false;
    let instanceId: string | undefined;
    if (bucketFor === undefined || bucketFor === null) instanceId = this.sessionId;
    else if (typeof bucketFor === 'string') instanceId = bucketFor;
    else if (bucketFor instanceof Uint8Array) instanceId = hex(bucketFor);
    else return this.fail(`bucket_for must be a string or bytes (Uint8Array), got ${formatValue(bucketFor)}`, flagName);
    if (instanceId === undefined) return this.fail(MISSING_SESSION_ID, flagName);
    return compiled.evaluate(instanceId, undefined, flag.segments).value === true;
  }

  private fail(message: string, flagName: string): false {
    try {
      this.logger.error(`${message} (feature flag ${JSON.stringify(flagName)} is off for this request)`);
    } catch {
      // A broken logger must not make isEnabled throw.
    }
    return false;
  }
}

/** Random bytes drawn 128 ids at a time: one call into the platform's CSPRNG costs as much as ~100 ids. */
const randomPool = new Uint8Array(32 * 128);
let randomOffset = randomPool.length;

/** Merino's `randbytes(32)`, from the platform's CSPRNG (Node.js 20 and browsers have `crypto` globally). */
function randomBucketingId(): Uint8Array {
  if (randomOffset === randomPool.length) {
    globalThis.crypto.getRandomValues(randomPool);
    randomOffset = 0;
  }
  const id = randomPool.subarray(randomOffset, randomOffset + 32);
  randomOffset += 32;
  return id;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}
