import type { StoreEngine } from '@vexil/store';
import type { ServiceConfig } from '../config.js';
import type { EvaluationLog } from '../evaluation-log.js';
import type { FlagAdmin } from '../flag-admin.js';
import type { FlagEvaluator } from '../flag-evaluator.js';
import type { ServiceMetrics } from '../metrics.js';

/** What the route plugins share; built once per service by `buildApp`. */
export interface Services {
  config: ServiceConfig;
  store: StoreEngine;
  admin: FlagAdmin;
  evaluator: FlagEvaluator;
  evaluationLog: EvaluationLog | undefined;
  metrics: ServiceMetrics;
}

export interface RouteOptions {
  services: Services;
}
