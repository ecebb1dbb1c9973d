import { type AccessRecordKind, RecordAccessStore } from '../../access/access-records.js';
import type { AccessStore } from '../../access-store.js';
import { prefixEnd } from '../../rows.js';
import { ACCESS_FAMILY, type BigtableTables, columnData, familyFilter } from './bigtable-tables.js';

/**
 * The access store in its own table (`{BT_TABLE_ID}_vexil_access`), which the runbook
 * system never reads: one row per record, keyed `{kind}#{key}`, its JSON in
 * `access:fields`. Internal to the package.
 */
const COLUMN = 'fields';

export function bigtableAccess(tables: BigtableTables): AccessStore {
  const { access } = tables;
  const rowKey = (kind: AccessRecordKind, key: string) => `${kind}#${key}`;
  return new RecordAccessStore({
    get: async (kind, key) => {
      const wanted = rowKey(kind, key);
      const [row] = await tables.read(access, { keys: [wanted], filter: familyFilter(ACCESS_FAMILY) });
      return row?.key === wanted ? row.cells.get(COLUMN)?.toString('utf8') : undefined;
    },
    put: async (kind, key, json) => {
      const data = { [ACCESS_FAMILY]: columnData([[COLUMN, json]]) };
      await tables.call(access.id, () => access.table.insert([{ key: rowKey(kind, key), data }], tables.gax()));
    },
    list: async (kind, from) => {
      const prefix = `${kind}#`;
      const rows = await tables.read(access, {
        ranges: [{ start: prefix + (from ?? ''), end: { value: prefixEnd(prefix), inclusive: false } }],
        filter: familyFilter(ACCESS_FAMILY),
      });
      return rows.flatMap((row) => {
        const json = row.cells.get(COLUMN)?.toString('utf8');
        return json === undefined ? [] : [{ key: row.key.slice(prefix.length), json }];
      });
    },
    delete: async (kind, key) => {
      const wanted = rowKey(kind, key);
      // Bigtable's delete answers the same whether the row was there: read first to tell.
      const [row] = await tables.read(access, { keys: [wanted], filter: familyFilter(ACCESS_FAMILY) });
      if (row?.key !== wanted) return false;
      await tables.call(access.id, () => access.table.row(wanted).delete(tables.gax()));
      return true;
    },
  });
}
