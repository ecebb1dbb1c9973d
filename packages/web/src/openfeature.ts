import {
  ErrorCode,
  type EvaluationContext,
  GeneralError,
  type JsonValue,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
} from '@openfeature/web-sdk';
import type { FlagValue, EvaluationContext as VexilContext } from '@vexil/core';
import type { FlagDetails } from './flag-answers.js';
import { VexilClient, type VexilClientOptions } from './vexil-client.js';
import type { VexilWebErrorCode } from './web-error.js';

/**
 * An OpenFeature web provider (`@openfeature/web-sdk`, the static-context paradigm)
 * over `VexilClient`: `OpenFeature.setContext` becomes the client's context (answers
 * fetched, or evaluated locally, once per context change); resolutions are synchronous
 * reads of those answers.
 *
 * - Events: PROVIDER_CONFIGURATION_CHANGED (with `flagsChanged`) when the change stream
 *   brings a change, PROVIDER_STALE when the service is lost, PROVIDER_READY when it is back.
 * - Boolean resolution reads feature flags, string data flags, number number flags,
 *   object json flags; a value of another type answers TYPE_MISMATCH.
 * - `initialize` fails (the provider starts in ERROR) only when no answers arrived in time.
 *
 * Import it from `@vexil/web/openfeature`, so `@openfeature/web-sdk` (an optional peer
 * dependency) is only needed by applications that use it.
 */
export class VexilWebProvider implements Provider {
  readonly metadata = { name: 'Vexil' } as const;
  readonly runsOn = 'client' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly client: VexilClient;
  private readonly owned: boolean;
  private readonly unsubscribe: (() => void)[];

  /** A client to use (closed by its owner), or the options to create one (closed with the provider). */
  constructor(clientOrOptions: VexilClient | VexilClientOptions) {
    this.owned = !(clientOrOptions instanceof VexilClient);
    this.client = clientOrOptions instanceof VexilClient ? clientOrOptions : new VexilClient(clientOrOptions);
    this.unsubscribe = [
      this.client.on('change', ({ flagsChanged }) =>
        this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged }),
      ),
      this.client.on('stale', ({ lastError }) =>
        this.events.emit(ProviderEvents.Stale, {
          message: `the Vexil service is unreachable; answering the last known values${lastError ? ` (${lastError.message})` : ''}`,
        }),
      ),
      this.client.on('connected', () => this.events.emit(ProviderEvents.Ready, {})),
    ];
  }

  async initialize(context?: EvaluationContext): Promise<void> {
    // The answers for the application's context, not the client's first one.
    if (context !== undefined) await this.client.setContext(contextOf(context));
    if (!(await this.client.ready())) {
      throw new GeneralError(
        `Vexil: no answers for project ${this.client.project} (${this.client.lastError?.message ?? 'no answer in time'})`,
      );
    }
  }

  async onContextChange(_old: EvaluationContext, context: EvaluationContext): Promise<void> {
    await this.client.setContext(contextOf(context));
  }

  async onClose(): Promise<void> {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    if (this.owned) this.client.close();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean): ResolutionDetails<boolean> {
    return resolution(this.client.getFlagDetails(flagKey, defaultValue));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string): ResolutionDetails<string> {
    return resolution(this.client.getFlagDetails(flagKey, defaultValue));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number): ResolutionDetails<number> {
    return resolution(this.client.getFlagDetails(flagKey, defaultValue));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
    // json flags hold objects and arrays; a default of another JSON type is answered as given on any failure.
    return resolution(this.client.getFlagDetails(flagKey, defaultValue as FlagValue)) as ResolutionDetails<T>;
  }
}

/** OpenFeature's context as Vexil's: `Date` attributes as RFC 3339 strings (what date conditions compare). */
function contextOf(context: EvaluationContext): VexilContext {
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(context)) copy[name] = value instanceof Date ? value.toISOString() : value;
  return copy as VexilContext;
}

function resolution<T>(details: FlagDetails<T>): ResolutionDetails<T> {
  const answer: ResolutionDetails<T> = { value: details.value, reason: details.reason };
  if (details.variant !== undefined) answer.variant = details.variant;
  if (details.metadata !== undefined) answer.flagMetadata = details.metadata;
  if (details.errorCode !== undefined) {
    answer.errorCode = errorCodeOf(details.errorCode);
    if (details.errorMessage !== undefined) answer.errorMessage = details.errorMessage;
  }
  return answer;
}

function errorCodeOf(code: VexilWebErrorCode): ErrorCode {
  switch (code) {
    case 'FLAG_NOT_FOUND':
      return ErrorCode.FLAG_NOT_FOUND;
    case 'TYPE_MISMATCH':
      return ErrorCode.TYPE_MISMATCH;
    case 'PARSE_ERROR':
      return ErrorCode.PARSE_ERROR;
    case 'TARGETING_KEY_MISSING':
      return ErrorCode.TARGETING_KEY_MISSING;
    case 'INVALID_CONTEXT':
      return ErrorCode.INVALID_CONTEXT;
    case 'NOT_READY':
      return ErrorCode.PROVIDER_NOT_READY;
    default:
      return ErrorCode.GENERAL;
  }
}
