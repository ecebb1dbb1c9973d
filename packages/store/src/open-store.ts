import { resolve } from 'node:path';
import { InvalidInputError } from '@vexil/core';
import type { AccessStore } from './access-store.js';
import { BigtableStore, type BigtableStoreOptions } from './engines/bigtable/bigtable-store.js';
import { MemoryStore } from './engines/memory/memory-store.js';
import { redactUrl } from './engines/postgres/postgres-errors.js';
import { PostgresStore } from './engines/postgres/postgres-store.js';
import { SqliteStore } from './engines/sqlite/sqlite-store.js';
import type { EvaluationLogSink } from './evaluation-log-sink.js';
import type { FlagStore, StoreOptions } from './flag-store.js';
/**
 * What every engine is, and what openStore opens: a flag store, an evaluation-log
 * sink, and beside them its access store (API tokens, project settings).
 */
export type StoreEngine = FlagStore & EvaluationLogSink & { readonly access: AccessStore };

/** The store `vexil serve` keeps when nothing is configured. */
export const DEFAULT_STORE_SPEC = 'sqlite:./vexil.db';

const ACCEPTED_FORMS =
  'sqlite:PATH (a SQLite file, PATH relative to the working directory, e.g. sqlite:./vexil.db, the default), ' +
  'sqlite::memory: (SQLite in memory, gone when the process ends), ' +
  'bigtable (the tables named by PROJECT_ID, INSTANCE_ID, BT_TABLE_ID and FF_LOG_TABLE_ID; BIGTABLE_EMULATOR_HOST for the emulator), ' +
  'postgres://USER@HOST:PORT/DATABASE (PostgreSQL; postgresql:// too), ' +
  'memory: (plain process memory, for tests)';

/** Where the runbook system's Bigtable tables are: its own variable names, resolved by the caller. */
export interface BigtableSettings {
  projectId?: string | undefined;
  instanceId?: string | undefined;
  flagTableId: string;
  logTableId: string;
  /** `BIGTABLE_EMULATOR_HOST`: `host:port` of an emulator; unset means Bigtable itself. */
  emulatorHost?: string | undefined;
}

export interface OpenStoreOptions extends StoreOptions {
  /** For `VEXIL_STORE=bigtable`. */
  bigtable?: BigtableSettings;
  /**
   * Create what is missing (Bigtable tables and column families) instead of
   * refusing to open: `vexil init`. SQLite and PostgreSQL migrate on every open.
   */
  initialize?: boolean;
}

/** Where a spec keeps flags, for messages: "which store is this?" */
export interface StoreLocation {
  /** The spec as given, or the default when none was. */
  spec: string;
  /** The spec for people: a SQLite file's absolute path added, a PostgreSQL password hidden. */
  label: string;
  /** The SQLite file the spec opens (absolute), when it names one. */
  file?: string | undefined;
}

/** Reads a spec as `openStore` would, without opening anything. */
export function storeLocation(spec: string | undefined, bigtable?: BigtableSettings): StoreLocation {
  const text = spec?.trim() || DEFAULT_STORE_SPEC;
  const named = spec?.trim() ? text : `${text}, the default`;
  if (text.startsWith('sqlite:') && text !== 'sqlite::memory:' && text !== 'sqlite:') {
    const file = resolve(process.cwd(), text.slice('sqlite:'.length));
    return { spec: text, label: `${file} (${named})`, file };
  }
  if (/^postgres(ql)?:\/\//.test(text)) return { spec: text, label: redactUrl(text) };
  if (text === 'bigtable' && bigtable !== undefined) {
    const where = `${bigtable.projectId ?? '?'}/${bigtable.instanceId ?? '?'}`;
    return { spec: text, label: `bigtable ${where} table ${bigtable.flagTableId}` };
  }
  return { spec: text, label: named };
}

/**
 * Opens the store a spec names (`VEXIL_STORE`, which the caller reads), by default
 * `sqlite:./vexil.db`. An empty spec counts as unset.
 *
 *   sqlite:PATH       a SQLite file (relative to the working directory; parent directories are created)
 *   sqlite::memory:   SQLite in memory
 *   bigtable          the runbook system's Bigtable tables
 *   postgres://…      PostgreSQL (schema migrations run on open)
 *   memory:           MemoryStore
 */
export async function openStore(spec: string | undefined, options: OpenStoreOptions = {}): Promise<StoreEngine> {
  const text = spec?.trim() || DEFAULT_STORE_SPEC;
  const { bigtable, initialize, ...storeOptions } = options;
  if (text === 'memory:') return new MemoryStore(storeOptions);
  if (text.startsWith('sqlite:')) {
    const path = text.slice('sqlite:'.length);
    if (path === ':memory:') return SqliteStore.open(':memory:', storeOptions);
    if (path !== '') return SqliteStore.open(resolve(process.cwd(), path), storeOptions);
  }
  if (text === 'bigtable') return openBigtable(bigtable, storeOptions, initialize === true);
  if (/^postgres(ql)?:\/\//.test(text)) return PostgresStore.open(text, storeOptions);
  throw new InvalidInputError(
    `VEXIL_STORE ${JSON.stringify(text)} is not a store this version of Vexil can open. Accepted forms: ${ACCEPTED_FORMS}.`,
    { field: 'VEXIL_STORE', hint: `leave VEXIL_STORE unset to keep flags in ${DEFAULT_STORE_SPEC.slice(7)}` },
  );
}

async function openBigtable(
  settings: BigtableSettings | undefined,
  options: StoreOptions,
  initialize: boolean,
): Promise<StoreEngine> {
  if (settings === undefined) {
    throw new InvalidInputError('VEXIL_STORE=bigtable needs the Bigtable settings (PROJECT_ID, INSTANCE_ID, …)', {
      field: 'VEXIL_STORE',
    });
  }
  for (const [value, variable] of [
    [settings.projectId, 'PROJECT_ID'],
    [settings.instanceId, 'INSTANCE_ID'],
  ] as const) {
    if (value === undefined || value === '') {
      throw new InvalidInputError(
        `VEXIL_STORE=bigtable needs ${variable}: the Google Cloud ${variable === 'PROJECT_ID' ? 'project' : 'Bigtable instance'} of the flag tables`,
        {
          field: variable,
        },
      );
    }
  }
  const bigtableOptions: BigtableStoreOptions = {
    ...options,
    projectId: settings.projectId!,
    instanceId: settings.instanceId!,
    flagTableId: settings.flagTableId,
    logTableId: settings.logTableId,
    ...(settings.emulatorHost === undefined ? {} : { emulatorHost: settings.emulatorHost }),
  };
  return BigtableStore.open(bigtableOptions, { initialize });
}
