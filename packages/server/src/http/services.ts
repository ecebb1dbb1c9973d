import type { StoreEngine } from '@vexil/store';
import type { FastifyRequest } from 'fastify';
import type { ServiceConfig } from '../config.js';
import type { EvaluationLog } from '../evaluation-log.js';
import type { FlagAdmin } from '../flag-admin.js';
import type { FlagEvaluator } from '../flag-evaluator.js';
import type { ServiceMetrics } from '../metrics.js';
import type { StoreHealth } from '../store-health.js';

/** What the route plugins share; built once per service by `buildApp`. */
export interface Services {
  config: ServiceConfig;
  store: StoreEngine;
  admin: FlagAdmin;
  evaluator: FlagEvaluator;
  /** Served evaluations (/get-feature-flag, OFREP). */
  evaluationLog: EvaluationLog | undefined;
  /** Reported evaluations (POST /sdk/v1/evaluations): a queue and writer of their own. */
  reportLog: EvaluationLog | undefined;
  metrics: ServiceMetrics;
  /** Whether the store answers: while it does not, flags are served from the last data read. */
  health: StoreHealth;
  /**
   * Whether the caller may report evaluations for `project` (the report's project is
   * in its body, so this is asked once the body is read): throws to refuse. Where API
   * tokens plug in ("a `read` token for that project"); undefined: anyone may.
   */
  authorizeReport?: ((request: FastifyRequest, project: string) => void | Promise<void>) | undefined;
}

export interface RouteOptions {
  services: Services;
}
