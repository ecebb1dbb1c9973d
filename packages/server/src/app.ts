import cors from '@fastify/cors';
import type { StoreEngine } from '@vexil/store';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type onResponseHookHandler,
} from 'fastify';
import { registerAccessControl, TokenLookup } from './access/access-control.js';
import { ensureAdminToken } from './access/bootstrap.js';
import { ProjectAccess } from './access/project-access.js';
import { ChangeEvents } from './change-events.js';
import { propagateChanges } from './change-propagation.js';
import { ChangeManagement } from './changes/change-management.js';
import type { SetTimer } from './changes/scheduler.js';
import type { ServiceConfig } from './config.js';
import { EvaluationLog } from './evaluation-log.js';
import { ExpiredFlagCounter } from './expired-flags.js';
import { FlagAdmin } from './flag-admin.js';
import { FlagEvaluator } from './flag-evaluator.js';
import { accessRoutes } from './http/access-routes.js';
import { adminRoutes } from './http/admin-routes.js';
import { adminBrowserAccess } from './http/browser-access.js';
import { callerRoutes } from './http/caller-routes.js';
import { answerClientError } from './http/client-errors.js';
import { registerDashboard } from './http/dashboard-files.js';
import { registerDocs } from './http/docs.js';
import { routeNotFound, toHttpError } from './http/errors.js';
import { EventStreams } from './http/event-streams.js';
import { flagRoutes } from './http/flag-routes.js';
import { healthRoutes } from './http/health-routes.js';
import { limitJsonDepth } from './http/json-body.js';
import { lifecycleRoutes } from './http/lifecycle-routes.js';
import { VexilLogController } from './http/log-controller.js';
import { logRoutes } from './http/log-routes.js';
import { ofrepRoutes } from './http/ofrep-routes.js';
import { type Caller, clientAddress, registerRateLimits } from './http/rate-limits.js';
import { requestId } from './http/request-id.js';
import { lazyRequestLogger } from './http/request-logger.js';
import { sdkRoutes } from './http/sdk-routes.js';
import type { Services } from './http/services.js';
import { limitStreams, StreamAdmission } from './http/stream-limits.js';
import { webhookRoutes } from './http/webhook-routes.js';
import { ServiceMetrics } from './metrics.js';
import { ProjectSnapshots } from './project-snapshots.js';
import { storeAddressRedactor, withStoreAddressHidden } from './store-address.js';
import { StoreHealth } from './store-health.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './webhooks/webhook-dispatcher.js';
import { WebhookRecords } from './webhooks/webhook-records.js';

export interface AppOptions {
  config: ServiceConfig;
  /** Flags are read from it and evaluations logged to it. */
  store: StoreEngine;
  /** pino logging; off in tests unless asked for. */
  logger?: boolean;
  /** Where log lines go when logging (standard output by default). */
  logStream?: { write(line: string): void };
  /** Process metrics (CPU, memory, event loop); on by default. */
  defaultMetrics?: boolean;
  /** Who a request comes from, for the per-caller limits; the token's id, else the client's address, by default. */
  caller?: Caller;
  /** Where the dashboard's built files are; packages/server/dashboard/ by default. */
  dashboardDir?: string;
  /** Where the service announces its changes; a new emitter by default (read it back from `app.services.events`). */
  events?: ChangeEvents;
  /** How webhooks are sent (tests give their own fetch, clock and retry timers). */
  webhooks?: Omit<WebhookDispatcherOptions, 'logger'>;
  /** The clock of schedules, ramps and approvals (ms since the epoch); Date.now by default. */
  now?: () => number;
  /**
   * The scheduler that applies due scheduled revisions (`false`: none, for a replica
   * that only serves). It reads the store for schedules every VEXIL_CHANGE_POLL_MS.
   */
  scheduler?: false | { setTimer?: SetTimer; pollMs?: number };
}

const MINUTE = 60_000;

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const answer = toHttpError(error, request.id);
  void reply.code(answer.status).send(answer.body);
}

/**
 * How often Node looks for requests past VEXIL_REQUEST_TIMEOUT_MS: often enough that a
 * slow request is cut soon after its time, at most once a second.
 */
function timeoutCheckMs(requestTimeoutMs: number): number {
  return Math.min(1000, Math.max(25, Math.floor(requestTimeoutMs / 4)));
}

/**
 * Builds the service on a store the caller opened (and closes). Closing the app
 * stops accepting requests, waits for those in flight, then writes the queued
 * evaluation log.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  // Answers never say where the store is: its errors reach the routes with the address hidden (the log keeps it).
  const store = withStoreAddressHidden(options.store, storeAddressRedactor(config));
  const redact = storeAddressRedactor(config);
  const access = withStoreAddressHidden(options.store.access, redact);
  // A token's limits are its own wherever it is used from; without one, the address's.
  const caller: Caller = options.caller ?? ((request) => request.accessToken?.id ?? clientAddress(request));
  const bootstrap = config.adminToken === undefined ? undefined : await ensureAdminToken(access, config.adminToken);
  const projects = new ProjectAccess(access, store);
  const logging = options.logger === true;
  const app = Fastify({
    logger: logging
      ? { level: config.logLevel, ...(options.logStream === undefined ? {} : { stream: options.logStream }) }
      : false,
    ...(logging ? { childLoggerFactory: lazyRequestLogger } : {}),
    logController: new VexilLogController(),
    genReqId: requestId,
    // Flag names may have 200 characters; the router's default cuts path parameters at 100.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 1000 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    bodyLimit: config.bodyLimitBytes,
    // A request must arrive in full in time: a body trickling in a byte at a time is cut with 408.
    requestTimeout: config.requestTimeoutMs,
    http: {
      maxHeaderSize: config.maxHeaderBytes,
      headersTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: timeoutCheckMs(config.requestTimeoutMs),
    },
    // Fastify's own answers (a bad URL, a connection-level error) in the service's error body.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });

  const events =
    options.events ??
    new ChangeEvents((error, event) => app.log.error({ err: error, event: event.type }, 'a change listener failed'));
  const webhooks = new WebhookRecords(access, config.webhooks ?? []);
  const now = options.now ?? Date.now;
  const admin = new FlagAdmin(store, { side: 'http', projects, events, now });
  const metrics = new ServiceMetrics({ defaultMetrics: options.defaultMetrics !== false });
  const health = new StoreHealth();
  metrics.watchStore(() => ({ stale: health.stale, staleSeconds: health.staleSeconds }));
  metrics.watchExpiredFlags(new ExpiredFlagCounter(store, { timeoutMs: config.storeTimeoutMs }).counts);
  const services: Services = {
    config,
    store,
    access,
    tokens: new TokenLookup(access),
    projects,
    admin,
    events,
    changes: new ChangeManagement({ admin, records: access, events, now }),
    evaluator: new FlagEvaluator(store, {
      flagCacheTtlMs: config.flagCacheTtlMinutes * MINUTE,
      flagCacheSize: config.flagCacheSize,
      storeTimeoutMs: config.storeTimeoutMs,
      metrics,
      health,
    }),
    evaluationLog: config.evaluationLog
      ? // The log's own errors are only logged, with the address: it gets the store as opened.
        new EvaluationLog(options.store, {
          maxQueue: config.logQueueMax,
          batchSize: config.logBatchSize,
          flushMs: config.logFlushMs,
          metrics,
          logger: app.log,
        })
      : undefined,
    reportLog: config.evaluationLog
      ? new EvaluationLog(options.store, {
          maxQueue: config.reportLogQueueMax,
          batchSize: config.logBatchSize,
          flushMs: config.logFlushMs,
          metrics: metrics.reportLog,
          logger: app.log,
        })
      : undefined,
    metrics,
    health,
    webhooks,
    webhookDispatcher: new WebhookDispatcher(webhooks, { now, ...options.webhooks, logger: app.log }),
  };
  services.webhookDispatcher.subscribe(events);
  app.decorate('services', services);
  if (bootstrap !== undefined) services.tokens.remember(bootstrap);

  app.setErrorHandler((error, request, reply) => {
    const answer = toHttpError(error, request.id, { contentType: request.headers['content-type'] });
    if (answer.serverFault) request.log.error({ err: error }, answer.body.message);
    else request.log.info({ status: answer.status, error: answer.body.error }, answer.body.message);
    if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds));
    if (answer.status === 401) reply.header('www-authenticate', 'Bearer realm="vexil"');
    return reply.code(answer.status).send(answer.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const answer = routeNotFound(request.method, request.url, request.id);
    metrics.observeRequest('unmatched', request.method, 404, reply.elapsedTime / 1000);
    return reply.code(404).send(answer.body);
  });

  // Each route gets its own timing hook, which knows the route's URL: the
  // request's routeOptions would build an object per request to tell it. Callback
  // style, because an async hook costs a promise per request.
  app.addHook('onRoute', (route) => {
    const url = route.url;
    const observe: onResponseHookHandler = (request, reply, done) => {
      metrics.observeRequest(url, request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    const existing = route.onResponse;
    route.onResponse =
      existing === undefined ? [observe] : [observe, ...(Array.isArray(existing) ? existing : [existing])];
  });
  // One watch of the store feeds both the flag cache and the SDK change streams.
  // Snapshots are views over the evaluator's flag cache: one compiled entry per flag serves all routes.
  const snapshots = new ProjectSnapshots(store, {
    flags: services.evaluator.flags,
    storeTimeoutMs: config.storeTimeoutMs,
    refreshMs: config.flagCacheTtlMinutes * MINUTE,
    health,
    logger: app.log,
  });
  const streams = new EventStreams(config.sseHeartbeatMs);
  // Who may call what, then limits on every input, in place before the first route is added.
  registerAccessControl(app, { tokens: services.tokens, projects, defaultProject: config.defaultProject });
  limitJsonDepth(app, config.jsonMaxDepth);
  await registerRateLimits(app, config, caller);
  limitStreams(app, new StreamAdmission({ perCaller: config.sseMaxPerClient, total: config.sseMaxTotal }), caller);
  const stopPropagation = propagateChanges(options.store, services.evaluator, {
    intervalMs: config.changePollMs,
    logger: app.log,
    listeners: [(changes) => snapshots.onChanges(changes)],
  });
  const scheduler =
    options.scheduler === false
      ? undefined
      : services.changes.scheduler({
          pollMs: options.scheduler?.pollMs ?? config.changePollMs,
          retentionMs: config.scheduleRetentionDays * 86_400_000,
          // Served from the moment it is written, on this replica and on one that found it written, not a poll later.
          onSettled: (record) => services.evaluator.invalidate(record.ref),
          setTimer: options.scheduler?.setTimer,
          onError: (error) => app.log.error({ err: error }, 'applying scheduled revisions failed; trying again'),
        });
  // Open change streams never finish by themselves: end them first, so closing is not held up.
  app.addHook('preClose', async () => streams.closeAll());
  app.addHook('onClose', async () => {
    await services.webhookDispatcher.close();
    await scheduler?.stop();
    await stopPropagation();
    await snapshots.close();
    await Promise.all([services.evaluationLog?.close(), services.reportLog?.close()]);
  });

  await registerDocs(app);
  await registerDashboard(app, options.dashboardDir);
  await app.register(flagRoutes, { services });
  await app.register(healthRoutes, { services });
  await app.register(
    async (admin) => {
      if (config.adminCorsOrigins !== undefined)
        await admin.register(cors, adminBrowserAccess(config.adminCorsOrigins));
      await admin.register(adminRoutes, { services });
      await admin.register(logRoutes, { services });
      await admin.register(accessRoutes, { services });
      await admin.register(callerRoutes, { services });
      await admin.register(webhookRoutes, { services });
      await admin.register(lifecycleRoutes, { services });
    },
    { prefix: '/admin/v1' },
  );
  await app.register(ofrepRoutes, { services, snapshots, prefix: '/ofrep/v1' });
  await app.register(sdkRoutes, { services, snapshots, streams, prefix: '/sdk/v1' });
  // Schedules that fell due while no replica ran are applied now.
  await scheduler?.start();
  return app;
}
