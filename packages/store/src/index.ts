export {
  ACCESS_ACTIONS,
  type AccessAction,
  type AccessEvent,
  type AccessEventQuery,
  type AccessStore,
  type ApprovalSettings,
  type FeatureRecord,
  type ProjectSettings,
  RECORD_KINDS,
  type RecordKind,
  type TokenRecord,
} from './access-store.js';
export {
  type BigtableReadStats,
  BigtableStore,
  type BigtableStoreOptions,
} from './engines/bigtable/bigtable-store.js';
export { MemoryStore } from './engines/memory/memory-store.js';
export {
  POSTGRES_SCHEMA_VERSION,
  PostgresStore,
  type PostgresStoreOptions,
} from './engines/postgres/postgres-store.js';
export { SQLITE_SCHEMA_VERSION, SqliteStore, type SqliteStoreOptions } from './engines/sqlite/sqlite-store.js';
export type {
  EncodedLogBatch,
  EncodedLogWriter,
  EvaluationLogEntry,
  EvaluationLogSink,
  LogFlag,
  LogQuery,
} from './evaluation-log-sink.js';
export type {
  FlagChange,
  FlagStore,
  HistoryOptions,
  NewRow,
  StopWatching,
  StoreCapabilities,
  StoredRow,
  StoreOptions,
  WatchOptions,
} from './flag-store.js';
export {
  type BigtableSettings,
  DEFAULT_STORE_SPEC,
  type OpenStoreOptions,
  openStore,
  type StoreEngine,
  type StoreLocation,
  storeLocation,
} from './open-store.js';
export { pollChanges } from './poll-changes.js';
