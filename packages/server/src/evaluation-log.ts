import { UnavailableError } from '@vexil/core';
import type { EncodedLogBatch, EvaluationLogEntry, EvaluationLogSink } from '@vexil/store';
import type { LogQueueMetrics } from './metrics.js';

/** The part of pino's logger this uses. */
export interface LogSink {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface EvaluationLogOptions {
  /**
   * Entries waiting at most; past this, new entries are dropped and counted. A failed
   * batch waiting to be retried may add up to one batch.
   */
  maxQueue: number;
  /** Entries per store write. */
  batchSize: number;
  /** Longest wait before a partial batch is written. */
  flushMs: number;
  /** The counters of this queue (served evaluations and reports each have their own). */
  metrics?: LogQueueMetrics | undefined;
  logger?: LogSink | undefined;
}

/** A batch of plain entries, for stores without encoded batches. */
class EntryBatch implements EncodedLogBatch {
  readonly entries: EvaluationLogEntry[] = [];

  add(entry: EvaluationLogEntry): void {
    this.entries.push(entry);
  }

  get size(): number {
    return this.entries.length;
  }
}

/** How long a failed batch waits before it is tried again. */
const RETRY_MS = 500;
/** Drops are reported in the log at most this often (the metric counts every one). */
const DROP_REPORT_MS = 10_000;

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** What a caller of `write` is told when its entry cannot be stored now. */
function notLogged(why: string): UnavailableError {
  return new UnavailableError(`the evaluation could not be written to the evaluation log (${why})`, {
    hint: 'VEXIL_LOG_DURABLE is on: an evaluation is answered only once its log row is stored; try again',
  });
}

/**
 * The evaluation log: entries are queued as responses finish and written in batches
 * off the request path. The queue is bounded, so a slow or failing store costs
 * dropped (and counted) log rows, never blocked or failed responses. `close()`
 * writes everything still queued.
 */
export class EvaluationLog {
  /** Sealed batches waiting to be written, oldest first. */
  private full: EncodedLogBatch[] = [];
  /** The batch entries are added to. */
  private open: EncodedLogBatch;
  /** Entries in `full` and `open`; a batch being written is no longer counted. */
  private queued = 0;
  private readonly newBatch: () => EncodedLogBatch;
  private readonly append: (batch: EncodedLogBatch) => Promise<void>;
  private timer: NodeJS.Timeout | undefined;
  /** The pending timer is an immediate write; re-arming it would postpone a full batch under load. */
  private timerDueNow = false;
  private writing: Promise<void> | undefined;
  private dropped = 0;
  private droppedSinceReport = 0;
  private lastDropReport = 0;
  private closed = false;
  /** The callers of `write` waiting for a batch to be stored. */
  private readonly waiters = new WeakMap<EncodedLogBatch, Waiter[]>();

  constructor(
    sink: EvaluationLogSink,
    private readonly options: EvaluationLogOptions,
  ) {
    options.metrics?.watchLogQueue(() => this.queued);
    // Stores that encode entries as they come (SQLite files) get their own batches;
    // the others get lists of entries.
    const encoded = sink.encodedLogs;
    this.newBatch = encoded ? () => encoded.newBatch() : () => new EntryBatch();
    this.append = encoded
      ? (batch) => encoded.appendBatch(batch)
      : (batch) => sink.appendLogs((batch as EntryBatch).entries);
    this.open = this.newBatch();
  }

  /** Queues one entry; never throws and never waits. */
  add(entry: EvaluationLogEntry): void {
    if (this.closed || this.queued >= this.options.maxQueue) {
      this.drop();
      return;
    }
    try {
      this.open.add(entry);
    } catch (error) {
      this.options.logger?.error({ err: error }, 'evaluation log: could not encode an entry');
      this.drop();
      return;
    }
    this.queued++;
    if (this.open.size >= this.options.batchSize) {
      this.seal();
      this.schedule(0);
    } else if (this.timer === undefined) this.schedule(this.options.flushMs);
  }

  /**
   * Queues one entry and resolves once it is stored (VEXIL_LOG_DURABLE): the batch it
   * joins is written at once, with every entry queued while the previous write was
   * under way (one write serves many callers). Rejects with UnavailableError when the
   * queue is full or the write fails; a failed batch is still retried, so an entry
   * whose caller was refused may be stored later, but none whose caller was answered
   * is lost.
   */
  write(entry: EvaluationLogEntry): Promise<void> {
    if (this.closed || this.queued >= this.options.maxQueue) {
      this.drop();
      return Promise.reject(notLogged(this.closed ? 'the service is stopping' : 'the log queue is full'));
    }
    const batch = this.open;
    try {
      batch.add(entry);
    } catch (error) {
      this.options.logger?.error({ err: error }, 'evaluation log: could not encode an entry');
      this.drop();
      return Promise.reject(notLogged('the entry could not be encoded'));
    }
    this.queued++;
    const done = new Promise<void>((resolve, reject) => {
      const list = this.waiters.get(batch);
      if (list === undefined) this.waiters.set(batch, [{ resolve, reject }]);
      else list.push({ resolve, reject });
    });
    if (batch.size >= this.options.batchSize) this.seal();
    this.schedule(0);
    return done;
  }

  get depth(): number {
    return this.queued;
  }

  get droppedCount(): number {
    return this.dropped;
  }

  /** Writes everything queued so far; resolves when it is stored (or failed once). */
  async flush(): Promise<void> {
    this.clearTimer();
    while (this.writing) await this.writing;
    while (this.queued > 0) {
      const failed = await this.writeBatch();
      if (failed) break;
    }
  }

  /** Stops taking entries, then writes what is queued, retrying a few times before giving up. */
  async close(): Promise<void> {
    this.closed = true;
    for (let attempt = 0; attempt < 5 && (this.queued > 0 || this.writing); attempt++) {
      await this.flush();
      if (this.queued > 0) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    if (this.queued > 0) {
      this.options.logger?.error({ lost: this.queued }, 'evaluation log: could not write queued entries before exit');
    }
    this.clearTimer();
  }

  private seal(): void {
    this.full.push(this.open);
    this.open = this.newBatch();
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
    else if (this.full.length > 0) this.schedule(0);
    // Entries whose callers wait (durable writes) go at once; others wait for more company.
    else if (this.open.size > 0) this.schedule(this.waiters.has(this.open) ? 0 : this.options.flushMs);
  }

  /**
   * Writes the oldest batch (the open one when none is full); on failure puts it
   * back at the front, to be tried again. Resolves true when it failed.
   */
  private async writeBatch(): Promise<boolean> {
    if (this.full.length === 0) {
      if (this.open.size === 0) return false;
      this.seal();
    }
    const batch = this.full.shift()!;
    this.queued -= batch.size;
    let failed = false;
    const write = (async () => {
      try {
        await this.append(batch);
        this.options.metrics?.logWritten.inc(batch.size);
        this.settle(batch, undefined);
      } catch (error) {
        failed = true;
        this.settle(batch, notLogged('the store did not take it'));
        this.options.metrics?.logWriteErrors.inc();
        this.options.logger?.error({ err: error, batch: batch.size }, 'evaluation log: batch write failed; will retry');
        // Kept whole (an encoded batch cannot be split): the queue may pass its bound by this one batch.
        this.full.unshift(batch);
        this.queued += batch.size;
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

  /** Answers the callers waiting for `batch`, once. */
  private settle(batch: EncodedLogBatch, error: Error | undefined): void {
    const list = this.waiters.get(batch);
    if (list === undefined) return;
    this.waiters.delete(batch);
    for (const waiter of list) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
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
