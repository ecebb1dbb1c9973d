import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** One evaluation-log row, as the `evaluation_log` insert takes it. */
export type LogRecord = Record<string, string | number>;

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

  constructor(path: string, insertSql: string, busyTimeoutMs: number) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, path, insertSql, busyTimeoutMs } });
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

  /** Resolves once the batch is committed (one transaction). */
  write(records: readonly LogRecord[]): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, records });
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
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const insert = db.prepare(workerData.insertSql);
const write = db.transaction((records) => { for (const record of records) insert.run(record); });
parentPort.on('message', ({ id, records }) => {
  try {
    write(records);
    parentPort.postMessage({ id });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: String(error && error.message), code: error && error.code } });
  }
});
`;
