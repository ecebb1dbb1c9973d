import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import { may, useAuth } from '../auth.js';
import { ErrorNote } from '../components/error-note.js';
import { Field, FormError, type FormErrors } from '../components/field.js';
import { TimeAgo } from '../components/time-ago.js';
import { useLoad } from '../hooks.js';
import { describeConditions } from '../words/describe-condition.js';
import { plural } from '../words/format-value.js';

export function SegmentsPage({ params }: { params: { project: string } }) {
  const project = decodeURIComponent(params.project);
  const { whoami } = useAuth();
  const [, navigate] = useLocation();
  const loaded = useLoad(() => api.segments(project), [project]);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [failure, setFailure] = useState<unknown>();
  const errors: FormErrors = { error, fields: ['flag_name', 'description'] };
  const base = `/p/${encodeURIComponent(project)}/segments`;

  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setFailure(undefined);
    try {
      const body = { name: name.trim(), ...(description.trim() === '' ? {} : { description: description.trim() }) };
      const segment = await api.addSegment(project, body);
      navigate(`${base}/${encodeURIComponent(segment.name)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) setError(e);
      else setFailure(e);
    }
  };

  return (
    <section>
      <h1>Segments of {project}</h1>
      <ErrorNote error={loaded.error} />
      {loaded.data !== undefined && (
        <table class="flags">
          <thead>
            <tr>
              <th scope="col">Segment</th>
              <th scope="col">Who</th>
              <th scope="col">Last change</th>
            </tr>
          </thead>
          <tbody>
            {loaded.data.map((s) => {
              const r = s.latestRevision?.revision;
              return (
                <tr key={s.name}>
                  <th scope="row">
                    <Link href={`${base}/${encodeURIComponent(s.name)}`}>{s.name}</Link>
                    {s.archived && <span class="badge">archived</span>}
                    {s.description !== undefined && <div class="muted small">{s.description}</div>}
                  </th>
                  <td data-label="Who">
                    {r === undefined
                      ? '—'
                      : `${plural(r.Included?.length ?? 0, 'id')} included, ${plural(r.Excluded?.length ?? 0, 'id')} excluded; ${
                          (r.Conditions ?? []).length === 0 ? 'no conditions' : describeConditions(r.Conditions)
                        }`}
                  </td>
                  <td data-label="Last change">
                    <TimeAgo time={s.latestRevision?.wtime} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {may(whoami, 'write', project) && (
        <form class="form panel" onSubmit={create} noValidate>
          <h2>New segment</h2>
          <FormError errors={errors} />
          <ErrorNote error={failure} />
          <Field label="Name" field="flag_name" errors={errors}>
            {(attrs) => (
              <input {...attrs} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
            )}
          </Field>
          <Field label="Description" field="description" errors={errors} wide>
            {(attrs) => (
              <input
                {...attrs}
                value={description}
                onInput={(e) => setDescription((e.currentTarget as HTMLInputElement).value)}
              />
            )}
          </Field>
          <div class="actions">
            <button type="submit">Create segment</button>
          </div>
        </form>
      )}
    </section>
  );
}
