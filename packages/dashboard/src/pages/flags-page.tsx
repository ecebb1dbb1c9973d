import { VALUE_FLAG_TYPES } from '@vexil/core';
import { useMemo, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { api } from '../api/client.js';
import type { StaleFlag } from '../api/types.js';
import { may, useAuth } from '../auth.js';
import { ErrorNote } from '../components/error-note.js';
import { timeAgo } from '../components/time-ago.js';
import { type FlagFilter, filterFlags, flagRows, NO_FILTER, ownersOf } from '../flag-list.js';
import { useLoad } from '../hooks.js';

const STALE_DAYS = 30;

/** Stale hints are extra: a server without the stale route still shows its flags. */
async function staleOf(project: string): Promise<StaleFlag[]> {
  try {
    const answer = await api.stale(project, STALE_DAYS);
    return Array.isArray(answer) ? answer : answer.flags;
  } catch {
    return [];
  }
}

export function FlagsPage({ params }: { params: { project: string } }) {
  const project = decodeURIComponent(params.project);
  const { whoami } = useAuth();
  const flags = useLoad(() => api.flagSummaries(project), [project]);
  // Stale hints read the evaluation log: the flags are shown without waiting for them.
  const stale = useLoad(() => staleOf(project), [project]);
  const loaded = {
    error: flags.error,
    data: useMemo(
      () => (flags.data === undefined ? undefined : flagRows(flags.data, stale.data)),
      [flags.data, stale.data],
    ),
  };
  const [filter, setFilter] = useState<FlagFilter>(NO_FILTER);
  const rows = useMemo(() => filterFlags(loaded.data ?? [], filter), [loaded.data, filter]);
  const owners = useMemo(() => ownersOf(loaded.data ?? []), [loaded.data]);
  const set = (change: Partial<FlagFilter>) => setFilter((f) => ({ ...f, ...change }));
  const base = `/p/${encodeURIComponent(project)}`;

  return (
    <section>
      <div class="title-row">
        <h1>Flags of {project}</h1>
        {may(whoami, 'write', project) && (
          <Link href={`${base}/new-flag`} class="button">
            New flag
          </Link>
        )}
      </div>
      <form class="filters" aria-label="Filter the flags" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>Search</span>
          <input
            type="search"
            value={filter.search}
            onInput={(e) => set({ search: (e.currentTarget as HTMLInputElement).value })}
          />
        </label>
        <label>
          <span>Type</span>
          <select
            value={filter.type}
            onChange={(e) => set({ type: (e.currentTarget as HTMLSelectElement).value as FlagFilter['type'] })}
          >
            <option value="">all</option>
            {VALUE_FLAG_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Owner</span>
          <select value={filter.owner} onChange={(e) => set({ owner: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">all</option>
            {owners.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={filter.staleOnly}
            onChange={(e) => set({ staleOnly: (e.currentTarget as HTMLInputElement).checked })}
          />
          <span>stale only</span>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={filter.disabledOnly}
            onChange={(e) => set({ disabledOnly: (e.currentTarget as HTMLInputElement).checked })}
          />
          <span>disabled only</span>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={filter.showArchived}
            onChange={(e) => set({ showArchived: (e.currentTarget as HTMLInputElement).checked })}
          />
          <span>show archived</span>
        </label>
      </form>
      <ErrorNote error={loaded.error} />
      {loaded.data === undefined ? (
        loaded.error === undefined && <p class="loading">Loading flags…</p>
      ) : (
        <>
          <p class="count" aria-live="polite">
            {rows.length} of {loaded.data.length} flags
          </p>
          <table class="flags flag-list">
            <thead>
              <tr>
                <th scope="col">Flag</th>
                <th scope="col">Type</th>
                <th scope="col">Rules</th>
                <th scope="col">Owner</th>
                <th scope="col">Last change</th>
                <th scope="col">Last evaluation</th>
                <th scope="col">Metadata</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.key} data-flag={row.key}>
                  <th scope="row">
                    {/* A plain link (the router follows the hash): a Link component per row costs a thousand subscriptions. */}
                    <a href={`#${base}/flags/${row.flagType}/${encodeURIComponent(row.name)}`}>{row.name}</a>
                    {row.archived && <span class="badge">archived</span>}
                    {row.disabled && <span class="badge warn">disabled</span>}
                    {row.stale.length > 0 && (
                      <span class="badge stale" title={row.stale.join('; ')}>
                        stale
                      </span>
                    )}
                    {row.description !== '' && <div class="muted small">{row.description}</div>}
                  </th>
                  <td data-label="Type">{row.flagType}</td>
                  <td data-label="Rules" class="rules">
                    {row.rules}
                    {row.problem !== undefined && <div class="error small">does not validate: {row.problem}</div>}
                    {row.stale.length > 0 && <div class="hint small">{row.stale.join('; ')}</div>}
                  </td>
                  <td data-label="Owner">{row.owner}</td>
                  <td data-label="Last change">
                    {timeAgo(row.lastChange)}
                    {row.changedBy !== undefined && <span class="muted small"> by {row.changedBy}</span>}
                    <div class="muted small">{row.revisionCount} revisions</div>
                  </td>
                  <td data-label="Last evaluation">{timeAgo(row.lastEvaluation)}</td>
                  <td data-label="Metadata" class="small">
                    {row.ticket !== '' && <div>ticket {linkOrText(row.ticket)}</div>}
                    {row.expires !== '' && <div>expires {row.expires}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function linkOrText(text: string) {
  return /^https?:\/\//.test(text) ? (
    <a href={text} rel="noreferrer noopener" target="_blank">
      {text}
    </a>
  ) : (
    text
  );
}
