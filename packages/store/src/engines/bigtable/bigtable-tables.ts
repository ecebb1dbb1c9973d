import { Bigtable, type BigtableOptions, type GetRowsOptions, type Table } from '@google-cloud/bigtable';
import { UnavailableError } from '@vexil/core';
import { mapError } from './bigtable-errors.js';

/**
 * The Bigtable client and the four tables the store uses, with the one way every
 * part of the store reads and calls them (deadline, error mapping, read counts).
 * Internal to the package.
 */

/** The flag and log tables' family (the runbook system's). */
export const FAMILY = 'metadata';
/** The side table's families: per-flag heads and the change counter; change markers. */
export const HEAD_FAMILY = 'head';
export const CHANGE_FAMILY = 'change';
/** The access table's family: one `fields` column per record (token, project settings, event). */
export const ACCESS_FAMILY = 'access';

/** A row as read: its key and the newest cell of each column of the family asked for. */
export interface RawRow {
  key: string;
  cells: Map<string, Buffer>;
}

/** Rows and read requests this store received from Bigtable, for tests and metrics. */
export interface BigtableReadStats {
  readRequests: number;
  rowsRead: number;
}

export interface TablesOptions {
  projectId: string;
  instanceId: string;
  flagTableId: string;
  logTableId: string;
  sideTableId: string;
  accessTableId: string;
  emulatorHost: string | undefined;
  timeoutMs: number;
  clientOptions: BigtableOptions | undefined;
}

/** One table: the client's handle and its id, for messages. */
export interface TableRef {
  table: Table;
  id: string;
}

export class BigtableTables {
  readonly flags: TableRef;
  readonly logs: TableRef;
  readonly side: TableRef;
  readonly access: TableRef;
  readonly timeoutMs: number;
  readonly #client: Bigtable;
  readonly #where: string;
  readonly #stats: BigtableReadStats = { readRequests: 0, rowsRead: 0 };
  #closed = false;

  /** Makes the client; no call is made until the first read. */
  constructor(options: TablesOptions) {
    const clientOptions: BigtableOptions = { projectId: options.projectId };
    if (options.emulatorHost) {
      // The emulator has no credentials, universe or metrics: without these the client
      // looks for GCE metadata and exports client-side metrics to Cloud Monitoring.
      Object.assign(clientOptions, {
        apiEndpoint: options.emulatorHost,
        metricsEnabled: false,
        universeDomain: 'googleapis.com',
      });
    }
    this.#client = new Bigtable({ ...clientOptions, ...options.clientOptions });
    const instance = this.#client.instance(options.instanceId);
    this.flags = { table: instance.table(options.flagTableId), id: options.flagTableId };
    this.logs = { table: instance.table(options.logTableId), id: options.logTableId };
    this.side = { table: instance.table(options.sideTableId), id: options.sideTableId };
    this.access = { table: instance.table(options.accessTableId), id: options.accessTableId };
    this.timeoutMs = options.timeoutMs;
    this.#where = `${options.instanceId}/${options.flagTableId}`;
  }

  /** Rows and read requests received so far (a snapshot). */
  get stats(): BigtableReadStats {
    return { ...this.#stats };
  }

  /** Reads rows, with the newest cell of each column as bytes. */
  async read({ table, id }: TableRef, options: GetRowsOptions): Promise<RawRow[]> {
    const [rows] = await this.call(id, () => table.getRows({ ...options, decode: false, gaxOptions: this.gax() }));
    this.#stats.readRequests += 1;
    this.#stats.rowsRead += rows.length;
    return rows.map((row) => {
      const cells = new Map<string, Buffer>();
      const data = (row.data ?? {}) as Record<string, Record<string, { value: Buffer | string | number }[]>>;
      for (const family of Object.values(data)) {
        for (const [qualifier, versions] of Object.entries(family)) {
          const newest = versions[0];
          if (newest !== undefined) cells.set(qualifier, toBuffer(newest.value));
        }
      }
      return { key: toBuffer(row.id as unknown as Buffer | string).toString('utf8'), cells };
    });
  }

  /** Runs a call on table `tableId`, its errors turned into Vexil's. */
  async call<T>(tableId: string, fn: () => Promise<T>): Promise<T> {
    this.checkOpen();
    try {
      return await fn();
    } catch (error) {
      throw mapError(error, tableId, this.timeoutMs);
    }
  }

  /** Per-call options: the deadline. */
  gax(): { timeout: number } {
    return { timeout: this.timeoutMs };
  }

  checkOpen(): void {
    if (this.#closed) throw new UnavailableError(`the Bigtable store ${this.#where} is closed`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close().catch(() => {
      // the channels are gone either way
    });
  }
}

/** Row keys alone: one cell per row, its value stripped. */
export const KEYS_ONLY: object[] = [{ family: `^${FAMILY}$` }, { row: { cellLimit: 1 } }, { value: { strip: true } }];

/** The newest cell of each column of one family. */
export function familyFilter(family: string): object[] {
  return [{ family: `^${family}$` }, { column: { cellLimit: 1 } }];
}

/**
 * Cell bytes as the client hands them over. Even with `decode: false` the client
 * turns any 8-byte value that reads as a safe integer into a number (its counters):
 * those are turned back into the same 8 bytes.
 */
export function toBuffer(value: Buffer | string | Uint8Array | number): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'number') {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(BigInt(value));
    return bytes;
  }
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(value);
}

/** Column name → cell bytes, as the client's `data` wants it (own properties only). */
export function columnData(columns: Iterable<readonly [string, string]>): Record<string, Buffer> {
  return Object.fromEntries([...columns].map(([name, text]) => [name, Buffer.from(text, 'utf8')]));
}
