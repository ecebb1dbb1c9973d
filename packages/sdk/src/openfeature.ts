import {
  ErrorCode,
  type EvaluationContext,
  GeneralError,
  type JsonValue,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
  StandardResolutionReasons,
} from '@openfeature/server-sdk';
import {
  type FlagValue,
  type JsonObject,
  type RevisionMetadata,
  runbookAnswerMetadata,
  type EvaluationContext as VexilContext,
} from '@vexil/core';
import type { VexilClientErrorCode } from './client-errors.js';
import {
  FeatureFlagClient,
  type FeatureFlagClientEventMap,
  type FeatureFlagClientOptions,
  type FlagEvaluationDetails,
} from './feature-flag-client.js';

/**
 * An OpenFeature server provider (`@openfeature/server-sdk`) over the in-process
 * `FeatureFlagClient`: flags are evaluated in the application from the project
 * snapshot, with the same code as the service (rules, segments), and reported to the
 * service like every in-process evaluation.
 *
 * - The flag key is the flag name; the whole evaluation context is what targeting
 *   rules see, and `context.targetingKey` the id that override lists and percentages
 *   use (needed only by flags that have them; `Date` attributes are compared as
 *   instants). Boolean resolution reads feature flags, string resolution data flags,
 *   number resolution number flags, object resolution json flags; a flag of another
 *   type answers TYPE_MISMATCH.
 * - Reasons: STATIC (nobody is targeted), DEFAULT (the control value),
 *   TARGETING_MATCH (an override list or a rule), SPLIT (a percentage rollout or a
 *   rule's split), DISABLED (the kill switch: the caller's default is answered); a
 *   failure is ERROR with FLAG_NOT_FOUND (also for an archived flag or a segment),
 *   TYPE_MISMATCH, PARSE_ERROR (a revision that does not validate),
 *   TARGETING_KEY_MISSING, INVALID_CONTEXT, PROVIDER_NOT_READY or GENERAL. A revision
 *   that gives no value answers the caller's default, without a variant.
 * - `variant` is the value's name in the revision's `Variants`, else the rollout group
 *   (`control`, `treatment`, `override-2`, `rule-1`, …); `flagMetadata` is what the
 *   service's OFREP endpoint answers as `metadata` (core's `answerMetadata`).
 * - Events: PROVIDER_CONFIGURATION_CHANGED (with `flagsChanged`: the flags changed,
 *   and those whose rules name a changed segment) when flags change, PROVIDER_STALE
 *   when the service is lost, PROVIDER_READY when it is back.
 * - `initialize` waits for the client's `ready()`; it fails (the provider starts in
 *   ERROR and recovers when the service answers) only when there is no flag data at
 *   all, so a bootstrap or cache file allows an offline start.
 *
 * Import it from `@vexil/sdk/openfeature`, so `@openfeature/server-sdk` (an optional
 * peer dependency) is only needed by applications that use it.
 */
export class VexilProvider implements Provider {
  readonly metadata = { name: 'Vexil' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly client: FeatureFlagClient;
  private readonly owned: boolean;
  private stale = false;
  private failedInit = false;
  private readonly onChange = (change: FeatureFlagClientEventMap['change']) =>
    this.events.emit(ProviderEvents.ConfigurationChanged, {
      flagsChanged: change.flagsChanged,
      metadata: { version: change.version },
    });
  private readonly onDisconnected = (event: FeatureFlagClientEventMap['disconnected']) => {
    if (this.stale) return;
    this.stale = true;
    this.events.emit(ProviderEvents.Stale, {
      message: `the Vexil service is unreachable; answering from the flags held${event.lastError ? ` (${event.lastError.message})` : ''}`,
    });
  };
  private readonly onConnected = () => {
    if (!this.stale && !this.failedInit) return;
    this.stale = false;
    this.failedInit = false;
    this.events.emit(ProviderEvents.Ready, { message: 'in sync with the Vexil service again' });
  };

  /** A client to use (closed by its owner), or the options to create one (closed with the provider). */
  constructor(clientOrOptions: FeatureFlagClient | FeatureFlagClientOptions) {
    this.owned = !(clientOrOptions instanceof FeatureFlagClient);
    this.client =
      clientOrOptions instanceof FeatureFlagClient ? clientOrOptions : new FeatureFlagClient(clientOrOptions);
    this.client.on('change', this.onChange);
    this.client.on('disconnected', this.onDisconnected);
    this.client.on('connected', this.onConnected);
  }

  async initialize(_context?: EvaluationContext): Promise<void> {
    const ready = await this.client.ready();
    if (!ready && this.client.version === undefined) {
      this.failedInit = true;
      const reason = this.client.lastError?.message ?? 'no answer in time';
      throw new GeneralError(`Vexil: no flag data for project ${this.client.projectName} (${reason})`);
    }
  }

  async onClose(): Promise<void> {
    this.client.off('change', this.onChange);
    this.client.off('disconnected', this.onDisconnected);
    this.client.off('connected', this.onConnected);
    if (this.owned) await this.client.close();
  }

  async resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    return this.resolve(this.client.getFlagBooleanDetails(flagKey, contextOf(context), defaultValue), defaultValue);
  }

  async resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return this.resolve(this.client.getFlagStringDetails(flagKey, contextOf(context), defaultValue), defaultValue);
  }

  async resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return this.resolve(this.client.getFlagNumberDetails(flagKey, contextOf(context), defaultValue), defaultValue);
  }

  async resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    // json flags hold objects and arrays; a default of another JSON type is answered as given on any failure.
    const fallback = defaultValue as JsonObject;
    const details = this.client.getFlagJsonDetails(flagKey, contextOf(context), fallback);
    return this.resolve(details, fallback) as unknown as ResolutionDetails<T>;
  }

  private resolve<T extends FlagValue>(details: FlagEvaluationDetails<T>, defaultValue: T): ResolutionDetails<T> {
    const resolution: ResolutionDetails<T> = {
      value: details.value,
      reason: details.reason,
      flagMetadata: metadataOf(details, this.client.projectName),
    };
    if (details.errorCode !== undefined) {
      resolution.errorCode = errorCodeOf(details.errorCode);
      if (details.errorMessage !== undefined) resolution.errorMessage = details.errorMessage;
      return resolution;
    }
    // The kill switch answers the caller's default (OpenFeature's DISABLED), as OFREP does.
    if (details.reason === StandardResolutionReasons.DISABLED) resolution.value = defaultValue;
    // No value has no variant; else the value's name, or the rollout group where the revision names none.
    if (details.noValue !== true) {
      const variant = details.variant ?? details.group;
      if (variant !== undefined) resolution.variant = variant;
    }
    return resolution;
  }
}

/**
 * OpenFeature's context as Vexil's: the same object unless an attribute is a `Date`,
 * which is given as its RFC 3339 string (what date conditions compare).
 */
function contextOf(context: EvaluationContext | undefined): VexilContext {
  if (context === undefined) return {};
  let copy: Record<string, unknown> | undefined;
  for (const name in context) {
    const value = context[name];
    if (value instanceof Date) {
      copy ??= { ...context };
      copy[name] = Number.isNaN(value.getTime()) ? undefined : value.toISOString();
    }
  }
  return copy ?? context;
}

function errorCodeOf(code: VexilClientErrorCode): ErrorCode {
  switch (code) {
    case 'FLAG_NOT_FOUND':
      return ErrorCode.FLAG_NOT_FOUND;
    case 'TYPE_MISMATCH':
      return ErrorCode.TYPE_MISMATCH;
    case 'PARSE_ERROR':
      return ErrorCode.PARSE_ERROR;
    case 'TARGETING_KEY_MISSING':
      return ErrorCode.TARGETING_KEY_MISSING;
    case 'INVALID_ARGUMENT':
      return ErrorCode.INVALID_CONTEXT;
    case 'NOT_READY':
      return ErrorCode.PROVIDER_NOT_READY;
    default:
      return ErrorCode.GENERAL;
  }
}

/** OFREP's `metadata` for the answer (core's `answerMetadata`); none for a failure. */
function metadataOf(details: FlagEvaluationDetails<FlagValue>, project: string): Readonly<RevisionMetadata> {
  if (details.errorCode !== undefined || details.revision === undefined) return {};
  return details.metadata ?? runbookAnswerMetadata({ project, flagType: details.flagType, revision: details.revision });
}
