import { FLAG_TYPES, type FlagType, type RowKind } from '@vexil/core';
import pg from 'pg';
import type { FlagChange, StopWatching, WatchOptions } from '../../flag-store.js';

/**
 * The change feed of PostgresStore: `append` sends `pg_notify` on CHANGE_CHANNEL in
 * its transaction (delivered at commit, in commit order); a watch LISTENs on a
 * connection of its own, reconnects with backoff when it is lost, and after each
 * (re)connection catches up from the rows table so that no change is lost.
 *
 * Payloads are JSON arrays of changes, several rows per notification while they fit
 * in PostgreSQL's 8000-byte limit:
 *
 *   [{"seq":41,"kind":"FLAG","project":"p","flagType":"feature","name":"new_ui","wtime":"2024-…"}, …]
 *
 * `seq` is the row's `vexil_flag_rows.seq`. An element with only `seq` (a row too big
 * to describe within the limit) tells watchers to read the rows table.
 *
 * The cursor. Appends hold one advisory lock (LOCK_APPEND) from before they take
 * their seqs until they commit, so seq order is commit order is notification order,
 * and every append in flight has larger seqs than every committed row. A watch keeps
 * the largest seq it has delivered (at the start, the largest committed); after
 * connecting it LISTENs, then reads the rows above the cursor, holding back the
 * notifications that arrive meanwhile, then accepts those above the new cursor.
 * Internal to the package.
 */
export const CHANGE_CHANNEL = 'vexil_flag_changes';

/** PostgreSQL refuses payloads of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999;

/** One change as carried in a notification payload. */
export interface ChangeMessage {
  seq: number;
  kind: RowKind;
  project: string;
  flagType: FlagType;
  name: string;
  wtime: string;
}

/** Packs changes into as few payloads as fit the limit, in order. @internal */
export function changePayloads(changes: readonly ChangeMessage[]): string[] {
  const payloads: string[] = [];
  let parts: string[] = [];
  let bytes = 2; // the brackets
  for (const change of changes) {
    let part = JSON.stringify(change);
    let size = Buffer.byteLength(part, 'utf8');
    if (size + 2 > MAX_PAYLOAD_BYTES) {
      part = JSON.stringify({ seq: change.seq });
      size = Buffer.byteLength(part, 'utf8');
    }
    if (parts.length > 0 && bytes + 1 + size > MAX_PAYLOAD_BYTES) {
      payloads.push(`[${parts.join(',')}]`);
      parts = [];
      bytes = 2;
    }
    bytes += (parts.length > 0 ? 1 : 0) + size;
    parts.push(part);
  }
  if (parts.length > 0) payloads.push(`[${parts.join(',')}]`);
  return payloads;
}

/** After a connection loss: the first retry's delay, doubled per failure up to the maximum (with jitter). */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;
/** Rows read per query when catching up. */
const CATCH_UP_PAGE = 5000;

interface ChangeRecord {
  seq_text: string;
  kind: RowKind;
  project: string;
  flag_type: FlagType;
  flag_name: string;
  wtime: string;
}

export interface WatchContext {
  /** Client configuration for the listening connection. */
  clientConfig: pg.ClientConfig;
  /** Runs `fn` on a pooled client (the cursor at the start of the watch). */
  withPooledClient<T>(fn: (client: pg.ClientBase) => Promise<T>): Promise<T>;
  /** Maps driver errors to Vexil's. */
  toError(error: unknown): unknown;
  /** Called once stopped, so the store forgets the watch. */
  onStopped(): void;
}

/** One `PostgresStore.watch`. @internal */
export class PostgresWatch {
  readonly #context: WatchContext;
  readonly #listener: (changes: readonly FlagChange[]) => void;
  readonly #onError: ((error: unknown) => void) | undefined;

  #stopped = false;
  #client: pg.Client | undefined;
  /** Drops the live connection, as if it had been lost (reconnecting catches up). */
  #drop: ((error: unknown) => void) | undefined;
  /** The largest seq delivered (or, at the start, committed before the watch); undefined until known. */
  #cursor: number | undefined;
  /** Notifications held back while the rows table is read, accepted after it. */
  #buffer: ChangeMessage[] | undefined;
  #catchUpRunning: Promise<void> | undefined;
  #catchUpAgain = false;
  #pending: FlagChange[] = [];
  #flush: NodeJS.Immediate | undefined;
  #sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  readonly #done: Promise<void>;
  /** Settles once the starting cursor has been read (or could not be). */
  readonly started: Promise<void>;

  constructor(context: WatchContext, listener: (changes: readonly FlagChange[]) => void, options: WatchOptions) {
    this.#context = context;
    this.#listener = listener;
    this.#onError = options.onError;
    // The cursor is read at once (on a pooled connection), so rows appended from this
    // call on are delivered even if the listening connection takes a while to open.
    const start = context.withPooledClient((client) => this.#readCursor(client));
    this.started = start.then(
      () => {},
      () => {},
    );
    this.#done = this.#run(start);
  }

  readonly stop: StopWatching = async () => {
    if (!this.#stopped) {
      this.#stopped = true;
      if (this.#flush !== undefined) clearImmediate(this.#flush);
      this.#pending = [];
      if (this.#sleep !== undefined) {
        clearTimeout(this.#sleep.timer);
        this.#sleep.wake();
      }
      const client = this.#client;
      this.#client = undefined;
      await client?.end().catch(() => {});
    }
    await this.#done;
    this.#context.onStopped();
  };

  async #run(start: Promise<number>): Promise<void> {
    let failures = 0;
    try {
      this.#cursor = await start;
    } catch (error) {
      this.#report(error);
    }
    while (!this.#stopped) {
      let session: { lost: Promise<void> } | undefined;
      try {
        if (this.#cursor === undefined) {
          this.#cursor = await this.#context.withPooledClient((client) => this.#readCursor(client));
        }
        session = await this.#connect();
        failures = 0;
      } catch (error) {
        this.#report(error);
      }
      if (session !== undefined) await session.lost;
      if (this.#stopped) break;
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures) * (0.75 + Math.random() / 2);
      failures = Math.min(failures + 1, 16);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, delay);
        timer.unref?.();
        this.#sleep = { timer, wake };
      });
      this.#sleep = undefined;
    }
  }

  /**
   * Opens the listening connection, LISTENs and catches up; then resolves with a
   * promise that settles when the connection is lost (the loss reported through onError).
   */
  async #connect(): Promise<{ lost: Promise<void> }> {
    const client = new pg.Client(this.#context.clientConfig);
    let live = false;
    let markLost!: () => void;
    const lost = new Promise<void>((resolve) => {
      markLost = resolve;
    });
    const drop = (error: unknown) => {
      // Before the connection is live, failures reach #run through the rejected call instead.
      if (!live) return;
      live = false;
      if (this.#client === client) {
        this.#client = undefined;
        this.#drop = undefined;
      }
      this.#report(error);
      client.end().catch(() => {});
      markLost();
    };
    client.on('error', drop);
    client.on('end', () => drop(new Error('Connection terminated: the listening connection was closed')));
    client.on('notification', (message) => {
      if (message.channel === CHANGE_CHANNEL && this.#client === client) this.#receive(message.payload);
    });
    try {
      await client.connect();
      if (this.#stopped) throw new Error('stopped');
      this.#client = client;
      // Held back from the start: a notification may arrive before the catch-up begins.
      this.#buffer = [];
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      await this.#catchUp(client);
      if (this.#stopped) throw new Error('stopped');
    } catch (error) {
      if (this.#client === client) this.#client = undefined;
      client.end().catch(() => {});
      if (this.#stopped) return { lost: Promise.resolve() };
      throw error;
    }
    live = true;
    this.#drop = drop;
    return { lost };
  }

  /** The largest committed seq: appends in flight will take larger ones. */
  async #readCursor(client: pg.ClientBase): Promise<number> {
    const { rows } = await client.query<{ seq: string }>(
      'SELECT coalesce(max(seq), 0)::text AS seq FROM vexil_flag_rows',
    );
    return Number(rows[0]?.seq ?? 0);
  }

  /** Delivers the rows after the cursor, then the notifications held back meanwhile. */
  async #catchUp(client: pg.Client): Promise<void> {
    if (this.#catchUpRunning !== undefined) {
      this.#catchUpAgain = true;
      return this.#catchUpRunning;
    }
    const run = async () => {
      this.#buffer ??= [];
      let ok = false;
      try {
        do {
          this.#catchUpAgain = false;
          // In pages, so a long outage does not come back as one huge result.
          for (let full = true; full && !this.#stopped; ) {
            const { rows } = await client.query<ChangeRecord>(
              // Ordered by the bigint column (an output column named seq would be the text).
              `SELECT seq::text AS seq_text, kind, project, flag_type, flag_name, wtime
               FROM vexil_flag_rows WHERE seq > $1 ORDER BY vexil_flag_rows.seq LIMIT $2`,
              [this.#cursor ?? 0, CATCH_UP_PAGE],
            );
            for (const record of rows) {
              this.#deliver(Number(record.seq_text), {
                kind: record.kind,
                ref: { project: record.project, flagType: record.flag_type, name: record.flag_name },
                wtime: record.wtime,
              });
            }
            full = rows.length === CATCH_UP_PAGE;
          }
        } while (this.#catchUpAgain && !this.#stopped);
        ok = true;
      } finally {
        const buffered = this.#buffer ?? [];
        this.#buffer = undefined;
        this.#catchUpRunning = undefined;
        // After a failure the held-back notifications are dropped, not accepted: they
        // would move the cursor past rows not yet read. Reconnecting reads them all.
        if (ok) this.#accept(buffered);
      }
    };
    this.#catchUpRunning = run();
    return this.#catchUpRunning;
  }

  #receive(payload: string | undefined): void {
    let items: unknown[];
    try {
      const parsed: unknown = JSON.parse(payload ?? '');
      items = Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      items = [undefined];
    }
    for (const item of items) {
      if (!isChangeMessage(item)) {
        // A row not described in full: hold back what follows and read the table.
        this.#buffer ??= [];
        this.#requestCatchUp();
      } else if (this.#buffer !== undefined) {
        this.#buffer.push(item);
      } else {
        this.#accept([item]);
      }
    }
  }

  #accept(changes: readonly ChangeMessage[]): void {
    for (const change of changes) {
      this.#deliver(change.seq, {
        kind: change.kind,
        ref: { project: change.project, flagType: change.flagType, name: change.name },
        wtime: change.wtime,
      });
    }
  }

  #deliver(seq: number, change: FlagChange): void {
    if (seq <= (this.#cursor ?? 0)) return;
    this.#cursor = seq;
    this.#enqueue(change);
  }

  #requestCatchUp(): void {
    if (this.#catchUpRunning !== undefined) {
      this.#catchUpAgain = true;
      return;
    }
    const client = this.#client;
    const drop = this.#drop;
    if (client === undefined || drop === undefined || this.#stopped) return;
    // A failure is treated as a lost connection: reconnecting catches up again.
    this.#catchUp(client).catch(drop);
  }

  /** Queues a change for the listener; changes that arrive together are delivered together. */
  #enqueue(change: FlagChange): void {
    if (this.#stopped) return;
    this.#pending.push(change);
    this.#flush ??= setImmediate(() => {
      this.#flush = undefined;
      const changes = this.#pending;
      this.#pending = [];
      if (this.#stopped || changes.length === 0) return;
      try {
        this.#listener(changes);
      } catch (error) {
        this.#onError?.(error);
      }
    });
  }

  #report(error: unknown): void {
    if (this.#stopped) return;
    this.#onError?.(this.#context.toError(error));
  }
}

function isChangeMessage(value: unknown): value is ChangeMessage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.seq === 'number' &&
    (v.kind === 'FLAG' || v.kind === 'REVISION') &&
    typeof v.project === 'string' &&
    (FLAG_TYPES as readonly unknown[]).includes(v.flagType) &&
    typeof v.name === 'string' &&
    typeof v.wtime === 'string'
  );
}
