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
import type { FlagType } from '@vexil/core';
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
 * snapshot, and reported to the service like every in-process evaluation.
 *
 * - The flag key is the flag name; `context.targetingKey` is the instance id.
 *   Boolean resolution reads feature flags, string resolution data flags; number and
 *   object resolution, and the other type's flag, answer TYPE_MISMATCH.
 * - Reasons: an override list match is TARGETING_MATCH, a percentage rollout SPLIT,
 *   the control value DEFAULT — or STATIC when no treatment can give anybody its
 *   value; a failure is ERROR with FLAG_NOT_FOUND (also for an archived flag),
 *   TYPE_MISMATCH, PARSE_ERROR (a revision that does not validate),
 *   TARGETING_KEY_MISSING, INVALID_CONTEXT, PROVIDER_NOT_READY or GENERAL.
 * - `variant` is the rollout group (`control`, `treatment`, `override-2`, …);
 *   `flagMetadata` is `{ project, flagType, revision }` (revision: the WTIME of the
 *   revision evaluated) — the same answers as the service's OFREP endpoint.
 * - Events: PROVIDER_CONFIGURATION_CHANGED (with `flagsChanged`) when flags change,
 *   PROVIDER_STALE when the service is lost, PROVIDER_READY when it is back.
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
    return this.resolve('feature', flagKey, defaultValue, context);
  }

  async resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return this.resolve('data', flagKey, defaultValue, context);
  }

  async resolveNumberEvaluation(flagKey: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return this.unsupported(flagKey, defaultValue, 'number');
  }

  async resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    return this.unsupported(flagKey, defaultValue, 'object');
  }

  private resolve<T extends boolean | string>(
    flagType: FlagType,
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): ResolutionDetails<T> {
    const project = this.client.projectName;
    const targetingKey = context.targetingKey;
    if (targetingKey === undefined || targetingKey === null || targetingKey === '') {
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.TARGETING_KEY_MISSING,
        errorMessage: 'context.targetingKey is required: the instance id to evaluate for, e.g. a user or customer id',
        flagMetadata: { project, flagType },
      };
    }
    const details = (
      flagType === 'feature'
        ? this.client.getFlagBooleanDetails(flagKey, targetingKey, defaultValue as boolean)
        : this.client.getFlagStringDetails(flagKey, targetingKey, defaultValue as string)
    ) as FlagEvaluationDetails<T>;
    const flagMetadata: Record<string, string> = { project, flagType };
    if (details.revision !== undefined) flagMetadata.revision = details.revision;
    const resolution: ResolutionDetails<T> = { value: details.value, reason: details.reason, flagMetadata };
    if (details.group !== undefined) resolution.variant = details.group;
    if (details.errorCode !== undefined) {
      resolution.errorCode = errorCodeOf(details.errorCode);
      if (details.errorMessage !== undefined) resolution.errorMessage = details.errorMessage;
    }
    return resolution;
  }

  private unsupported<T>(flagKey: string, defaultValue: T, kind: string): ResolutionDetails<T> {
    const names = this.client.flagNames();
    const known = names.includes(flagKey);
    return {
      value: defaultValue,
      reason: StandardResolutionReasons.ERROR,
      errorCode: known ? ErrorCode.TYPE_MISMATCH : ErrorCode.FLAG_NOT_FOUND,
      errorMessage: known
        ? `Vexil flags are booleans (feature flags) or strings (data flags): ${flagKey} cannot be read as ${kind === 'number' ? 'a number' : 'an object'}`
        : `no flag ${flagKey} with a revision in project ${this.client.projectName}`,
      flagMetadata: { project: this.client.projectName },
    };
  }
}

function errorCodeOf(code: VexilClientErrorCode): ErrorCode {
  switch (code) {
    case 'FLAG_NOT_FOUND':
      return ErrorCode.FLAG_NOT_FOUND;
    case 'TYPE_MISMATCH':
      return ErrorCode.TYPE_MISMATCH;
    case 'PARSE_ERROR':
      return ErrorCode.PARSE_ERROR;
    case 'INVALID_ARGUMENT':
      return ErrorCode.INVALID_CONTEXT;
    case 'NOT_READY':
      return ErrorCode.PROVIDER_NOT_READY;
    default:
      return ErrorCode.GENERAL;
  }
}
