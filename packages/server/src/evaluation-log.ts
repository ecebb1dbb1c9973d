import type { EvaluationLogEntry, FlagStore } from '@vexil/store';
import type { ServiceMetrics } from './metrics.js';

/** The part of pino's logger this uses. */
export interface LogSink {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface EvaluationLogOptions {
  /** Entries waiting at most; past this, new entries are dropped and counted. */
  maxQueue: number;
  /** Entries per store write. */
  batchSize: number;
  /** Longest wait before a partial batch is written. */
  flushMs: number;
  metrics?: ServiceMetrics | undefined;
  logger?: LogSink | undefined;
}

/** How long a failed batch waits before it is tried again. */
const RETRY_MS = 500;
/** Drops are reported in the log at most this often (the metric counts every one). */
const DROP_REPORT_MS = 10_000;

/**
 * The evaluation log: entries are queued as responses finish and written in batches
 * off the request path. The queue is bounded, so a slow or failing store costs
 * dropped (and counted) log rows, never blocked or failed responses. `close()`
 * writes everything still queued.
 */
export class EvaluationLog {
  private queue: EvaluationLogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The pending timer is an immediate write; re-arming it would postpone a full batch under load. */
  private timerDueNow = false;
  private writing: Promise<void> | undefined;
  private dropped = 0;
  private droppedSinceReport = 0;
  private lastDropReport = 0;
  private closed = false;

  constructor(
    private readonly store: FlagStore,
    private readonly options: EvaluationLogOptions,
  ) {
    options.metrics?.watchLogQueue(() => this.queue.length);
  }

  /** Queues one entry; never throws and never waits. */
  add(entry: EvaluationLogEntry): void {
    if (this.closed || this.queue.length >= this.options.maxQueue) {
      this.drop();
      return;
    }
    this.queue.push(entry);
    if (this.queue.length >= this.options.batchSize) this.schedule(0);
    else if (this.timer === undefined) this.schedule(this.options.flushMs);
  }

  get depth(): number {
    return this.queue.length;
  }

  get droppedCount(): number {
    return this.dropped;
  }

  /** Writes everything queued so far; resolves when it is stored (or failed once). */
  async flush(): Promise<void> {
    this.clearTimer();
    while (this.writing) await this.writing;
    while (this.queue.length > 0) {
      const failed = await this.writeBatch();
      if (failed) break;
    }
  }

  /** Stops taking entries, then writes what is queued, retrying a few times before giving up. */
  async close(): Promise<void> {
    this.closed = true;
    for (let attempt = 0; attempt < 5 && (this.queue.length > 0 || this.writing); attempt++) {
      await this.flush();
      if (this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    if (this.queue.length > 0) {
      this.options.logger?.error(
        { lost: this.queue.length },
        'evaluation log: could not write queued entries before exit',
      );
    }
    this.clearTimer();
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) {
      if (ms > 0 || this.timerDueNow) return;
      this.clearTimer();
    }
    this.timerDueNow = ms === 0;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDueNow = false;
      void this.drain();
    }, ms);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueNow = false;
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    const failed = await this.writeBatch();
    if (failed) this.schedule(RETRY_MS);
    else if (this.queue.length >= this.options.batchSize) this.schedule(0);
    else if (this.queue.length > 0) this.schedule(this.options.flushMs);
  }

  /** Writes one batch; on failure puts it back at the front. Resolves true when it failed. */
  private async writeBatch(): Promise<boolean> {
    if (this.queue.length === 0) return false;
    const batch = this.queue.slice(0, this.options.batchSize);
    this.queue = this.queue.slice(batch.length);
    let failed = false;
    const write = (async () => {
      try {
        await this.store.appendLogs(batch);
        this.options.metrics?.logWritten.inc(batch.length);
      } catch (error) {
        failed = true;
        this.options.metrics?.logWriteErrors.inc();
        this.options.logger?.error(
          { err: error, batch: batch.length },
          'evaluation log: batch write failed; will retry',
        );
        // Back at the front, within the bound: what does not fit is dropped and counted.
        const room = Math.max(0, this.options.maxQueue - this.queue.length);
        this.queue = [...batch.slice(0, room), ...this.queue];
        for (let i = room; i < batch.length; i++) this.drop();
      }
    })();
    this.writing = write;
    try {
      await write;
    } finally {
      this.writing = undefined;
    }
    return failed;
  }

  private drop(): void {
    this.dropped++;
    this.droppedSinceReport++;
    this.options.metrics?.logDropped.inc();
    const now = Date.now();
    if (now - this.lastDropReport >= DROP_REPORT_MS) {
      this.options.logger?.warn(
        { dropped: this.droppedSinceReport, droppedTotal: this.dropped, queueMax: this.options.maxQueue },
        'evaluation log: queue full, entries dropped',
      );
      this.lastDropReport = now;
      this.droppedSinceReport = 0;
    }
  }
}
