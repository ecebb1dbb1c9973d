import type { LogRowKey, ResultValue } from '@vexil/core';

/**
 * One evaluation, as the runbook system's operation-log table holds it: the parts of
 * its row key (project, flag, instance id, request id, and `time`, UTC
 * `YYYY-MM-DD HH:MM:SS.ffffff`), then what was answered.
 */
export interface EvaluationLogEntry extends LogRowKey {
  /** The value answered; `null` where the revision said "the caller's default". */
  value: ResultValue;
  group: string;
  /** Whether the flag data came from the service's cache. */
  cacheHit: boolean;
  /**
   * true: a client reported this evaluation (`POST /sdk/v1/evaluations`), the service
   * did not serve it. Left out for served evaluations, which is how they read back:
   * a served row keeps exactly the runbook layout's columns.
   */
  reported?: boolean;
}

export interface LogQuery {
  project: string;
  flagType?: string;
  flagName?: string;
  /** Only rows logged at or after this time (UTC `YYYY-MM-DD HH:MM:SS.ffffff`, as `time`). */
  since?: string;
  limit?: number;
}

/** A flag of a project, as the log names it. */
export interface LogFlag {
  flagType: string;
  flagName: string;
}

/**
 * A batch of evaluation-log entries that the sink encodes as each is added: the
 * cost of building a batch's rows is spread over the requests instead of stalling
 * the caller's thread once per batch (SQLite files, whose batches go to a writer
 * thread as one binary buffer).
 */
export interface EncodedLogBatch {
  add(entry: EvaluationLogEntry): void;
  /** Entries added. */
  readonly size: number;
}

/** Present on sinks that take encoded batches (see EncodedLogBatch). */
export interface EncodedLogWriter {
  newBatch(): EncodedLogBatch;
  /** Appends a batch of this writer's `newBatch`, like appendLogs; the batch may be appended again after a failure. */
  appendBatch(batch: EncodedLogBatch): Promise<void>;
}

/**
 * Where evaluations are logged: every engine implements it next to FlagStore, in
 * the runbook system's operation-log layout. Writers of the log depend on this
 * interface alone.
 */
export interface EvaluationLogSink {
  /** Present where encoding log entries as they are queued pays (see EncodedLogBatch). */
  readonly encodedLogs?: EncodedLogWriter | undefined;

  appendLogs(entries: readonly EvaluationLogEntry[]): Promise<void>;

  /** Log rows in key order (flag, then instance id). */
  readLogs(query: LogQuery): Promise<EvaluationLogEntry[]>;

  /**
   * The newest `time` of each flag's log rows, in the order the flags are given
   * (undefined for a flag with none): when each was last evaluated. One call for a
   * whole project's flags, never a query per flag from the caller.
   */
  lastLogTimes(project: string, flags: readonly LogFlag[]): Promise<(string | undefined)[]>;
}
