/**
 * Where FeatureFlags reports what it cannot decide (a session flag checked without a
 * session id, a `bucketFor` of the wrong type). `console`, pino and Fastify's
 * `request.log` all fit.
 */
export interface FeatureFlagsLogger {
  error(message: string): void;
}

/** The default: one line on stderr per problem. */
export const consoleLogger: FeatureFlagsLogger = {
  error(message: string): void {
    console.error(`[vexil] ${message}`);
  },
};
