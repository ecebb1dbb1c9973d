import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DECODE_ROWS_SOURCE, type SqliteLogBatch } from './sqlite-log-batch.js';

/** The insert of one row; its parameters are made by decodeLogRows. */
export const INSERT_LOG_SQL = `INSERT INTO evaluation_log
  (row_key, project, flag_type, flag_name, RequestID, Name, CreatedTimestamp, Type, InstanceID,
   AssignedValue, AssignedGroup, CacheFlag)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * How much nicer than the service the writer thread runs (Linux; at most 19). At the
 * service's own priority, every batch posted to the sleeping thread woke it onto the
 * service's core for a whole scheduler slice: under load one post in ten stalled the
 * event loop 3–5 ms (seen as postMessage time in --cpu-prof). The log can wait;
 * responses cannot. Ten lower, the thread still gets a tenth of a contended core, more
 * than the log needs at 20,000 rows/s.
 */
export const LOG_WRITER_NICE_INCREMENT = 10;

interface Reply {
  id: number;
  error?: { message: string; code?: string };
}

/**
 * Writes evaluation-log batches on a worker thread with its own connection to the
 * SQLite file. better-sqlite3 is synchronous: on the service's thread a batch of
 * inserts stalls every request in flight (it set the p99 of bench:http). WAL mode lets
 * the worker write while the main connection reads. The worker is plain CommonJS
 * given as source, so it runs the same from the TypeScript sources (tests) and from
 * the build.
 */
export class SqliteLogWriter {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #nextId = 0;
  #failure: Error | undefined;

  constructor(path: string, busyTimeoutMs: number) {
    const require = createRequire(import.meta.url);
    const driver = require.resolve('better-sqlite3');
    // The built @vexil/core (an ES module): the thread makes row keys with its logRowKey.
    const core = pathToFileURL(require.resolve('@vexil/core')).href;
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver,
        core,
        path,
        insertSql: INSERT_LOG_SQL,
        busyTimeoutMs,
        niceIncrement: LOG_WRITER_NICE_INCREMENT,
      },
    });
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (reply.error) pending.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      else pending.resolve();
    });
    const fail = (error: Error) => {
      this.#failure = error;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`the SQLite log writer thread exited (code ${code})`)));
  }

  /** The thread died or failed to start: every write fails; make a new writer. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Writes a batch's rows in one transaction; resolves once it is committed. */
  write(batch: SqliteLogBatch): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const rows = batch.encode();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, rows }, [rows.text.buffer, rows.fields.buffer]);
    });
  }

  /** Waits for the batches already sent, then stops the thread. */
  async close(): Promise<void> {
    while (this.#pending.size > 0 && !this.#failure) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await this.#worker.terminate();
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
try {
  // This thread's own id: setpriority on a thread id changes that thread only.
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  const os = require('node:os');
  // A thread starts at its creator's nice value: keep the distance if the service itself was started niced.
  os.setPriority(tid, Math.min(19, os.getPriority(tid) + workerData.niceIncrement));
} catch {
  // Not Linux (no /proc/thread-self): the thread keeps the service's priority.
}
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const insert = db.prepare(workerData.insertSql);
const core = import(workerData.core);
${DECODE_ROWS_SOURCE}
const write = db.transaction((rows) => {
  for (const row of rows) insert.run(row);
});
// Batches arrive in order and each waits for the same import, so they are written in order.
parentPort.on('message', async ({ id, rows }) => {
  try {
    const { logRowKey } = await core;
    // Decoded before the transaction: a bad batch fails without writing any of it.
    write(decodeLogRows(rows, logRowKey));
    parentPort.postMessage({ id });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: String(error && error.message), code: error && error.code } });
  }
});
`;
