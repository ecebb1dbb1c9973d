import type { FlagView, StaleFlag, ValueFlagType } from './api/types.js';
import { describeRevision } from './words/describe-revision.js';

/** One line of the flags page, everything it shows and filters on, computed once per load. */
export interface FlagRow {
  key: string;
  flagType: ValueFlagType;
  name: string;
  description: string;
  rules: string;
  owner: string;
  ticket: string;
  expires: string;
  lastChange: string | undefined;
  changedBy: string | undefined;
  lastEvaluation: string | null | undefined;
  archived: boolean;
  disabled: boolean;
  stale: string[];
  /** Lower-case text the search looks in. */
  haystack: string;
}

export interface FlagFilter {
  search: string;
  type: ValueFlagType | '';
  owner: string;
  staleOnly: boolean;
  showArchived: boolean;
  disabledOnly: boolean;
}

export const NO_FILTER: FlagFilter = {
  search: '',
  type: '',
  owner: '',
  staleOnly: false,
  showArchived: false,
  disabledOnly: false,
};

export function flagRows(flags: readonly FlagView[], stale: readonly StaleFlag[] = []): FlagRow[] {
  const staleByKey = new Map(stale.map((s) => [`${s.flagType}/${s.name}`, s.reasons]));
  return flags.map((flag) => {
    const revision = flag.latestRevision?.revision;
    const metadata = revision?.Metadata ?? {};
    const key = `${flag.flagType}/${flag.name}`;
    const row: FlagRow = {
      key,
      flagType: flag.flagType,
      name: flag.name,
      description: typeof flag.metadata.Description === 'string' ? flag.metadata.Description : '',
      rules: revision === undefined ? 'no revision yet' : describeRevision(revision),
      owner: String(metadata.owner ?? ''),
      ticket: String(metadata.ticket ?? ''),
      expires: String(metadata.expires ?? ''),
      lastChange: flag.lastChange?.time ?? revision?.CreatedTime ?? flag.latestRevision?.wtime,
      changedBy: flag.lastChange?.actor ?? revision?.OwnerID,
      lastEvaluation: flag.lastEvaluation,
      archived: flag.archived,
      disabled: flag.disabled ?? revision?.Disabled === true,
      stale: staleByKey.get(key) ?? [],
      haystack: '',
    };
    row.haystack = [row.name, row.description, row.rules, row.owner, row.ticket].join('\n').toLowerCase();
    return row;
  });
}

export function filterFlags(rows: readonly FlagRow[], filter: FlagFilter): FlagRow[] {
  const words = filter.search.toLowerCase().split(/\s+/).filter(Boolean);
  return rows.filter(
    (row) =>
      (filter.showArchived || !row.archived) &&
      (filter.type === '' || row.flagType === filter.type) &&
      (filter.owner === '' || row.owner === filter.owner) &&
      (!filter.staleOnly || row.stale.length > 0) &&
      (!filter.disabledOnly || row.disabled) &&
      words.every((word) => row.haystack.includes(word)),
  );
}

/** The owners to offer in the filter, sorted. */
export function ownersOf(rows: readonly FlagRow[]): string[] {
  return [...new Set(rows.map((r) => r.owner).filter(Boolean))].sort();
}
