import { parentPort, workerData } from 'node:worker_threads';
import { decodeLogRows, type EncodedRows, INSERT_LOG_SQL } from './sqlite-log-batch.js';
import { openConnection } from './sqlite-schema.js';

/**
 * The SQLite log writer's thread (started by SqliteLogWriter, never imported): its
 * own connection to the file, one transaction per batch, a reply per batch.
 */

/** What SqliteLogWriter passes as `workerData`. */
export interface LogWriterThreadData {
  path: string;
  busyTimeoutMs: number;
}

/** What the thread answers for each batch: its id, and the error if it was not written. */
export interface LogWriterReply {
  id: number;
  error?: { message: string; code?: string };
}

const port = parentPort;
if (port === null) throw new Error('log-writer-thread is a worker thread: SqliteLogWriter starts it');
const { path, busyTimeoutMs } = workerData as LogWriterThreadData;

const db = openConnection(path, busyTimeoutMs);
const insert = db.prepare<[(string | number)[]]>(INSERT_LOG_SQL);
const write = db.transaction((rows: (string | number)[][]) => {
  for (const row of rows) insert.run(row);
});

// Batches arrive in order and are written in order, one at a time (the handler is synchronous).
port.on('message', ({ id, rows }: { id: number; rows: EncodedRows }) => {
  let reply: LogWriterReply;
  try {
    // Decoded before the transaction: a bad batch fails without writing any of it.
    write(decodeLogRows(rows));
    reply = { id };
  } catch (error) {
    const { message, code } = error as { message?: unknown; code?: unknown };
    reply = { id, error: { message: String(message ?? error) } };
    if (typeof code === 'string') reply.error!.code = code;
  }
  port.postMessage(reply);
});
