import type { FeatureFlags } from './feature-flags.js';
import { type FeatureFlagsMiddlewareOptions, featureFlagsForRequests } from './request-flags.js';

declare global {
  namespace Express {
    interface Request {
      /** This request's feature flags (Merino's `request.scope[ScopeKey.FEATURE_FLAGS]`). */
      featureFlags: FeatureFlags;
    }
  }
}

/** The part of an Express (4 or 5) request the middleware uses. */
export interface FeatureFlagsRequest {
  originalUrl?: string | undefined;
  url?: string | undefined;
  featureFlags?: FeatureFlags;
}

/**
 * Express middleware: sets `req.featureFlags`, a FeatureFlags built with the `sid` of
 * the query string (the last one; `?sid=` is the empty session id), read from the raw
 * URL whatever the app's query parser.
 *
 * ```ts
 * app.use(featureFlagsMiddleware({ flags: loadFlagFiles('flags') }));
 * app.get('/', (req, res) => res.json({ newUi: req.featureFlags.isEnabled('new_ui') }));
 * ```
 */
export function featureFlagsMiddleware(
  options: FeatureFlagsMiddlewareOptions = {},
): (req: FeatureFlagsRequest, res: unknown, next: (error?: unknown) => void) => void {
  const create = featureFlagsForRequests(options);
  return (req, _res, next) => {
    req.featureFlags = create(req.originalUrl ?? req.url);
    next();
  };
}
