import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { type HistogramChild, HotCounter, HotHistogram } from './hot-metrics.js';
import { nested } from './nested-map.js';

/** The counters of one evaluation-log queue. */
export interface LogQueueMetrics {
  readonly logWritten: { inc(n?: number): void };
  readonly logDropped: { inc(): void };
  readonly logWriteErrors: { inc(): void };
  /** Where the queue-depth gauge reads its depth when scraped. */
  watchLogQueue(depth: () => number): void;
}

interface RequestChild {
  count: { inc(): void };
  duration: HistogramChild;
}

/**
 * The service's Prometheus metrics, on a registry of its own so that several
 * services in one process (tests) do not share counters.
 */
export class ServiceMetrics implements LogQueueMetrics {
  readonly registry = new Registry();
  private readonly httpRequests = new HotCounter<'route' | 'method' | 'status'>(
    'vexil_http_requests_total',
    'HTTP requests by route, method and status code',
    this.registry,
  );
  private readonly httpDuration = new HotHistogram<'route' | 'method' | 'status'>(
    'vexil_http_request_duration_seconds',
    'HTTP request latency by route, method and status code',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    this.registry,
  );
  private readonly evaluations = new HotCounter<'project' | 'flag' | 'group'>(
    'vexil_evaluations_total',
    'Flag evaluations by project, flag and rollout group',
    this.registry,
  );
  private readonly cacheLookups = new HotCounter<'cache' | 'result'>(
    'vexil_cache_lookups_total',
    'Cache lookups by cache (flag) and result (hit, miss)',
    this.registry,
  );
  private logQueue: (() => number) | undefined;
  readonly logQueueDepth = new Gauge({
    name: 'vexil_evaluation_log_queue_depth',
    help: 'Evaluations waiting to be written to the log table',
    registers: [this.registry],
    // Read when scraped: setting it on every queued entry cost more than the entry.
    collect: () => {
      this.logQueueDepth.set(this.logQueue?.() ?? 0);
    },
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
  private expiredFlagCounts: (() => Promise<ReadonlyMap<string, number> | undefined>) | undefined;
  /** Labelled by project only (the store's projects), so its series stay as few as the projects. */
  readonly expiredFlags = new Gauge({
    name: 'vexil_flags_expired',
    help: 'Flags past their Metadata.expires day (they should be gone), per project; vexil doctor names them',
    labelNames: ['project'],
    registers: [this.registry],
    collect: async () => {
      const counts = await this.expiredFlagCounts?.();
      if (counts === undefined) return;
      this.expiredFlags.reset();
      for (const [project, count] of counts) this.expiredFlags.set({ project }, count);
    },
  });
  readonly logWriteErrors = new Counter({
    name: 'vexil_evaluation_log_write_errors_total',
    help: 'Failed batch writes to the log table (the batch is retried)',
    registers: [this.registry],
  });

  /**
   * The queue of reported evaluations (POST /sdk/v1/evaluations): its own share, so
   * that a flood of reports cannot push served evaluations out of the log.
   */
  readonly reportLog: LogQueueMetrics = reportLogMetrics(this.registry);
  /** Reported evaluations by outcome: accepted, or the reason they were refused. */
  readonly reports = new Counter({
    name: 'vexil_evaluation_reports_total',
    help: 'Reported evaluations (POST /sdk/v1/evaluations) by outcome: accepted, or why they were refused',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private storeState: (() => { stale: boolean; staleSeconds: number }) | undefined;
  readonly storeStale = new Gauge({
    name: 'vexil_store_stale',
    help: 'The store did not answer: flags are served from the last data read (1), or the store answers (0)',
    registers: [this.registry],
    collect: () => {
      this.storeStale.set(this.storeState?.().stale === true ? 1 : 0);
    },
  });
  readonly storeStaleSeconds = new Gauge({
    name: 'vexil_store_stale_seconds',
    help: 'How long the store has not been answering (0 while it answers)',
    registers: [this.registry],
    collect: () => {
      this.storeStaleSeconds.set(this.storeState?.().staleSeconds ?? 0);
    },
  });

  /** Where the store-stale gauges read their state when scraped. */
  watchStore(state: () => { stale: boolean; staleSeconds: number }): void {
    this.storeState = state;
  }

  /** Cache lookups by cache and result, bound once (they are counted on every evaluation). */
  readonly cacheHits = {
    flag: {
      hit: this.cacheLookups.child({ cache: 'flag', result: 'hit' }),
      miss: this.cacheLookups.child({ cache: 'flag', result: 'miss' }),
    },
  };

  // Children by label values, nested maps so that a lookup builds no key string.
  private readonly requestChildren = new Map<string, Map<string, Map<number, RequestChild>>>();
  private readonly evaluationChildren = new Map<string, Map<string, Map<string, { inc(): void }>>>();

  /** One HTTP request answered: counted and timed by route, method and status. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const byStatus = nested(nested(this.requestChildren, route), method);
    let child = byStatus.get(status);
    if (child === undefined) {
      const labels = { route, method, status: String(status) };
      child = { count: this.httpRequests.child(labels), duration: this.httpDuration.child(labels) };
      byStatus.set(status, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
  }

  /** One evaluation, by project, flag and rollout group. */
  countEvaluation(project: string, flag: string, group: string): void {
    const byGroup = nested(nested(this.evaluationChildren, project), flag);
    let child = byGroup.get(group);
    if (child === undefined) {
      child = this.evaluations.child({ project, flag, group });
      byGroup.set(group, child);
    }
    child.inc();
  }

  /** Where the expired-flags gauge reads its counts when scraped (see ExpiredFlagCounter). */
  watchExpiredFlags(counts: () => Promise<ReadonlyMap<string, number> | undefined>): void {
    this.expiredFlagCounts = counts;
  }

  /** Where the log-queue gauge reads its depth when scraped. */
  watchLogQueue(depth: () => number): void {
    this.logQueue = depth;
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'vexil_' });
  }
}

function reportLogMetrics(registry: Registry): LogQueueMetrics {
  let depth: (() => number) | undefined;
  const queueDepth: Gauge = new Gauge({
    name: 'vexil_report_log_queue_depth',
    help: 'Reported evaluations waiting to be written to the log table',
    registers: [registry],
    collect: () => {
      queueDepth.set(depth?.() ?? 0);
    },
  });
  return {
    logWritten: new Counter({
      name: 'vexil_report_log_written_total',
      help: 'Reported evaluations written to the log table',
      registers: [registry],
    }),
    logDropped: new Counter({
      name: 'vexil_report_log_dropped_total',
      help: "Reported evaluations dropped because the reports' log queue was full",
      registers: [registry],
    }),
    logWriteErrors: new Counter({
      name: 'vexil_report_log_write_errors_total',
      help: 'Failed batch writes of reported evaluations (the batch is retried)',
      registers: [registry],
    }),
    watchLogQueue: (read) => {
      depth = read;
    },
  };
}
