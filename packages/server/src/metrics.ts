import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus metrics, on a registry of its own so that several
 * services in one process (tests) do not share counters.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'vexil_http_requests_total',
    help: 'HTTP requests by route, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'vexil_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly evaluations = new Counter({
    name: 'vexil_evaluations_total',
    help: 'Flag evaluations by project, flag and rollout group',
    labelNames: ['project', 'flag', 'group'] as const,
    registers: [this.registry],
  });
  readonly cacheLookups = new Counter({
    name: 'vexil_cache_lookups_total',
    help: 'Cache lookups by cache (flag, hash) and result (hit, miss)',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });
  readonly logQueueDepth = new Gauge({
    name: 'vexil_evaluation_log_queue_depth',
    help: 'Evaluations waiting to be written to the log table',
    registers: [this.registry],
  });
  readonly logWritten = new Counter({
    name: 'vexil_evaluation_log_written_total',
    help: 'Evaluations written to the log table',
    registers: [this.registry],
  });
  readonly logDropped = new Counter({
    name: 'vexil_evaluation_log_dropped_total',
    help: 'Evaluations dropped because the log queue was full',
    registers: [this.registry],
  });
  readonly logWriteErrors = new Counter({
    name: 'vexil_evaluation_log_write_errors_total',
    help: 'Failed batch writes to the log table (the batch is retried)',
    registers: [this.registry],
  });

  /** Cache lookups by cache and result, bound once (they are counted on every evaluation). */
  readonly cacheHits = {
    flag: { hit: this.cacheLookups.labels('flag', 'hit'), miss: this.cacheLookups.labels('flag', 'miss') },
    hash: { hit: this.cacheLookups.labels('hash', 'hit'), miss: this.cacheLookups.labels('hash', 'miss') },
  };

  // Labelled children, looked up once per label set: prom-client hashes the label
  // object on every call otherwise, which showed in the service's profile.
  private readonly requestChildren = new Map<
    string,
    { count: { inc(): void }; duration: { observe(v: number): void } }
  >();
  private readonly evaluationChildren = new Map<string, { inc(): void }>();

  /** One HTTP request answered: counted and timed by route, method and status. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let child = this.requestChildren.get(key);
    if (child === undefined) {
      const labels = { route, method, status: String(status) };
      child = { count: this.httpRequests.labels(labels), duration: this.httpDuration.labels(labels) };
      this.requestChildren.set(key, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
  }

  /** One evaluation, by project, flag and rollout group. */
  countEvaluation(project: string, flag: string, group: string): void {
    const key = `${project}#${flag}#${group}`;
    let child = this.evaluationChildren.get(key);
    if (child === undefined) {
      child = this.evaluations.labels({ project, flag, group });
      this.evaluationChildren.set(key, child);
    }
    child.inc();
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'vexil_' });
  }
}
