import { resolve } from 'node:path';
import { InvalidInputError } from '@vexil/core';
import type { FlagStore } from './flag-store.js';
import { MemoryStore } from './memory-store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

/** The store `vexil serve` keeps when nothing is configured. */
export const DEFAULT_STORE_SPEC = 'sqlite:./vexil.db';

const ACCEPTED_FORMS =
  'sqlite:PATH (a SQLite file, PATH relative to the working directory, e.g. sqlite:./vexil.db, the default), ' +
  'sqlite::memory: (SQLite in memory, gone when the process ends), ' +
  'memory: (plain process memory, for tests)';

/**
 * Opens the store a spec names (by default the `VEXIL_STORE` variable, else
 * `sqlite:./vexil.db`). An empty spec counts as unset.
 *
 *   sqlite:PATH       a SQLite file (relative to the working directory; parent directories are created)
 *   sqlite::memory:   SQLite in memory
 *   memory:           MemoryStore
 */
export async function openStore(
  spec: string | undefined = process.env.VEXIL_STORE,
  options: SqliteStoreOptions = {},
): Promise<FlagStore> {
  const text = spec?.trim() || DEFAULT_STORE_SPEC;
  if (text === 'memory:') return new MemoryStore(options);
  if (text.startsWith('sqlite:')) {
    const path = text.slice('sqlite:'.length);
    if (path === ':memory:') return SqliteStore.open(':memory:', options);
    if (path !== '') return SqliteStore.open(resolve(process.cwd(), path), options);
  }
  throw new InvalidInputError(
    `VEXIL_STORE ${JSON.stringify(text)} is not a store this version of Vexil can open. Accepted forms: ${ACCEPTED_FORMS}.`,
    { field: 'VEXIL_STORE', hint: `leave VEXIL_STORE unset to keep flags in ${DEFAULT_STORE_SPEC.slice(7)}` },
  );
}
