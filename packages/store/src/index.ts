export type {
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
export { DEFAULT_STORE_SPEC, openStore } from './open-store.js';
export { pollChanges } from './poll-changes.js';
export { SQLITE_SCHEMA_VERSION, SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
