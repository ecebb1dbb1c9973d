import type { BigtableOptions, GetRowsOptions } from '@google-cloud/bigtable';
import {
  type FlagRef,
  flagRowKey,
  flagRowPrefix,
  logRowKey,
  logRowPrefix,
  parseLogRowKey,
  projectRowPrefix,
  type RowKind,
  UnavailableError,
} from '@vexil/core';
import type { AccessStore } from '../../access-store.js';
import type * as Log from '../../evaluation-log-sink.js';
import type * as Store from '../../flag-store.js';
import {
  checkLimit,
  checkNewRow,
  checkSince,
  compareKeys,
  copyRef,
  encodeFields,
  flagId,
  prefixEnd,
  sameRef,
} from '../../rows.js';
import { bigtableAccess } from './bigtable-access.js';
import { ensureTables } from './bigtable-admin.js';
import { decodeColumns, encodeColumns } from './bigtable-cells.js';
import { markChange, watchChanges } from './bigtable-change-feed.js';
import { FlagHeads } from './bigtable-heads.js';
import { logColumns, parseKey, rawFallback, toLogEntry, toStoredRow } from './bigtable-rows.js';
import {
  type BigtableReadStats,
  BigtableTables,
  columnData,
  FAMILY,
  familyFilter,
  KEYS_ONLY,
  type RawRow,
} from './bigtable-tables.js';

export type { BigtableReadStats };

export interface BigtableStoreOptions extends Store.StoreOptions {
  /** The Google Cloud project (the runbook system's `PROJECT_ID`). */
  projectId: string;
  /** The Bigtable instance (`INSTANCE_ID`). */
  instanceId: string;
  /** The flag table (`BT_TABLE_ID`, `{tenant}_feature_flag_bigtable`). */
  flagTableId: string;
  /** The evaluation log table (`FF_LOG_TABLE_ID`, `{tenant}_feature_flag_service_operation_log`). */
  logTableId: string;
  /** Vexil's own side table (per-flag heads, the change feed). `{flagTableId}_vexil` by default. */
  sideTableId?: string;
  /** Vexil's access table (API tokens, project settings). `{flagTableId}_vexil_access` by default. */
  accessTableId?: string;
  /**
   * `host:port` of a Bigtable emulator (`vexil` reads it from `BIGTABLE_EMULATOR_HOST`);
   * unset means the real service (Application Default Credentials).
   */
  emulatorHost?: string;
  /** Deadline of each call to Bigtable, in ms. 10 000 by default. */
  timeoutMs?: number;
  /** More options for the `@google-cloud/bigtable` client (credentials, endpoint, app profile…). */
  clientOptions?: BigtableOptions;
  /**
   * Errors of the steps after an append's rows are stored (moving the flag's head,
   * writing the change marker). They do not fail the append: the rows are stored,
   * reads still find them, only watchers may learn of them late (by cache TTL).
   */
  onBackgroundError?: (error: unknown) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Projects listed at most (by listProjects, for messages). */
const MAX_LISTED_PROJECTS = 1000;
/** Rows per MutateRows call: well under Bigtable's 100,000 mutations per request. */
const WRITE_CHUNK = 500;

interface Prepared {
  index: number;
  row: Store.NewRow;
  /** The row's fields as JSON gives them back, before CreatedTime is set. */
  fields: Record<string, unknown>;
}

/**
 * The Bigtable adapter: the runbook system's own tables, read and written exactly as
 * its tools do, so its Bigtable Studio queries and `cbt` keep working.
 *
 * - Flag table (`BT_TABLE_ID`): one row per FLAG or REVISION, keyed
 *   `PROJECT#…#ROWTYPE#…#FLAGTYPE#…#FLAGNAME#…#WTIME#…`, one `metadata:<Field>`
 *   column per top-level field (see bigtable-cells.ts for the cell text).
 * - Log table (`FF_LOG_TABLE_ID`): one row per evaluation, keyed by `logRowKey`,
 *   columns RequestID, Name, CreatedTimestamp, Type, InstanceID, AssignedValue,
 *   AssignedGroup, CacheFlag (bigtable-rows.ts).
 * - Access table (`{BT_TABLE_ID}_vexil_access`): API tokens by hash, project
 *   settings, token and settings changes (bigtable-access.ts).
 * - Side table (`{BT_TABLE_ID}_vexil`), which the runbook system never reads: the
 *   per-flag heads (bigtable-heads.ts) and the change feed (bigtable-change-feed.ts).
 *   `latest` reads the head, then scans forward from the row it names: two rows read
 *   however long the history, plus any rows other tools (`cbt set`, the runbook DAG)
 *   wrote since. A flag without a head (written only by the runbook tools) is scanned
 *   in full once, and the head repaired.
 *
 * `vexil init` creates what is missing (bigtable-admin.ts); errors are mapped in
 * bigtable-errors.ts.
 *
 * Bigtable has no multi-row transactions: a batch that fails midway may leave some
 * of its rows (`capabilities.atomicBatch` is false). Rows are validated in full
 * before any is written.
 */
export class BigtableStore implements Store.FlagStore, Log.EvaluationLogSink {
  readonly engine = 'bigtable';
  readonly capabilities: Store.StoreCapabilities = { atomicBatch: false, changeFeed: 'poll' };
  readonly projectId: string;
  readonly instanceId: string;
  readonly flagTableId: string;
  readonly logTableId: string;
  readonly sideTableId: string;
  readonly accessTableId: string;
  /** Tokens and project settings, in the access table (never the runbook system's tables). */
  readonly access: AccessStore;

  readonly #tables: BigtableTables;
  readonly #heads: FlagHeads;
  readonly #onBackgroundError: ((error: unknown) => void) | undefined;

  /** Makes the client; no call is made until the first operation (see `open`, `init`, `ping`). */
  constructor(options: BigtableStoreOptions) {
    for (const name of ['projectId', 'instanceId', 'flagTableId', 'logTableId'] as const) {
      if (typeof options[name] !== 'string' || options[name] === '') {
        throw new UnavailableError(`the Bigtable store needs ${name}`, {
          hint: 'set PROJECT_ID, INSTANCE_ID, BT_TABLE_ID and FF_LOG_TABLE_ID',
        });
      }
    }
    this.projectId = options.projectId;
    this.instanceId = options.instanceId;
    this.flagTableId = options.flagTableId;
    this.logTableId = options.logTableId;
    this.sideTableId = options.sideTableId ?? `${options.flagTableId}_vexil`;
    this.accessTableId = options.accessTableId ?? `${options.flagTableId}_vexil_access`;
    this.#onBackgroundError = options.onBackgroundError;
    this.#tables = new BigtableTables({
      projectId: this.projectId,
      instanceId: this.instanceId,
      flagTableId: this.flagTableId,
      logTableId: this.logTableId,
      sideTableId: this.sideTableId,
      accessTableId: this.accessTableId,
      emulatorHost: options.emulatorHost,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      clientOptions: options.clientOptions,
    });
    this.#heads = new FlagHeads(this.#tables, options.now);
    this.access = bigtableAccess(this.#tables);
  }

  /**
   * Makes the store and checks that Bigtable answers and its tables exist
   * (UnavailableError otherwise); with `initialize`, creates what is missing instead
   * (see `init`).
   */
  static async open(options: BigtableStoreOptions, { initialize = false } = {}): Promise<BigtableStore> {
    const store = new BigtableStore(options);
    try {
      await (initialize ? store.init() : store.ping());
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** Rows and read requests received from Bigtable so far (a snapshot). */
  get readStats(): BigtableReadStats {
    return this.#tables.stats;
  }

  /**
   * Creates the flag, log and side tables and their column families where missing.
   * Safe to run again, and alongside another process doing the same. Existing tables
   * (the runbook system's) are left as they are, but for a missing family.
   */
  async init(): Promise<void> {
    await ensureTables(this.#tables);
  }

  async append(rows: readonly Store.NewRow[]): Promise<Store.StoredRow[]> {
    this.#tables.checkOpen();
    // Validate every row before writing any.
    const prepared: Prepared[] = rows.map((row, index) => {
      checkNewRow(row, index);
      const fields = JSON.parse(encodeFields(row, '', index)) as Record<string, unknown>;
      return { index, row, fields };
    });
    if (prepared.length === 0) return [];

    const byFlag = new Map<string, Prepared[]>();
    for (const item of prepared) {
      const id = flagId(item.row.ref);
      const list = byFlag.get(id);
      if (list) list.push(item);
      else byFlag.set(id, [item]);
    }

    const stored: Store.StoredRow[] = new Array(prepared.length);
    const entries: { key: string; data: Record<string, Record<string, Buffer>> }[] = [];
    const newestOfKind: { ref: FlagRef; kind: RowKind; wtime: string }[] = [];
    await Promise.all(
      [...byFlag.values()].map(async (items) => {
        const ref = items[0]!.row.ref;
        const wtimes = await this.#heads.reserve(
          ref,
          items.length,
          items.filter((item) => item.row.expectedLatest !== undefined).map((item) => item.row),
        );
        const newest = new Map<RowKind, string>();
        items.forEach((item, i) => {
          const wtime = wtimes[i]!;
          const { kind } = item.row;
          const key = flagRowKey(kind, ref, wtime);
          const columns = encodeColumns({ ...item.fields, CreatedTime: wtime });
          entries[item.index] = { key, data: { [FAMILY]: columnData(columns) } };
          stored[item.index] = {
            kind,
            ref: copyRef(ref),
            wtime,
            key,
            fields: decodeColumns(columns, ref.flagType),
          };
          newest.set(kind, wtime);
        });
        for (const [kind, wtime] of newest) newestOfKind.push({ ref, kind, wtime });
      }),
    );

    for (let start = 0; start < entries.length; start += WRITE_CHUNK) {
      const chunk = entries.slice(start, start + WRITE_CHUNK);
      await this.#tables.call(this.flagTableId, () => this.#tables.flags.table.insert(chunk, this.#tables.gax()));
    }

    // The rows are stored; what follows only makes later reads cheaper and tells watchers.
    const after = await Promise.allSettled([
      ...newestOfKind.map(({ ref, kind, wtime }) => this.#heads.advancePointer(ref, kind, wtime)),
      markChange(this.#tables, stored),
    ]);
    for (const result of after) {
      if (result.status === 'rejected') this.#onBackgroundError?.(result.reason);
    }
    return stored;
  }

  async latest(kind: RowKind, ref: FlagRef): Promise<Store.StoredRow | undefined> {
    this.#tables.checkOpen();
    const head = await this.#heads.read(ref);
    const pointer = head[kind];
    const prefix = flagRowPrefix(kind, ref);
    let rows = await this.#tables.read(this.#tables.flags, {
      ranges: [
        {
          start: pointer === undefined ? prefix : prefix + pointer,
          end: { value: prefixEnd(prefix), inclusive: false },
        },
      ],
      filter: familyFilter(FAMILY),
    });
    let pointerRowGone = false;
    if (pointer !== undefined && rows.length === 0) {
      // The head names a row that is no longer there (deleted by hand): read the flag in full.
      pointerRowGone = true;
      rows = await this.#tables.read(this.#tables.flags, { prefix, filter: familyFilter(FAMILY) });
    }
    const newest = rows[rows.length - 1];
    if (newest === undefined) return undefined;
    const row = toStoredRow(newest);
    if (row !== undefined && row.wtime !== pointer) {
      // Rows written by other tools since (or a flag without a head): move the head to
      // the newest row, so the next read starts there. Best effort: a read-only
      // credential cannot, and reads stay correct without it.
      const repair = pointerRowGone
        ? this.#heads.replacePointer(ref, kind, pointer, row.wtime)
        : this.#heads.advancePointer(ref, kind, row.wtime);
      await repair.catch((error: unknown) => this.#onBackgroundError?.(error));
    }
    return row ?? rawFallback(newest, kind, ref);
  }

  async get(kind: RowKind, ref: FlagRef, wtime: string): Promise<Store.StoredRow | undefined> {
    this.#tables.checkOpen();
    const key = flagRowKey(kind, ref, wtime);
    const [raw] = await this.#tables.read(this.#tables.flags, { keys: [key], filter: familyFilter(FAMILY) });
    if (raw === undefined || raw.key !== key) return undefined;
    const row = toStoredRow(raw);
    if (row === undefined || row.kind !== kind || !sameRef(row.ref, ref) || row.wtime !== wtime) return undefined;
    return row;
  }

  async history(kind: RowKind, ref: FlagRef, options: Store.HistoryOptions = {}): Promise<Store.StoredRow[]> {
    this.#tables.checkOpen();
    const limit = checkLimit(options.limit);
    if (limit === 0) return [];
    // Newest first, without reverse scans (the emulator ignores them): read forward and
    // turn around. With a limit, read the keys alone, then just the rows asked for.
    const prefix = flagRowPrefix(kind, ref);
    let rows: RawRow[];
    if (limit === undefined) {
      rows = await this.#tables.read(this.#tables.flags, { prefix, filter: familyFilter(FAMILY) });
    } else {
      const keys = await this.#tables.read(this.#tables.flags, { prefix, filter: KEYS_ONLY });
      const wanted = keys.slice(Math.max(0, keys.length - limit)).map((raw) => raw.key);
      rows =
        wanted.length === 0
          ? []
          : await this.#tables.read(this.#tables.flags, { keys: wanted, filter: familyFilter(FAMILY) });
    }
    const out: Store.StoredRow[] = [];
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = toStoredRow(rows[i]!);
      if (row !== undefined) out.push(row);
    }
    return out;
  }

  async listFlags(project: string): Promise<Store.StoredRow[]> {
    this.#tables.checkOpen();
    const rows = await this.#tables.read(this.#tables.flags, {
      prefix: projectRowPrefix('FLAG', project),
      filter: familyFilter(FAMILY),
    });
    // Key order is flag, then time: the last row of each flag is its newest.
    const newest = new Map<string, RawRow>();
    for (const raw of rows) {
      const parsed = parseKey(raw.key);
      if (parsed === undefined || parsed.kind !== 'FLAG' || parsed.ref.project !== project) continue;
      newest.set(`${parsed.ref.flagType}#${parsed.ref.name}`, raw);
    }
    const out: Store.StoredRow[] = [];
    for (const raw of newest.values()) {
      const row = toStoredRow(raw);
      if (row !== undefined) out.push(row);
    }
    return out.sort((a, b) => compareKeys(a.ref.flagType, b.ref.flagType) || compareKeys(a.ref.name, b.ref.name));
  }

  async listProjects(): Promise<string[]> {
    this.#tables.checkOpen();
    const projects: string[] = [];
    const end = { value: prefixEnd('PROJECT#'), inclusive: false };
    let start = 'PROJECT#';
    // A skip scan: one key read per project, then on past its rows, rather than reading
    // every key of a table that holds far more rows than projects.
    while (projects.length < MAX_LISTED_PROJECTS) {
      const [raw] = await this.#tables.read(this.#tables.flags, {
        ranges: [{ start, end }],
        limit: 1,
        filter: KEYS_ONLY,
      });
      if (raw === undefined) break;
      const key = raw.key;
      const close = key.indexOf('#', 'PROJECT#'.length);
      if (close === -1) {
        start = `${key}\0`;
        continue;
      }
      const project = key.slice('PROJECT#'.length, close);
      const [flag] = await this.#tables.read(this.#tables.flags, {
        prefix: projectRowPrefix('FLAG', project),
        limit: 1,
        filter: KEYS_ONLY,
      });
      if (flag !== undefined) projects.push(project);
      start = prefixEnd(key.slice(0, close + 1));
    }
    return projects;
  }

  async scanProject(project: string): Promise<Store.StoredRow[]> {
    this.#tables.checkOpen();
    const rows = await this.#tables.read(this.#tables.flags, {
      prefix: `PROJECT#${project}#`,
      filter: familyFilter(FAMILY),
    });
    const out: Store.StoredRow[] = [];
    for (const raw of rows) {
      const row = toStoredRow(raw);
      if (row !== undefined && row.ref.project === project) out.push(row);
    }
    return out;
  }

  async appendLogs(entries: readonly Log.EvaluationLogEntry[]): Promise<void> {
    this.#tables.checkOpen();
    const rows = entries.map((entry) => ({
      key: logRowKey(entry),
      data: {
        [FAMILY]: columnData(logColumns(entry)),
      },
    }));
    for (let start = 0; start < rows.length; start += WRITE_CHUNK) {
      const chunk = rows.slice(start, start + WRITE_CHUNK);
      await this.#tables.call(this.logTableId, () => this.#tables.logs.table.insert(chunk, this.#tables.gax()));
    }
  }

  async readLogs(query: Log.LogQuery): Promise<Log.EvaluationLogEntry[]> {
    this.#tables.checkOpen();
    const limit = checkLimit(query.limit);
    const since = checkSince(query.since);
    if (limit === 0) return [];
    // The time is the key's last part, after ids of any length: no key range or prefix
    // selects it, so rows before `since` are read and passed over here.
    const byKey = since === undefined && (query.flagType !== undefined || query.flagName === undefined);
    const options: GetRowsOptions = {
      prefix: logRowPrefix(query.project, query.flagType, query.flagType === undefined ? undefined : query.flagName),
      filter: familyFilter(FAMILY),
    };
    // The key prefix is the whole filter unless a name comes without a type.
    if (byKey && limit !== undefined) options.limit = limit;
    const rows = await this.#tables.read(this.#tables.logs, options);
    const out: Log.EvaluationLogEntry[] = [];
    for (const raw of rows) {
      if (limit !== undefined && out.length >= limit) break;
      const entry = toLogEntry(raw);
      if (entry === undefined || entry.project !== query.project) continue;
      if (query.flagType !== undefined && entry.flagType !== query.flagType) continue;
      if (query.flagName !== undefined && entry.flagName !== query.flagName) continue;
      if (since !== undefined && entry.time < since) continue;
      out.push(entry);
    }
    return out;
  }

  async lastLogTimes(project: string, flags: readonly Log.LogFlag[]): Promise<(string | undefined)[]> {
    this.#tables.checkOpen();
    if (flags.length === 0) return [];
    // The log's keys hold the time but are ordered by instance id: the newest time of a
    // flag is found by reading the keys of the project's log (no cell values) once.
    const rows = await this.#tables.read(this.#tables.logs, { prefix: logRowPrefix(project), filter: KEYS_ONLY });
    const newest = new Map<string, string>();
    for (const raw of rows) {
      let key: ReturnType<typeof parseLogRowKey>;
      try {
        key = parseLogRowKey(raw.key);
      } catch {
        continue; // not the runbook's key layout
      }
      if (key.project !== project) continue;
      const id = `${key.flagType}#${key.flagName}`;
      const known = newest.get(id);
      if (known === undefined || key.time > known) newest.set(id, key.time);
    }
    return flags.map((flag) => newest.get(`${flag.flagType}#${flag.flagName}`));
  }

  watch(
    listener: (changes: readonly Store.FlagChange[]) => void,
    options: Store.WatchOptions = {},
  ): Store.StopWatching {
    return watchChanges(this.#tables, listener, options);
  }

  async ping(): Promise<void> {
    this.#tables.checkOpen();
    // One key lookup per table: proves Bigtable answers and that every table exists.
    const { flags, logs, side, access } = this.#tables;
    await Promise.all(
      [flags, logs, side, access].map((table) => this.#tables.read(table, { keys: ['VEXIL#PING'], limit: 1 })),
    );
  }

  async close(): Promise<void> {
    await this.#tables.close();
  }
}
