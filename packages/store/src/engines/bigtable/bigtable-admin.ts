import type { Table } from '@google-cloud/bigtable';
import { GRPC, grpcCode, mapError } from './bigtable-errors.js';
import {
  ACCESS_FAMILY,
  type BigtableTables,
  CHANGE_FAMILY,
  FAMILY,
  HEAD_FAMILY,
  type TableRef,
} from './bigtable-tables.js';

/** The side table's change markers are kept this long (Bigtable's garbage collection drops older ones). */
const CHANGE_TTL_SECONDS = 7 * 24 * 3600;

interface Family {
  name: string;
  rule?: object;
}

/**
 * Creates the flag, log, side and access tables and their column families where missing
 * (`vexil init`). Safe to run again, and alongside another process doing the same.
 * Existing tables (the runbook system's) are left as they are, but for a missing
 * family. Internal to the package.
 */
export async function ensureTables(tables: BigtableTables): Promise<void> {
  tables.checkOpen();
  await Promise.all([
    ensureTable(tables, tables.flags, [{ name: FAMILY }]),
    ensureTable(tables, tables.logs, [{ name: FAMILY }]),
    ensureTable(tables, tables.side, [
      { name: HEAD_FAMILY, rule: { versions: 1 } },
      { name: CHANGE_FAMILY, rule: { age: { seconds: CHANGE_TTL_SECONDS }, versions: 1, union: true } },
    ]),
    ensureTable(tables, tables.access, [{ name: ACCESS_FAMILY, rule: { versions: 1 } }]),
  ]);
}

async function ensureTable(tables: BigtableTables, { table, id }: TableRef, families: Family[]): Promise<void> {
  const fail = (error: unknown) => mapError(error, id, tables.timeoutMs);
  let existing: Set<string>;
  try {
    existing = await familiesOf(table, tables);
  } catch (error) {
    if (grpcCode(error) !== GRPC.NOT_FOUND) throw fail(error);
    try {
      await table.create({
        families: families.map((f) => (f.rule ? { name: f.name, rule: f.rule } : f.name)),
        gaxOptions: tables.gax(),
      });
      return;
    } catch (createError) {
      // Another process created it first: check its families below.
      if (grpcCode(createError) !== GRPC.ALREADY_EXISTS) throw fail(createError);
      existing = await tables.call(id, () => familiesOf(table, tables));
    }
  }
  for (const family of families) {
    if (existing.has(family.name)) continue;
    try {
      await table.createFamily(family.name, {
        ...(family.rule ? { rule: family.rule } : {}),
        gaxOptions: tables.gax(),
      });
    } catch (error) {
      if (grpcCode(error) !== GRPC.ALREADY_EXISTS) throw fail(error);
    }
  }
}

async function familiesOf(table: Table, tables: BigtableTables): Promise<Set<string>> {
  const [list] = await table.getFamilies(tables.gax());
  return new Set(list.map((family) => family.id));
}
