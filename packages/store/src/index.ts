export { type BigtableReadStats, BigtableStore, type BigtableStoreOptions } from './bigtable-store.js';
export type {
  EncodedLogBatch,
  EncodedLogWriter,
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
export { MemoryStore } from './memory-store.js';
export {
  type BigtableSettings,
  DEFAULT_STORE_SPEC,
  type OpenStoreOptions,
  openStore,
  type StoreLocation,
  storeLocation,
} from './open-store.js';
export { pollChanges } from './poll-changes.js';
export { POSTGRES_SCHEMA_VERSION, PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
export { SQLITE_SCHEMA_VERSION, SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
