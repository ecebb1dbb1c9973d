/**
 * Throwaway engines for tests and benchmarks (`@vexil/store/testing`): Google's
 * Bigtable emulator and a PostgreSQL server in a temporary directory, each started on
 * a free port and stopped with its data. Not for production use.
 */
export {
  type BigtableEmulator,
  type CbtRow,
  type CbtTarget,
  findCbt,
  findCbtEmulator,
  parseCbtRows,
  runCbt,
  startBigtableEmulator,
} from './bigtable-emulator.js';
export { findPostgresBin, type PostgresServer, startPostgres } from './postgres-server.js';
