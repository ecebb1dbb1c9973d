import type { ValueFlagType } from '@vexil/core';
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { api } from '../api/client.js';
import type { Ramp, RevisionCause, RevisionView, Schedule } from '../api/types.js';
import { approvalsRequired, rememberApprovalsRequired } from '../approvals.js';
import { may, useAuth } from '../auth.js';
import { Dialog } from '../components/dialog.js';
import { DiffView } from '../components/diff-view.js';
import { ErrorNote } from '../components/error-note.js';
import { EvaluateBox } from '../components/evaluate-box.js';
import { Monitoring } from '../components/monitoring.js';
import { RampPanel } from '../components/ramp-panel.js';
import { SchedulesPanel } from '../components/schedules-panel.js';
import { TimeAgo } from '../components/time-ago.js';
import { useLoad } from '../hooks.js';
import { describeRevision } from '../words/describe-revision.js';
import { diffRevisions } from '../words/revision-diff.js';

type Params = { project: string; type: string; name: string };
type Pending = { kind: 'rollback'; to: RevisionView } | { kind: 'archive' } | undefined;

export function FlagPage({ params }: { params: Params }) {
  const project = decodeURIComponent(params.project);
  const name = decodeURIComponent(params.name);
  const flagType = params.type as ValueFlagType;
  const { whoami } = useAuth();
  const canWrite = may(whoami, 'write', project);
  const loaded = useLoad(async () => {
    const [flag, history, schedules, ramps] = await Promise.all([
      api.flag(project, flagType, name),
      api.history(project, flagType, name).catch(() => [] as RevisionView[]),
      api.flagSchedules(project, flagType, name).catch(() => [] as Schedule[]),
      flagType === 'feature' ? api.ramps(project).catch(() => [] as Ramp[]) : Promise.resolve([] as Ramp[]),
    ]);
    // The newest ramp of this flag (the API keeps one running or paused per flag).
    const ramp = ramps
      .filter((r) => r.ref.name === name && r.ref.flagType === flagType)
      .sort((x, y) => y.createdTime.localeCompare(x.createdTime))[0];
    return { flag, history, schedules, ramp };
  }, [project, flagType, name]);
  const [pending, setPending] = useState<Pending>();
  const [actionError, setActionError] = useState<unknown>();
  const [done, setDone] = useState<string | undefined>();
  const [compare, setCompare] = useState<{ a?: string; b?: string }>({});

  if (loaded.error !== undefined) return <ErrorNote error={loaded.error} />;
  if (loaded.data === undefined) return <p class="loading">Loading {name}…</p>;
  const { flag, history, schedules, ramp } = loaded.data;
  const latest = history[0] ?? flag.latestRevision;
  const revision = latest?.revision;
  const base = `/p/${encodeURIComponent(project)}/flags/${flagType}/${encodeURIComponent(name)}`;

  const act = async (what: string, action: () => Promise<unknown>) => {
    setActionError(undefined);
    setDone(undefined);
    try {
      await action();
      setDone(what);
      setPending(undefined);
      loaded.reload();
    } catch (e) {
      setActionError(e);
    }
  };

  const byTime = new Map(history.map((h) => [h.wtime, h]));
  const a = compare.a === undefined ? undefined : byTime.get(compare.a);
  const b = compare.b === undefined ? undefined : byTime.get(compare.b);
  const [older, newer] = a !== undefined && b !== undefined && a.wtime > b.wtime ? [b, a] : [a, b];

  return (
    <section>
      <p class="crumbs">
        <Link href={`/p/${encodeURIComponent(project)}`}>← flags of {project}</Link>
      </p>
      <div class="title-row">
        <h1>
          {name} <span class="badge">{flagType}</span>
          {flag.archived && <span class="badge">archived</span>}
          {revision?.Disabled === true && <span class="badge warn">disabled</span>}
        </h1>
        {canWrite && (
          <div class="actions">
            <Link href={`${base}/edit`} class="button">
              New revision
            </Link>
            {revision !== undefined && !flag.archived && (
              <button
                type="button"
                class={revision.Disabled === true ? 'secondary' : 'danger'}
                onClick={() =>
                  void act(revision.Disabled === true ? 'Enabled.' : 'Disabled.', () =>
                    api.setDisabled(project, flagType, name, revision.Disabled !== true, latest!.wtime),
                  )
                }
              >
                {revision.Disabled === true ? 'Enable' : 'Disable (kill switch)'}
              </button>
            )}
            {revision !== undefined && !flag.archived && (
              <button type="button" class="secondary" onClick={() => setPending({ kind: 'archive' })}>
                Archive
              </button>
            )}
          </div>
        )}
      </div>
      {done !== undefined && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      <ErrorNote error={actionError} />
      {typeof flag.metadata.Description === 'string' && <p>{flag.metadata.Description}</p>}

      <section class="panel" aria-labelledby="latest-title">
        <h2 id="latest-title">In force</h2>
        {revision === undefined ? (
          <p>
            No revision yet: the flag has no value.{' '}
            {canWrite && <Link href={`${base}/edit`}>Write its first revision</Link>}
          </p>
        ) : (
          <>
            <p class="words" data-testid="rules-in-words">
              {describeRevision(revision)}
            </p>
            <dl class="facts">
              <dt>Since</dt>
              <dd>
                <TimeAgo time={latest?.wtime} /> by {revision.OwnerID ?? 'unknown'}
                {revision.Comment !== undefined && <> — “{revision.Comment}”</>}
              </dd>
              {Object.entries(revision.Metadata ?? {}).map(([key, value]) => (
                <Fragment key={key}>
                  <dt>{key}</dt>
                  <dd>{String(value)}</dd>
                </Fragment>
              ))}
            </dl>
            <details>
              <summary>The revision as stored (JSON)</summary>
              <pre class="json">{JSON.stringify(revision, null, 2)}</pre>
            </details>
          </>
        )}
      </section>

      {revision !== undefined && <EvaluateBox project={project} flagType={flagType} name={name} revision={revision} />}
      <Monitoring project={project} flagType={flagType} name={name} />

      <SchedulesPanel project={project} schedules={schedules} canWrite={canWrite} onChanged={loaded.reload} />
      {flagType === 'feature' && (ramp !== undefined || (canWrite && revision !== undefined && !flag.archived)) && (
        <RampPanel
          project={project}
          name={name}
          ramp={ramp}
          schedules={schedules}
          canWrite={canWrite}
          proposeOnly={approvalsRequired(project)}
          onChanged={(what) => {
            setDone(what);
            loaded.reload();
          }}
          onApprovalsRequired={() => {
            rememberApprovalsRequired(project, true);
            loaded.reload();
          }}
        />
      )}

      <section class="panel" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <p class="small">Choose two revisions (A and B) to see what changed between them.</p>
        <table class="history">
          <thead>
            <tr>
              <th scope="col">A</th>
              <th scope="col">B</th>
              <th scope="col">Revision</th>
              <th scope="col">Rules</th>
              <th scope="col">By</th>
              {canWrite && <th scope="col">Action</th>}
            </tr>
          </thead>
          <tbody>
            {history.map((h, i) => (
              <tr key={h.wtime} data-wtime={h.wtime}>
                <td>
                  <input
                    type="radio"
                    name="compare-a"
                    aria-label={`compare ${h.wtime} as A`}
                    checked={compare.a === h.wtime}
                    onChange={() => setCompare((c) => ({ ...c, a: h.wtime }))}
                  />
                </td>
                <td>
                  <input
                    type="radio"
                    name="compare-b"
                    aria-label={`compare ${h.wtime} as B`}
                    checked={compare.b === h.wtime}
                    onChange={() => setCompare((c) => ({ ...c, b: h.wtime }))}
                  />
                </td>
                <td class="mono">
                  {h.wtime}
                  {i === 0 && <span class="badge">in force</span>}
                  {h.revision.RollbackOf !== undefined && (
                    <div class="small muted">rollback to {h.revision.RollbackOf}</div>
                  )}
                  <CauseNote revision={h.revision as RevisionCause} />
                </td>
                <td>{describeRevision(h.revision)}</td>
                <td>
                  {h.revision.OwnerID ?? '—'}
                  {h.revision.Comment !== undefined && <div class="small muted">“{h.revision.Comment}”</div>}
                </td>
                {canWrite && (
                  <td>
                    {i > 0 && (
                      <button type="button" class="secondary" onClick={() => setPending({ kind: 'rollback', to: h })}>
                        Roll back to {h.wtime}
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {older !== undefined && newer !== undefined && (
          <section aria-label="Difference between A and B">
            <h3>
              {older.wtime} → {newer.wtime}
            </h3>
            <DiffView diff={diffRevisions(older.revision, newer.revision)} from={older.wtime} to={newer.wtime} />
          </section>
        )}
      </section>

      {pending?.kind === 'rollback' && latest !== undefined && (
        <Dialog title={`Roll back ${name} to ${pending.to.wtime}?`} onClose={() => setPending(undefined)}>
          <p>A new revision, a copy of {pending.to.wtime}, is published. This is what changes:</p>
          <DiffView
            diff={diffRevisions(latest.revision, pending.to.revision)}
            from="in force"
            to="after the rollback"
          />
          <ErrorNote error={actionError} />
          <div class="actions">
            <button
              type="button"
              class="danger"
              onClick={() =>
                void act(`Rolled back to ${pending.to.wtime}.`, () =>
                  api.rollback(project, flagType, name, pending.to.wtime, latest.wtime),
                )
              }
            >
              Roll back
            </button>
            <button type="button" class="secondary" onClick={() => setPending(undefined)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
      {pending?.kind === 'archive' && (
        <Dialog title={`Archive ${name}?`} onClose={() => setPending(undefined)}>
          <p>
            Evaluations will answer "no flag data" (callers get their default). History stays, and a rollback restores
            the flag.
          </p>
          <ErrorNote error={actionError} />
          <div class="actions">
            <button
              type="button"
              class="danger"
              onClick={() => void act('Archived.', () => api.archive(project, flagType, name, latest!.wtime))}
            >
              Archive
            </button>
            <button type="button" class="secondary" onClick={() => setPending(undefined)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}

/** What made a revision, when it was not written by hand: a schedule, a ramp's step, an approved proposal. */
function CauseNote({ revision }: { revision: RevisionCause }) {
  const parts: string[] = [];
  if (revision.ScheduleID !== undefined) parts.push(`scheduled ${revision.ScheduleID}`);
  if (revision.RampID !== undefined) parts.push(`ramp ${revision.RampID}`);
  if (revision.ProposalID !== undefined) parts.push(`proposal ${revision.ProposalID}`);
  if (revision.ApprovedBy !== undefined) parts.push(`approved by ${revision.ApprovedBy}`);
  if (parts.length === 0) return null;
  return <div class="small muted cause">{parts.join(' · ')}</div>;
}
