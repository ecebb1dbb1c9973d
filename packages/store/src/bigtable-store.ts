import { setTimeout as sleep } from 'node:timers/promises';
import { Bigtable, type BigtableOptions, type GetRowsOptions, type Table } from '@google-cloud/bigtable';
import {
  type FlagRef,
  type FlagType,
  flagRowKey,
  flagRowPrefix,
  formatWTime,
  isVexilError,
  isWTime,
  logRowKey,
  logRowPrefix,
  parseFlagRowKey,
  parseLogRowKey,
  parseWTime,
  projectRowPrefix,
  type RowKind,
  TimeoutError,
  UnavailableError,
} from '@vexil/core';
import { decodeCacheFlag, decodeColumns, decodeLogValue, encodeColumns, encodeLogValue } from './bigtable-cells.js';
import type {
  EvaluationLogEntry,
  FlagChange,
  FlagStore,
  HistoryOptions,
  LogQuery,
  NewRow,
  StopWatching,
  StoreCapabilities,
  StoredRow,
  StoreOptions,
  WatchOptions,
} from './flag-store.js';
import { pollChanges } from './poll-changes.js';
import { checkLimit, checkNewRow, compareKeys, defaultNow, encodeFields, nextWTime } from './rows.js';

export interface BigtableStoreOptions extends StoreOptions {
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
  /**
   * `host:port` of a Bigtable emulator. By default `BIGTABLE_EMULATOR_HOST`, as every
   * Google client reads it; unset means the real service (Application Default Credentials).
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

/** Rows and read requests this store received from Bigtable, for tests and metrics. */
export interface BigtableReadStats {
  readRequests: number;
  rowsRead: number;
}

const FAMILY = 'metadata';
const HEAD_FAMILY = 'head';
const CHANGE_FAMILY = 'change';
const DEFAULT_TIMEOUT_MS = 10_000;
/** Rows per MutateRows call: well under Bigtable's 100,000 mutations per request. */
const WRITE_CHUNK = 500;
/** Attempts at moving a flag's head before an append gives up (another writer kept winning). */
const MAX_RESERVE_ATTEMPTS = 100;
/** A change marker number that has not appeared after this long is given up on (its writer died). */
const CHANGE_GAP_MS = 30_000;
/** Change markers read per poll. */
const CHANGE_PAGE = 1000;
/** Change markers numbered just before a watch started that are checked for having started after it. */
const CHANGE_LOOKBACK = 20;
/** The side table's change markers are kept this long (Bigtable's garbage collection drops older ones). */
const CHANGE_TTL_SECONDS = 7 * 24 * 3600;

const SEQ_KEY = 'SEQ';
const SEQ_COLUMN = 'SEQ';
const CHANGE_PREFIX = 'CHANGE#';
/** Just after every change marker key. */
const CHANGE_END = 'CHANGE$';

/** A row as read: its key and the newest cell of each column of the family asked for. */
interface RawRow {
  key: string;
  cells: Map<string, Buffer>;
}

/** What the head row of a flag says. */
interface Head {
  /** The newest WTIME handed out for the flag, across both kinds. */
  LAST?: string;
  /** A stored row of the kind: no row of the kind older than it needs reading. */
  FLAG?: string;
  REVISION?: string;
}

interface Prepared {
  index: number;
  row: NewRow;
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
 *   AssignedGroup, CacheFlag.
 * - Side table (`{BT_TABLE_ID}_vexil`), which the runbook system never reads:
 *   - `HEAD#{project}#{type}#{name}`, family `head`: `LAST`, the newest WTIME handed
 *     out for the flag (moved by a conditional mutation, so WTIMEs stay strictly
 *     increasing across processes), and `FLAG` / `REVISION`, the WTIME of a stored
 *     row of that kind with nothing newer except rows stored after it. `latest`
 *     reads the head, then scans forward from that row: two rows read however long
 *     the history, plus any rows other tools (`cbt set`, the runbook DAG) wrote since.
 *     A flag without a head (written only by the runbook tools) is scanned in full
 *     once, and the head repaired.
 *   - `SEQ` (family `head`): a counter, and `CHANGE#{n}` (family `change`, kept
 *     7 days): what append `n` wrote, for `watch` to poll.
 *
 * Bigtable has no multi-row transactions: a batch that fails midway may leave some
 * of its rows (`capabilities.atomicBatch` is false). Rows are validated in full
 * before any is written.
 */
export class BigtableStore implements FlagStore {
  readonly engine = 'bigtable';
  readonly capabilities: StoreCapabilities = { atomicBatch: false, changeFeed: 'poll' };
  readonly projectId: string;
  readonly instanceId: string;
  readonly flagTableId: string;
  readonly logTableId: string;
  readonly sideTableId: string;

  readonly #client: Bigtable;
  readonly #flags: Table;
  readonly #logs: Table;
  readonly #side: Table;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #onBackgroundError: ((error: unknown) => void) | undefined;
  readonly #stats: BigtableReadStats = { readRequests: 0, rowsRead: 0 };
  #closed = false;

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
    this.#now = options.now ?? defaultNow;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#onBackgroundError = options.onBackgroundError;

    const emulatorHost = options.emulatorHost ?? process.env.BIGTABLE_EMULATOR_HOST;
    const clientOptions: BigtableOptions = { projectId: this.projectId };
    if (emulatorHost) {
      // The emulator has no credentials, universe or metrics: without these the client
      // looks for GCE metadata and exports client-side metrics to Cloud Monitoring.
      Object.assign(clientOptions, {
        apiEndpoint: emulatorHost,
        metricsEnabled: false,
        universeDomain: 'googleapis.com',
      });
    }
    this.#client = new Bigtable({ ...clientOptions, ...options.clientOptions });
    const instance = this.#client.instance(this.instanceId);
    this.#flags = instance.table(this.flagTableId);
    this.#logs = instance.table(this.logTableId);
    this.#side = instance.table(this.sideTableId);
  }

  /** Makes the store and checks that Bigtable answers and its tables exist (UnavailableError otherwise). */
  static async open(options: BigtableStoreOptions): Promise<BigtableStore> {
    const store = new BigtableStore(options);
    try {
      await store.ping();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** Rows and read requests received from Bigtable so far (a snapshot). */
  get readStats(): BigtableReadStats {
    return { ...this.#stats };
  }

  /**
   * Creates the flag, log and side tables and their column families where missing.
   * Safe to run again, and alongside another process doing the same. Existing tables
   * (the runbook system's) are left as they are, but for a missing family.
   */
  async init(): Promise<void> {
    this.#checkOpen();
    await Promise.all([
      this.#ensureTable(this.#flags, this.flagTableId, [{ name: FAMILY }]),
      this.#ensureTable(this.#logs, this.logTableId, [{ name: FAMILY }]),
      this.#ensureTable(this.#side, this.sideTableId, [
        { name: HEAD_FAMILY, rule: { versions: 1 } },
        { name: CHANGE_FAMILY, rule: { age: { seconds: CHANGE_TTL_SECONDS }, versions: 1, union: true } },
      ]),
    ]);
  }

  async append(rows: readonly NewRow[]): Promise<StoredRow[]> {
    this.#checkOpen();
    // Validate every row before writing any.
    const prepared: Prepared[] = rows.map((row, index) => {
      checkNewRow(row, index);
      const fields = JSON.parse(encodeFields(row, '', index)) as Record<string, unknown>;
      return { index, row, fields };
    });
    if (prepared.length === 0) return [];

    const byFlag = new Map<string, Prepared[]>();
    for (const item of prepared) {
      const id = headKey(item.row.ref);
      const list = byFlag.get(id);
      if (list) list.push(item);
      else byFlag.set(id, [item]);
    }

    const stored: StoredRow[] = new Array(prepared.length);
    const entries: { key: string; data: Record<string, Record<string, Buffer>> }[] = [];
    const newestOfKind: { ref: FlagRef; kind: RowKind; wtime: string }[] = [];
    await Promise.all(
      [...byFlag.values()].map(async (items) => {
        const ref = items[0]!.row.ref;
        const wtimes = await this.#reserve(ref, items.length);
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
      await this.#call(this.flagTableId, () => this.#flags.insert(chunk, this.#gax()));
    }

    // The rows are stored; what follows only makes later reads cheaper and tells watchers.
    const after = await Promise.allSettled([
      ...newestOfKind.map(({ ref, kind, wtime }) => this.#advancePointer(ref, kind, wtime)),
      this.#markChange(stored),
    ]);
    for (const result of after) {
      if (result.status === 'rejected') this.#onBackgroundError?.(result.reason);
    }
    return stored;
  }

  async latest(kind: RowKind, ref: FlagRef): Promise<StoredRow | undefined> {
    this.#checkOpen();
    const head = await this.#readHead(ref);
    const pointer = head[kind];
    const prefix = flagRowPrefix(kind, ref);
    let rows = await this.#read(this.#flags, this.flagTableId, {
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
      rows = await this.#read(this.#flags, this.flagTableId, { prefix, filter: familyFilter(FAMILY) });
    }
    const newest = rows[rows.length - 1];
    if (newest === undefined) return undefined;
    const row = toStoredRow(newest);
    if (row !== undefined && row.wtime !== pointer) {
      // Rows written by other tools since (or a flag without a head): move the head to
      // the newest row, so the next read starts there. Best effort: a read-only
      // credential cannot, and reads stay correct without it.
      const repair = pointerRowGone
        ? this.#replacePointer(ref, kind, pointer, row.wtime)
        : this.#advancePointer(ref, kind, row.wtime);
      await repair.catch((error: unknown) => this.#onBackgroundError?.(error));
    }
    return row ?? rawFallback(newest, kind, ref);
  }

  async get(kind: RowKind, ref: FlagRef, wtime: string): Promise<StoredRow | undefined> {
    this.#checkOpen();
    const key = flagRowKey(kind, ref, wtime);
    const [raw] = await this.#read(this.#flags, this.flagTableId, { keys: [key], filter: familyFilter(FAMILY) });
    if (raw === undefined || raw.key !== key) return undefined;
    const row = toStoredRow(raw);
    if (row === undefined || row.kind !== kind || !sameRef(row.ref, ref) || row.wtime !== wtime) return undefined;
    return row;
  }

  async history(kind: RowKind, ref: FlagRef, options: HistoryOptions = {}): Promise<StoredRow[]> {
    this.#checkOpen();
    const limit = checkLimit(options.limit);
    if (limit === 0) return [];
    // Newest first, without reverse scans (the emulator ignores them): read forward and
    // turn around. With a limit, read the keys alone, then just the rows asked for.
    const prefix = flagRowPrefix(kind, ref);
    let rows: RawRow[];
    if (limit === undefined) {
      rows = await this.#read(this.#flags, this.flagTableId, { prefix, filter: familyFilter(FAMILY) });
    } else {
      const keys = await this.#read(this.#flags, this.flagTableId, { prefix, filter: KEYS_ONLY });
      const wanted = keys.slice(Math.max(0, keys.length - limit)).map((raw) => raw.key);
      rows =
        wanted.length === 0
          ? []
          : await this.#read(this.#flags, this.flagTableId, { keys: wanted, filter: familyFilter(FAMILY) });
    }
    const out: StoredRow[] = [];
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = toStoredRow(rows[i]!);
      if (row !== undefined) out.push(row);
    }
    return out;
  }

  async listFlags(project: string): Promise<StoredRow[]> {
    this.#checkOpen();
    const rows = await this.#read(this.#flags, this.flagTableId, {
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
    const out: StoredRow[] = [];
    for (const raw of newest.values()) {
      const row = toStoredRow(raw);
      if (row !== undefined) out.push(row);
    }
    return out.sort((a, b) => compareKeys(a.ref.flagType, b.ref.flagType) || compareKeys(a.ref.name, b.ref.name));
  }

  async listProjects(): Promise<string[]> {
    this.#checkOpen();
    const projects: string[] = [];
    const end = { value: prefixEnd('PROJECT#'), inclusive: false };
    let start = 'PROJECT#';
    // A skip scan: one key read per project, then on past its rows, rather than reading
    // every key of a table that holds far more rows than projects.
    while (projects.length < MAX_LISTED_PROJECTS) {
      const [raw] = await this.#read(this.#flags, this.flagTableId, {
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
      const [flag] = await this.#read(this.#flags, this.flagTableId, {
        prefix: projectRowPrefix('FLAG', project),
        limit: 1,
        filter: KEYS_ONLY,
      });
      if (flag !== undefined) projects.push(project);
      start = prefixEnd(key.slice(0, close + 1));
    }
    return projects;
  }

  async scanProject(project: string): Promise<StoredRow[]> {
    this.#checkOpen();
    const rows = await this.#read(this.#flags, this.flagTableId, {
      prefix: `PROJECT#${project}#`,
      filter: familyFilter(FAMILY),
    });
    const out: StoredRow[] = [];
    for (const raw of rows) {
      const row = toStoredRow(raw);
      if (row !== undefined && row.ref.project === project) out.push(row);
    }
    return out;
  }

  async appendLogs(entries: readonly EvaluationLogEntry[]): Promise<void> {
    this.#checkOpen();
    const rows = entries.map((entry) => ({
      key: logRowKey(entry),
      data: {
        [FAMILY]: columnData([
          ['RequestID', entry.requestId],
          ['Name', entry.flagName],
          ['CreatedTimestamp', entry.time],
          ['Type', entry.flagType],
          ['InstanceID', entry.instanceId],
          ['AssignedValue', encodeLogValue(entry.value, entry.flagType)],
          ['AssignedGroup', entry.group],
          ['CacheFlag', JSON.stringify(entry.cacheHit)],
        ]),
      },
    }));
    for (let start = 0; start < rows.length; start += WRITE_CHUNK) {
      const chunk = rows.slice(start, start + WRITE_CHUNK);
      await this.#call(this.logTableId, () => this.#logs.insert(chunk, this.#gax()));
    }
  }

  async readLogs(query: LogQuery): Promise<EvaluationLogEntry[]> {
    this.#checkOpen();
    const limit = checkLimit(query.limit);
    if (limit === 0) return [];
    const byKey = query.flagType !== undefined || query.flagName === undefined;
    const options: GetRowsOptions = {
      prefix: logRowPrefix(query.project, query.flagType, query.flagType === undefined ? undefined : query.flagName),
      filter: familyFilter(FAMILY),
    };
    // The key prefix is the whole filter unless a name comes without a type.
    if (byKey && limit !== undefined) options.limit = limit;
    const rows = await this.#read(this.#logs, this.logTableId, options);
    const out: EvaluationLogEntry[] = [];
    for (const raw of rows) {
      if (limit !== undefined && out.length >= limit) break;
      const entry = toLogEntry(raw);
      if (entry === undefined || entry.project !== query.project) continue;
      if (query.flagType !== undefined && entry.flagType !== query.flagType) continue;
      if (query.flagName !== undefined && entry.flagName !== query.flagName) continue;
      out.push(entry);
    }
    return out;
  }

  watch(listener: (changes: readonly FlagChange[]) => void, options: WatchOptions = {}): StopWatching {
    this.#checkOpen();
    const startedAt = Date.now() * 1000;
    let high: number | undefined;
    /**
     * Marker numbers not seen yet although later ones were (their append is still
     * writing its marker, or died): when they were first missed, and for numbers
     * taken before the watch started, the time their marker must not be older than.
     */
    const missing = new Map<number, { since: number; notBefore?: number }>();

    const decodeChanges = (raw: RawRow, sinceMicros?: number): FlagChange[] => {
      const time = Number(raw.cells.get('Time')?.toString('utf8'));
      if (sinceMicros !== undefined && !(time >= sinceMicros)) return [];
      return parseChanges(raw.cells.get('Rows')?.toString('utf8'));
    };

    // Read the counter now, so that changes from here on are the ones reported; the
    // few numbered just before it are checked by time (an append racing the start).
    const begin = async (): Promise<FlagChange[]> => {
      const seq = await this.#readSeq();
      const from = Math.max(1, seq - CHANGE_LOOKBACK + 1);
      const changes: FlagChange[] = [];
      if (seq >= from) {
        const rows = await this.#read(this.#side, this.sideTableId, {
          ranges: [{ start: changeKey(from), end: { value: changeKey(seq), inclusive: true } }],
          filter: familyFilter(CHANGE_FAMILY),
        });
        const found = new Set<number>();
        for (const raw of rows) {
          const n = changeSeq(raw.key);
          if (n !== undefined) found.add(n);
          changes.push(...decodeChanges(raw, startedAt));
        }
        const now = Date.now();
        for (let n = from; n <= seq; n++) if (!found.has(n)) missing.set(n, { since: now, notBefore: startedAt });
      }
      high = seq;
      return changes;
    };
    let starting: Promise<FlagChange[]> | undefined = begin();
    starting.catch(() => {
      // reported (and retried) by the first poll
    });

    const read = async (): Promise<FlagChange[]> => {
      const changes: FlagChange[] = [];
      if (high === undefined) {
        starting ??= begin();
        try {
          changes.push(...(await starting));
        } finally {
          starting = undefined;
        }
      }
      const from = high! + 1;
      const rows = await this.#read(this.#side, this.sideTableId, {
        ranges: [{ start: changeKey(from), end: { value: CHANGE_END, inclusive: false } }],
        filter: familyFilter(CHANGE_FAMILY),
        limit: CHANGE_PAGE,
      });
      const now = Date.now();
      for (const raw of rows) {
        const seq = changeSeq(raw.key);
        if (seq === undefined || seq <= high!) continue;
        // Numbers skipped over belong to appends still writing their marker (or that died).
        if (seq - high! - 1 <= CHANGE_PAGE) for (let n = high! + 1; n < seq; n++) missing.set(n, { since: now });
        high = seq;
        changes.push(...decodeChanges(raw));
      }
      if (missing.size > 0) {
        const late = await this.#read(this.#side, this.sideTableId, {
          keys: [...missing.keys()].map(changeKey),
          filter: familyFilter(CHANGE_FAMILY),
        });
        for (const raw of late) {
          const seq = changeSeq(raw.key);
          const gap = seq === undefined ? undefined : missing.get(seq);
          if (gap === undefined) continue;
          missing.delete(seq!);
          changes.push(...decodeChanges(raw, gap.notBefore));
        }
        for (const [seq, gap] of missing) if (now - gap.since > CHANGE_GAP_MS) missing.delete(seq);
      }
      return changes;
    };
    return pollChanges(read, listener, options);
  }

  async ping(): Promise<void> {
    this.#checkOpen();
    // One key lookup per table: proves Bigtable answers and that every table exists.
    await Promise.all(
      [
        [this.#flags, this.flagTableId],
        [this.#logs, this.logTableId],
        [this.#side, this.sideTableId],
      ].map(([table, id]) => this.#read(table as Table, id as string, { keys: ['VEXIL#PING'], limit: 1 })),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close().catch(() => {
      // the channels are gone either way
    });
  }

  // ── WTIMEs and heads ──────────────────────────────────────────────────────────

  /**
   * Hands out `count` strictly increasing WTIMEs for a flag: after the head's LAST and
   * after every stored row of the flag (rows other tools wrote after the head's
   * pointers included), then moves LAST with a conditional mutation that fails if
   * another process moved it first — in which case it starts over.
   */
  async #reserve(ref: FlagRef, count: number): Promise<string[]> {
    for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
      const head = await this.#readHead(ref);
      const stored = await this.#newestStored(ref, head);
      let last = maxMicros(head.LAST, stored.FLAG, stored.REVISION);
      const times: string[] = [];
      for (let i = 0; i < count; i++) {
        last = nextWTime(this.#now, last);
        times.push(formatWTime(last));
      }
      const set: Record<string, string> = { LAST: times[times.length - 1]! };
      // Adopt rows other tools wrote: the pointers may start there next time.
      for (const kind of ['FLAG', 'REVISION'] as const) {
        const newest = stored[kind];
        if (newest !== undefined && (head[kind] === undefined || newest > head[kind])) set[kind] = newest;
      }
      if (await this.#compareAndSetHead(ref, head.LAST, set)) return times;
      // Another writer moved the head: wait a little (jittered, growing) and read it again.
      await sleep(Math.min(50, 1 + attempt * 2) * Math.random());
    }
    throw new UnavailableError(
      `could not reserve a WTIME for ${ref.project}/${ref.flagType}/${ref.name}: other writers kept moving its head`,
      { hint: 'retry the write' },
    );
  }

  async #readHead(ref: FlagRef): Promise<Head> {
    const [raw] = await this.#read(this.#side, this.sideTableId, {
      keys: [headKey(ref)],
      filter: familyFilter(HEAD_FAMILY),
    });
    const head: Head = {};
    if (raw === undefined) return head;
    for (const column of ['LAST', 'FLAG', 'REVISION'] as const) {
      const value = raw.cells.get(column)?.toString('utf8');
      if (value !== undefined && value !== '') head[column] = value;
    }
    return head;
  }

  /** The newest stored WTIME of each kind, reading keys only, from the head's pointers on. */
  async #newestStored(ref: FlagRef, head: Head): Promise<{ FLAG?: string; REVISION?: string }> {
    const ranges = (['FLAG', 'REVISION'] as const).map((kind) => {
      const prefix = flagRowPrefix(kind, ref);
      const pointer = head[kind];
      return {
        start: pointer === undefined ? prefix : prefix + pointer,
        end: { value: prefixEnd(prefix), inclusive: false },
      };
    });
    const rows = await this.#read(this.#flags, this.flagTableId, {
      ranges,
      filter: KEYS_ONLY,
    });
    const newest: { FLAG?: string; REVISION?: string } = {};
    for (const raw of rows) {
      const parsed = parseKey(raw.key);
      if (parsed === undefined || !isWTime(parsed.wtime) || !sameRef(parsed.ref, ref)) continue;
      const known = newest[parsed.kind];
      if (known === undefined || parsed.wtime > known) newest[parsed.kind] = parsed.wtime;
    }
    return newest;
  }

  /** Sets head columns if LAST is still `expected` (absent when undefined); false when another writer moved it. */
  async #compareAndSetHead(ref: FlagRef, expected: string | undefined, set: Record<string, string>): Promise<boolean> {
    const row = this.#side.row(headKey(ref));
    const columns = Object.keys(set);
    const mutations = [
      { method: 'delete', data: columns.map((c) => `${HEAD_FAMILY}:${c}`) },
      { method: 'insert', data: { [HEAD_FAMILY]: columnData(Object.entries(set)) } },
    ];
    if (expected === undefined) {
      const [matched] = await this.#call(this.sideTableId, () =>
        row.filter([familyFilter(HEAD_FAMILY)[0], { column: { name: '^LAST$', cellLimit: 1 } }], {
          onNoMatch: mutations,
          gaxOptions: this.#gax(),
        }),
      );
      return !matched;
    }
    const [matched] = await this.#call(this.sideTableId, () =>
      row.filter(
        [
          familyFilter(HEAD_FAMILY)[0],
          { column: { name: '^LAST$', cellLimit: 1 } },
          { value: { start: Buffer.from(expected), end: Buffer.from(expected) } },
        ],
        { onMatch: mutations, gaxOptions: this.#gax() },
      ),
    );
    return matched === true;
  }

  /** Points the head's `kind` at `wtime` unless it already points at a newer row. */
  async #advancePointer(ref: FlagRef, kind: RowKind, wtime: string): Promise<void> {
    const row = this.#side.row(headKey(ref));
    await this.#call(this.sideTableId, () =>
      row.filter(
        [
          familyFilter(HEAD_FAMILY)[0],
          { column: { name: `^${kind}$`, cellLimit: 1 } },
          { value: { start: Buffer.from(wtime) } },
        ],
        {
          onNoMatch: [
            { method: 'delete', data: [`${HEAD_FAMILY}:${kind}`] },
            { method: 'insert', data: { [HEAD_FAMILY]: columnData([[kind, wtime]]) } },
          ],
          gaxOptions: this.#gax(),
        },
      ),
    );
  }

  /** Points the head's `kind` at `wtime` if it still points at `expected` (a row since deleted). */
  async #replacePointer(ref: FlagRef, kind: RowKind, expected: string | undefined, wtime: string): Promise<void> {
    if (expected === undefined) return this.#advancePointer(ref, kind, wtime);
    const row = this.#side.row(headKey(ref));
    await this.#call(this.sideTableId, () =>
      row.filter(
        [
          familyFilter(HEAD_FAMILY)[0],
          { column: { name: `^${kind}$`, cellLimit: 1 } },
          { value: { start: Buffer.from(expected), end: Buffer.from(expected) } },
        ],
        {
          onMatch: [
            { method: 'delete', data: [`${HEAD_FAMILY}:${kind}`] },
            { method: 'insert', data: { [HEAD_FAMILY]: columnData([[kind, wtime]]) } },
          ],
          gaxOptions: this.#gax(),
        },
      ),
    );
  }

  // ── change feed ───────────────────────────────────────────────────────────────

  /** Numbers this append (one atomic increment of `SEQ`) and writes what it stored under that number. */
  async #markChange(rows: readonly StoredRow[]): Promise<void> {
    if (rows.length === 0) return;
    const [result] = await this.#call(this.sideTableId, () =>
      this.#side.row(SEQ_KEY).createRules({ column: `${HEAD_FAMILY}:${SEQ_COLUMN}`, increment: 1 }, this.#gax()),
    );
    const seq = seqFromRuleResult(result);
    const changes = rows.map((r) => [r.kind, r.ref.project, r.ref.flagType, r.ref.name, r.wtime]);
    await this.#call(this.sideTableId, () =>
      this.#side.insert(
        [
          {
            key: changeKey(seq),
            data: {
              [CHANGE_FAMILY]: columnData([
                ['Rows', JSON.stringify(changes)],
                ['Time', String(Date.now() * 1000)],
              ]),
            },
          },
        ],
        this.#gax(),
      ),
    );
  }

  async #readSeq(): Promise<number> {
    const [raw] = await this.#read(this.#side, this.sideTableId, {
      keys: [SEQ_KEY],
      filter: familyFilter(HEAD_FAMILY),
    });
    const cell = raw?.cells.get(SEQ_COLUMN);
    return cell !== undefined && cell.length === 8 ? Number(cell.readBigInt64BE()) : 0;
  }

  // ── plumbing ──────────────────────────────────────────────────────────────────

  async #read(table: Table, tableId: string, options: GetRowsOptions): Promise<RawRow[]> {
    this.#checkOpen();
    const [rows] = await this.#call(tableId, () =>
      table.getRows({ ...options, decode: false, gaxOptions: this.#gax() }),
    );
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

  async #ensureTable(table: Table, tableId: string, families: { name: string; rule?: object }[]): Promise<void> {
    let existing: Set<string>;
    try {
      const [list] = await table.getFamilies(this.#gax());
      existing = new Set(list.map((family) => family.id));
    } catch (error) {
      if (grpcCode(error) !== 5) throw mapError(error, tableId);
      try {
        await table.create({
          families: families.map((f) => (f.rule ? { name: f.name, rule: f.rule } : f.name)),
          gaxOptions: this.#gax(),
        });
        return;
      } catch (createError) {
        // Another process created it first: check its families below.
        if (grpcCode(createError) !== 6) throw mapError(createError, tableId);
        const [list] = await this.#call(tableId, () => table.getFamilies(this.#gax()));
        existing = new Set(list.map((family) => family.id));
      }
    }
    for (const family of families) {
      if (existing.has(family.name)) continue;
      try {
        await table.createFamily(family.name, {
          ...(family.rule ? { rule: family.rule } : {}),
          gaxOptions: this.#gax(),
        });
      } catch (error) {
        if (grpcCode(error) !== 6) throw mapError(error, tableId);
      }
    }
  }

  async #call<T>(tableId: string, fn: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    try {
      return await fn();
    } catch (error) {
      throw mapError(error, tableId, this.#timeoutMs);
    }
  }

  #gax(): { timeout: number } {
    return { timeout: this.#timeoutMs };
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new UnavailableError(`the Bigtable store ${this.instanceId}/${this.flagTableId} is closed`);
    }
  }
}

// ── helpers ───────────────────────────────────────────────────────────────────

/** gRPC status codes. */
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const NOT_FOUND = 5;
const PERMISSION_DENIED = 7;
const RESOURCE_EXHAUSTED = 8;
const UNAUTHENTICATED = 16;

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Turns a client error into Vexil's: UnavailableError, TimeoutError, or the error itself. */
function mapError(error: unknown, tableId: string, timeoutMs?: number): unknown {
  if (isVexilError(error)) return error;
  let code = grpcCode(error);
  let message = (error as Error | null)?.message ?? String(error);
  // MutateRows reports per-row errors in a PartialFailureError.
  const partial = (error as { errors?: { code?: unknown; message?: string }[] } | null)?.errors;
  if ((error as Error | null)?.name === 'PartialFailureError' && Array.isArray(partial) && partial[0]) {
    code = grpcCode(partial[0]);
    message = partial[0].message ?? message;
    if (/unknown family|family .*not found/i.test(message)) code = NOT_FOUND;
  }
  const initHint = `run \`vexil init\` to create the Bigtable tables and column families (${tableId} and Vexil's side table)`;
  if (code === NOT_FOUND) {
    return new UnavailableError(`Bigtable table ${tableId} is missing or incomplete: ${message}`, {
      hint: initHint,
      cause: error,
    });
  }
  if (code === DEADLINE_EXCEEDED && !/UNAVAILABLE|No connection established/.test(message)) {
    return new TimeoutError(
      `Bigtable did not answer within ${timeoutMs ?? DEFAULT_TIMEOUT_MS} ms (table ${tableId}): ${message}`,
      { cause: error },
    );
  }
  if (
    code === UNAVAILABLE ||
    code === DEADLINE_EXCEEDED ||
    code === RESOURCE_EXHAUSTED ||
    code === PERMISSION_DENIED ||
    code === UNAUTHENTICATED
  ) {
    const hint =
      code === PERMISSION_DENIED || code === UNAUTHENTICATED
        ? 'check the credentials (Application Default Credentials) and their Bigtable roles'
        : 'check that Bigtable (or the emulator at BIGTABLE_EMULATOR_HOST) is reachable, and PROJECT_ID / INSTANCE_ID';
    return new UnavailableError(`Bigtable is unavailable (table ${tableId}): ${message}`, { hint, cause: error });
  }
  return error;
}

/** Row keys alone: one cell per row, its value stripped. */
/** Projects listed at most (by listProjects, for messages). */
const MAX_LISTED_PROJECTS = 1000;

const KEYS_ONLY: object[] = [{ family: `^${FAMILY}$` }, { row: { cellLimit: 1 } }, { value: { strip: true } }];

function familyFilter(family: string): object[] {
  return [{ family: `^${family}$` }, { column: { cellLimit: 1 } }];
}

/**
 * Cell bytes as the client hands them over. Even with `decode: false` the client
 * turns any 8-byte value that reads as a safe integer into a number (its counters):
 * those are turned back into the same 8 bytes.
 */
function toBuffer(value: Buffer | string | Uint8Array | number): Buffer {
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
function columnData(columns: Iterable<readonly [string, string]>): Record<string, Buffer> {
  return Object.fromEntries([...columns].map(([name, text]) => [name, Buffer.from(text, 'utf8')]));
}

function headKey(ref: FlagRef): string {
  return `HEAD#${ref.project}#${ref.flagType}#${ref.name}`;
}

function changeKey(seq: number): string {
  return `${CHANGE_PREFIX}${String(seq).padStart(16, '0')}`;
}

function changeSeq(key: string): number | undefined {
  if (!key.startsWith(CHANGE_PREFIX)) return undefined;
  const n = Number(key.slice(CHANGE_PREFIX.length));
  return Number.isSafeInteger(n) ? n : undefined;
}

function seqFromRuleResult(result: unknown): number {
  const families = (result as { row?: { families?: { columns?: { cells?: { value?: unknown }[] }[] }[] } })?.row
    ?.families;
  const value = families?.[0]?.columns?.[0]?.cells?.[0]?.value;
  if (value === undefined || value === null) throw new UnavailableError('Bigtable returned no change counter value');
  const bytes = toBuffer(value as Buffer | string | Uint8Array | number);
  return Number(bytes.readBigInt64BE());
}

function parseChanges(text: string | undefined): FlagChange[] {
  if (text === undefined) return [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  const out: FlagChange[] = [];
  for (const item of list) {
    if (!Array.isArray(item) || item.length !== 5 || !item.every((part) => typeof part === 'string')) continue;
    const [kind, project, flagType, name, wtime] = item as [RowKind, string, FlagType, string, string];
    out.push({ kind, ref: { project, flagType, name }, wtime });
  }
  return out;
}

/** The smallest string after every string that starts with `prefix` (which ends in `#`). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function parseKey(key: string): { kind: RowKind; ref: FlagRef; wtime: string } | undefined {
  try {
    return parseFlagRowKey(key);
  } catch {
    return undefined;
  }
}

function maxMicros(...wtimes: (string | undefined)[]): number | undefined {
  let last: number | undefined;
  for (const wtime of wtimes) {
    if (wtime === undefined || !isWTime(wtime)) continue;
    let micros: number;
    try {
      micros = parseWTime(wtime);
    } catch {
      continue;
    }
    if (last === undefined || micros > last) last = micros;
  }
  return last;
}

function sameRef(a: FlagRef, b: FlagRef): boolean {
  return a.project === b.project && a.flagType === b.flagType && a.name === b.name;
}

function copyRef(ref: FlagRef): FlagRef {
  return { project: ref.project, flagType: ref.flagType, name: ref.name };
}

function textCells(raw: RawRow): [string, string][] {
  return [...raw.cells].map(([name, bytes]) => [name, bytes.toString('utf8')]);
}

/** A flag row as stored, or undefined when its key is not in the runbook layout (a row of some other tool). */
function toStoredRow(raw: RawRow): StoredRow | undefined {
  const parsed = parseKey(raw.key);
  if (parsed === undefined) return undefined;
  return {
    kind: parsed.kind,
    ref: parsed.ref,
    wtime: parsed.wtime,
    key: raw.key,
    fields: decodeColumns(textCells(raw), parsed.ref.flagType),
  };
}

/** The newest row under a flag's prefix whose key does not parse: reported as the asked-for flag. */
function rawFallback(raw: RawRow, kind: RowKind, ref: FlagRef): StoredRow {
  const wtime = raw.key.slice(flagRowPrefix(kind, ref).length);
  return { kind, ref: copyRef(ref), wtime, key: raw.key, fields: decodeColumns(textCells(raw), ref.flagType) };
}

function toLogEntry(raw: RawRow): EvaluationLogEntry | undefined {
  let key: ReturnType<typeof parseLogRowKey>;
  try {
    key = parseLogRowKey(raw.key);
  } catch {
    return undefined;
  }
  const text = (column: string) => raw.cells.get(column)?.toString('utf8');
  return {
    project: key.project,
    flagType: key.flagType,
    flagName: key.flagName,
    instanceId: text('InstanceID') ?? key.instanceId,
    requestId: text('RequestID') ?? key.requestId,
    time: text('CreatedTimestamp') ?? key.time,
    value: decodeLogValue(text('AssignedValue') ?? '', key.flagType),
    group: text('AssignedGroup') ?? '',
    cacheHit: decodeCacheFlag(text('CacheFlag') ?? ''),
  };
}
