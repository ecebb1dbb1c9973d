import type { FlagSummary, StaleFlag, ValueFlagType } from './api/types.js';
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
  lastChange: string;
  changedBy: string | undefined;
  lastEvaluation: string | null;
  revisionCount: number;
  /** Why the revision in force does not validate, when it does not. */
  problem: string | undefined;
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

export function flagRows(flags: readonly FlagSummary[], stale: readonly StaleFlag[] = []): FlagRow[] {
  const staleByKey = new Map(stale.map((s) => [`${s.flagType}/${s.name}`, s.reasons]));
  return flags.map((flag) => {
    const revision = flag.latestRevision?.revision;
    const key = `${flag.flagType}/${flag.name}`;
    const row: FlagRow = {
      key,
      flagType: flag.flagType,
      name: flag.name,
      description: flag.description ?? '',
      rules: revision === undefined ? 'no revision yet' : describeRevision(revision),
      owner: String(flag.metadata.owner ?? ''),
      ticket: String(flag.metadata.ticket ?? ''),
      expires: String(flag.metadata.expires ?? ''),
      lastChange: flag.lastChange.time,
      changedBy: flag.lastChange.owner,
      lastEvaluation: flag.lastEvaluated,
      revisionCount: flag.revisionCount,
      problem: flag.problem === undefined ? undefined : flag.problem.message,
      archived: flag.archived,
      disabled: flag.disabled,
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
