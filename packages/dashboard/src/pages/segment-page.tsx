import { useMemo, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { SegmentRevisionView } from '../api/types.js';
import { may, useAuth } from '../auth.js';
import { ConditionsEditor } from '../components/conditions-editor.js';
import { ErrorNote } from '../components/error-note.js';
import { Field, FormError, type FormErrors } from '../components/field.js';
import { segmentFields } from '../form/field-errors.js';
import { type SegmentDraft, segmentDraftOf, toSegmentBody } from '../form/revision-draft.js';
import { useLoad } from '../hooks.js';
import { describeConditions } from '../words/describe-condition.js';

export function SegmentPage({ params }: { params: { project: string; name: string } }) {
  const project = decodeURIComponent(params.project);
  const name = decodeURIComponent(params.name);
  const loaded = useLoad(
    () => api.segmentHistory(project, name).catch(() => [] as SegmentRevisionView[]),
    [project, name],
  );
  if (loaded.error !== undefined) return <ErrorNote error={loaded.error} />;
  if (loaded.data === undefined) return <p class="loading">Loading {name}…</p>;
  return <SegmentEditor project={project} name={name} history={loaded.data} reload={loaded.reload} />;
}

function SegmentEditor(props: { project: string; name: string; history: SegmentRevisionView[]; reload: () => void }) {
  const { project, name, history } = props;
  const { whoami } = useAuth();
  const latest = history[0]?.revision;
  const [draft, setDraft] = useState<SegmentDraft>(segmentDraftOf(latest));
  const [error, setError] = useState<ApiError | undefined>();
  const [failure, setFailure] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const fields = useMemo(() => segmentFields(draft), [draft]);
  const errors: FormErrors = { error, fields };
  const canWrite = may(whoami, 'write', project);

  const save = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setFailure(undefined);
    setSaved(false);
    try {
      await api.addSegmentRevision(project, name, toSegmentBody(draft));
      setSaved(true);
      props.reload();
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) setError(e);
      else setFailure(e);
    }
  };

  return (
    <section>
      <p class="crumbs">
        <Link href={`/p/${encodeURIComponent(project)}/segments`}>← segments of {project}</Link>
      </p>
      <h1>Segment {name}</h1>
      {canWrite ? (
        <form class="form" onSubmit={save} noValidate>
          <FormError errors={errors} />
          <ErrorNote error={failure} />
          {saved && (
            <p class="notice" role="status">
              Saved: a new revision of {name} is in force.
            </p>
          )}
          <Field label="Always included ids" field="Included" errors={errors} wide>
            {(attrs) => (
              <textarea
                {...attrs}
                rows={2}
                value={draft.included}
                onInput={(e) => setDraft({ ...draft, included: (e.currentTarget as HTMLTextAreaElement).value })}
              />
            )}
          </Field>
          <Field label="Never included ids" field="Excluded" errors={errors} wide>
            {(attrs) => (
              <textarea
                {...attrs}
                rows={2}
                value={draft.excluded}
                onInput={(e) => setDraft({ ...draft, excluded: (e.currentTarget as HTMLTextAreaElement).value })}
              />
            )}
          </Field>
          <ConditionsEditor
            at="Conditions"
            label="Everyone else is a member when all hold"
            conditions={draft.conditions}
            errors={errors}
            allowSegments={false}
            onChange={(conditions) => setDraft({ ...draft, conditions })}
          />
          <Field label="Comment (why)" field="Comment" errors={errors} wide>
            {(attrs) => (
              <input
                {...attrs}
                value={draft.comment}
                onInput={(e) => setDraft({ ...draft, comment: (e.currentTarget as HTMLInputElement).value })}
              />
            )}
          </Field>
          <div class="actions">
            <button type="submit">Save segment</button>
          </div>
        </form>
      ) : (
        latest !== undefined && (
          <p>
            {(latest.Included ?? []).length} included, {(latest.Excluded ?? []).length} excluded;{' '}
            {describeConditions(latest.Conditions)}
          </p>
        )
      )}
      <section class="panel" aria-labelledby="segment-history">
        <h2 id="segment-history">History</h2>
        <ul class="plain">
          {history.map((h) => (
            <li key={h.wtime}>
              <span class="mono">{h.wtime}</span> by {h.revision.OwnerID ?? '—'}:{' '}
              {h.revision.Archived === true
                ? 'archived'
                : `${(h.revision.Included ?? []).length} included, ${(h.revision.Excluded ?? []).length} excluded, ${describeConditions(h.revision.Conditions)}`}
            </li>
          ))}
        </ul>
      </section>
    </section>
  );
}
