import type { AccessStore, StoreEngine } from '@vexil/store';
import type { TokenLookup } from '../access/access-control.js';
import type { ProjectAccess } from '../access/project-access.js';
import type { ChangeEvents } from '../change-events.js';
import type { ChangeManagement } from '../changes/change-management.js';
import type { ServiceConfig } from '../config.js';
import type { EvaluationLog } from '../evaluation-log.js';
import type { FlagAdmin } from '../flag-admin.js';
import type { FlagEvaluator } from '../flag-evaluator.js';
import type { ServiceMetrics } from '../metrics.js';
import type { StoreHealth } from '../store-health.js';
import type { WebhookDispatcher } from '../webhooks/webhook-dispatcher.js';
import type { WebhookRecords } from '../webhooks/webhook-records.js';

/** What the route plugins share; built once per service by `buildApp`. */
export interface Services {
  config: ServiceConfig;
  store: StoreEngine;
  /** Tokens and project settings (the store's access store, its errors' addresses hidden). */
  access: AccessStore;
  tokens: TokenLookup;
  projects: ProjectAccess;
  /** Procedures as nobody in particular: routes act as the request's token owner with `admin.actingAs(actorOf(request))`. */
  admin: FlagAdmin;
  /** Every change the service makes, announced (change-events.ts): subscribe to react to changes. */
  events: ChangeEvents;
  /** Scheduled revisions, ramps and approvals (docs/change-management.md). */
  changes: ChangeManagement;
  evaluator: FlagEvaluator;
  /** Served evaluations (/get-feature-flag, OFREP). */
  evaluationLog: EvaluationLog | undefined;
  /** Reported evaluations (POST /sdk/v1/evaluations): a queue and writer of their own. */
  reportLog: EvaluationLog | undefined;
  metrics: ServiceMetrics;
  /** Whether the store answers: while it does not, flags are served from the last data read. */
  health: StoreHealth;
  /** Webhooks (VEXIL_WEBHOOKS and the store's) and their delivery log. */
  webhooks: WebhookRecords;
  /** Sends every change event to the webhooks that want it. */
  webhookDispatcher: WebhookDispatcher;
}

export interface RouteOptions {
  services: Services;
}
