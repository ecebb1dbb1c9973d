import { FeatureFlags } from './feature-flags.js';
import { compileFlags, type FlagConfigs } from './flag-definitions.js';
import { consoleLogger, type FeatureFlagsLogger } from './logger.js';
import { sessionIdFromUrl } from './session-id.js';

/** Options of the Fastify plugin and the Express middleware. */
export interface FeatureFlagsMiddlewareOptions {
  /**
   * The flags (from `loadFlagFiles`, `flagsFromSnapshot`, or inline), or a function
   * returning the current ones — e.g. the latest snapshot. Checked when the middleware
   * is set up: a bad definition stops start-up with a FlagConfigError.
   */
  flags?: FlagConfigs | (() => FlagConfigs) | undefined;
  /** Gets the errors of undecidable checks. Default: Fastify's `request.log`, or `console.error` for Express. */
  logger?: FeatureFlagsLogger | undefined;
  /** The query parameter holding the session id. Default `sid`, as in Merino. */
  sessionIdParam?: string | undefined;
}

/** @internal Checks the flags now and returns what makes one FeatureFlags per request. */
export function featureFlagsForRequests(
  options: FeatureFlagsMiddlewareOptions,
): (url: string | undefined, requestLogger?: FeatureFlagsLogger) => FeatureFlags {
  const { flags, sessionIdParam = 'sid' } = options;
  const current = typeof flags === 'function' ? flags : () => flags;
  compileFlags(current());
  return (url, requestLogger) => {
    const logger = options.logger ?? requestLogger ?? consoleLogger;
    const sessionId = sessionIdFromUrl(url, sessionIdParam);
    try {
      return new FeatureFlags(current(), { sessionId, logger });
    } catch (error) {
      // Flags that went bad after start-up (a provider function's new value): every flag is off, loudly.
      try {
        logger.error(`Feature flags are unusable, every flag is off for this request: ${String(error)}`);
      } catch {}
      return new FeatureFlags(undefined, { sessionId, logger });
    }
  };
}
