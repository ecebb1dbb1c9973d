import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { api } from '../api/client.js';
import type { FlagView, Proposal } from '../api/types.js';
import { may, useAuth } from '../auth.js';
import { DiffView } from '../components/diff-view.js';
import { ErrorNote } from '../components/error-note.js';
import { TimeAgo } from '../components/time-ago.js';
import { useLoad } from '../hooks.js';
import { describePlan, describeProposal, wholeRevision } from '../words/describe-change.js';
import { diffRevisions } from '../words/revision-diff.js';

const flagKey = (p: Proposal) => `${p.ref.flagType}/${p.ref.name}`;

/**
 * A project's proposals (approvals, docs/change-management.md): the pending ones with what
 * each changes against the revision in force, approved or rejected by another token owner.
 */
export function ProposalsPage({ params }: { params: { project: string } }) {
  const project = decodeURIComponent(params.project);
  const { whoami } = useAuth();
  const canWrite = may(whoami, 'write', project);
  const loaded = useLoad(async () => {
    const proposals = await api.proposals(project);
    const pendingFlags = [...new Set(proposals.filter((p) => p.status === 'pending').map(flagKey))];
    const flags = new Map<string, FlagView | undefined>();
    await Promise.all(
      pendingFlags.map(async (key) => {
        const [type, ...rest] = key.split('/');
        const name = rest.join('/');
        flags.set(key, await api.flag(project, type!, name).catch(() => undefined));
      }),
    );
    return { proposals, flags };
  }, [project]);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string | undefined>();
  const [reasons, setReasons] = useState<Record<string, string>>({});

  if (loaded.error !== undefined) return <ErrorNote error={loaded.error} />;
  if (loaded.data === undefined) return <p class="loading">Loading proposals…</p>;
  const { proposals, flags } = loaded.data;
  const pending = proposals.filter((p) => p.status === 'pending');
  const decided = proposals.filter((p) => p.status !== 'pending');

  const decide = async (what: string, action: () => Promise<unknown>) => {
    setError(undefined);
    setDone(undefined);
    try {
      await action();
      setDone(what);
      loaded.reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section>
      <h1>Proposals in {project}</h1>
      <p class="small">
        Where a project requires approval, a change is proposed and takes effect once another token owner approves it.
        The proposer cannot approve their own.
      </p>
      {done !== undefined && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      <ErrorNote error={error} />
      <h2>Pending</h2>
      {pending.length === 0 && <p class="muted">No proposal is waiting.</p>}
      {pending.map((p) => {
        const flag = flags.get(flagKey(p));
        const inForce = flag?.latestRevision;
        const own = p.proposedBy.owner === whoami.owner;
        const flagUrl = `/p/${encodeURIComponent(project)}/flags/${p.ref.flagType}/${encodeURIComponent(p.ref.name)}`;
        return (
          <article class="panel" key={p.id} data-proposal={p.id} aria-labelledby={`proposal-${p.id}`}>
            <h3 id={`proposal-${p.id}`}>
              <Link href={flagUrl}>{p.ref.name}</Link> <span class="badge">{p.change.kind}</span>{' '}
              <span class="mono small">{p.id}</span>
            </h3>
            <p class="words">{describeProposal(p.ref.name, p.change)}</p>
            <p class="small">
              Proposed by <strong>{p.proposedBy.owner}</strong> <TimeAgo time={p.createdTime} />; expires{' '}
              {p.expiresTime}.
              {inForce !== undefined && p.basedOn !== null && inForce.wtime !== p.basedOn && (
                <strong>
                  {' '}
                  The flag has changed since (proposed against {p.basedOn}): approving it fails; reject it.
                </strong>
              )}
            </p>
            {p.change.kind === 'ramp' ? (
              <p class="small">Ramp plan: {describePlan(p.change.plan)}.</p>
            ) : inForce === undefined ? (
              <p class="small">The flag has no revision in force: this would be its first.</p>
            ) : (
              <DiffView
                diff={diffRevisions(inForce.revision, wholeRevision(p.ref.name, p.change.revision))}
                from="in force"
                to="proposed"
              />
            )}
            {canWrite && (
              <div class="actions">
                {!own && (
                  <button
                    type="button"
                    onClick={() => void decide(`Approved ${p.id}.`, () => api.approve(project, p.id))}
                  >
                    Approve {p.id}
                  </button>
                )}
                <label>
                  <span>Reason</span>
                  <input
                    value={reasons[p.id] ?? ''}
                    onInput={(e) => {
                      const value = (e.currentTarget as HTMLInputElement).value;
                      setReasons((r) => ({ ...r, [p.id]: value }));
                    }}
                  />
                </label>
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    void decide(own ? `Withdrew ${p.id}.` : `Rejected ${p.id}.`, () =>
                      api.reject(project, p.id, reasons[p.id]),
                    )
                  }
                >
                  {own ? `Withdraw ${p.id}` : `Reject ${p.id}`}
                </button>
                {own && <span class="small muted">Your own proposal: another owner approves it.</span>}
              </div>
            )}
          </article>
        );
      })}
      <details>
        <summary>Decided ({decided.length})</summary>
        <table class="history">
          <thead>
            <tr>
              <th scope="col">Proposal</th>
              <th scope="col">Flag</th>
              <th scope="col">What</th>
              <th scope="col">Status</th>
              <th scope="col">By</th>
            </tr>
          </thead>
          <tbody>
            {decided.map((p) => (
              <tr key={p.id}>
                <td class="mono">{p.id}</td>
                <td>{p.ref.name}</td>
                <td>{describeProposal(p.ref.name, p.change)}</td>
                <td>
                  {p.status}
                  {p.detail !== undefined && <div class="small muted">{p.detail}</div>}
                </td>
                <td>
                  proposed by {p.proposedBy.owner}
                  {p.decidedBy !== undefined && <>, decided by {p.decidedBy.owner}</>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}
