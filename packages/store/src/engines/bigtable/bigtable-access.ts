import { createHash } from 'node:crypto';
import { type AccessRecordKind, RecordAccessStore } from '../../access/access-records.js';
import type { AccessStore } from '../../access-store.js';
import { prefixEnd } from '../../rows.js';
import { ACCESS_FAMILY, type BigtableTables, columnData, familyFilter } from './bigtable-tables.js';

/**
 * The access store in its own table (`{BT_TABLE_ID}_vexil_access`), which the runbook
 * system never reads: one row per record, keyed `{kind}#{key}`, its JSON in
 * `access:fields` and the JSON's SHA-256 in `access:sha`. A conditional write compares
 * the hash (check-and-mutate), not the JSON: a filter holds at most 20 KB, a record may
 * hold more. Internal to the package.
 */
const COLUMN = 'fields';
const SHA_COLUMN = 'sha';

function sha(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}

/** The newest cell of one column of the access family. */
function columnFilter(column: string): object[] {
  return [{ family: `^${ACCESS_FAMILY}$` }, { column: { name: `^${column}$`, cellLimit: 1 } }];
}

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
      const data = {
        [ACCESS_FAMILY]: columnData([
          [COLUMN, json],
          [SHA_COLUMN, sha(json)],
        ]),
      };
      await tables.call(access.id, () => access.table.insert([{ key: rowKey(kind, key), data }], tables.gax()));
    },
    replace: async (kind, key, expected, json) => {
      const row = access.table.row(rowKey(kind, key));
      const write = [
        { method: 'delete', data: [`${ACCESS_FAMILY}:${COLUMN}`, `${ACCESS_FAMILY}:${SHA_COLUMN}`] },
        {
          method: 'insert',
          data: {
            [ACCESS_FAMILY]: columnData([
              [COLUMN, json],
              [SHA_COLUMN, sha(json)],
            ]),
          },
        },
      ];
      const gaxOptions = tables.gax();
      if (expected === null) {
        const [matched] = await tables.call(access.id, () =>
          row.filter(familyFilter(ACCESS_FAMILY), { onNoMatch: write, gaxOptions }),
        );
        return !matched;
      }
      const hash = Buffer.from(sha(expected));
      const [matched] = await tables.call(access.id, () =>
        row.filter([...columnFilter(SHA_COLUMN), { value: { start: hash, end: hash } }], {
          onMatch: write,
          gaxOptions,
        }),
      );
      if (matched === true) return true;
      // A record written before hashes were kept: compare its JSON here, then write only while it still has no hash
      // (every write since sets one), so a writer that changed it in between wins instead.
      const [raw] = await tables.read(access, { keys: [rowKey(kind, key)], filter: familyFilter(ACCESS_FAMILY) });
      if (raw === undefined || raw.cells.has(SHA_COLUMN) || raw.cells.get(COLUMN)?.toString('utf8') !== expected) {
        return false;
      }
      const [hashed] = await tables.call(access.id, () =>
        row.filter(columnFilter(SHA_COLUMN), { onNoMatch: write, gaxOptions }),
      );
      return !hashed;
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
