import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UnavailableError } from '@vexil/core';
import type { LogWriterReply, LogWriterThreadData } from './log-writer-thread.js';
import type { SqliteLogBatch } from './sqlite-log-batch.js';

/**
 * Writes evaluation-log batches on a worker thread with its own connection to the
 * SQLite file. better-sqlite3 is synchronous: on the service's thread a batch of
 * inserts stalls every request in flight (it set the p99 of bench:http). WAL mode lets
 * the worker write while the main connection reads. The thread is the module
 * log-writer-thread.ts, always run from the build (see threadUrl).
 */
export class SqliteLogWriter {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #nextId = 0;
  #failure: Error | undefined;

  constructor(path: string, busyTimeoutMs: number) {
    const workerData: LogWriterThreadData = { path, busyTimeoutMs };
    this.#worker = new Worker(threadUrl(), { workerData });
    this.#worker.unref();
    this.#worker.on('message', (reply: LogWriterReply) => {
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

/**
 * The thread's module in the build, beside this one's. Under vitest this module runs
 * from its TypeScript source, and a Worker cannot load TypeScript on Node 20, so the
 * thread comes from the build there too (`npm test` builds before it runs the tests).
 */
function threadUrl(): URL {
  const here = new URL('./log-writer-thread.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return here;
  // From packages/store/src/engines/sqlite/ to packages/store/dist/engines/sqlite/.
  const built = new URL('../../../dist/engines/sqlite/log-writer-thread.js', import.meta.url);
  if (!existsSync(fileURLToPath(built))) {
    throw new UnavailableError(`the SQLite log writer thread is not built (${fileURLToPath(built)} is missing)`, {
      hint: 'run `npm run build` first',
    });
  }
  return built;
}
