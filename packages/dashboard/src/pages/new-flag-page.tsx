import { VALUE_FLAG_TYPES } from '@vexil/core';
import { useState } from 'preact/hooks';
import { useLocation } from 'wouter-preact';
import { ApiError, messageOf } from '../api/api-error.js';
import { api } from '../api/client.js';
import { useAuth } from '../auth.js';
import { Field, FormError, type FormErrors } from '../components/field.js';
import { useProjects } from '../projects.js';

/** Adds a flag (no revision yet), then opens the form for its first revision. Fields are named as the API's errors name them. */
export function NewFlagPage({ params }: { params: { project?: string } }) {
  const { whoami } = useAuth();
  const projects = useProjects();
  const [, navigate] = useLocation();
  const [project, setProject] = useState(params.project === undefined ? '' : decodeURIComponent(params.project));
  const [name, setName] = useState('');
  const [type, setType] = useState<string>('feature');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [other, setOther] = useState<string | undefined>();
  const errors: FormErrors = { error, fields: ['project_name', 'flag_name', 'flag_type', 'description'] };

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setOther(undefined);
    try {
      const body = {
        name: name.trim(),
        type,
        ...(description.trim() === '' ? {} : { description: description.trim() }),
      };
      const flag = await api.addFlag(project.trim(), body);
      projects.reload();
      navigate(`/p/${encodeURIComponent(flag.project)}/flags/${flag.flagType}/${encodeURIComponent(flag.name)}/edit`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) setError(e);
      else setOther(messageOf(e));
    }
  };

  return (
    <section>
      <h1>New flag</h1>
      <form class="form" onSubmit={submit} noValidate>
        <FormError errors={errors} />
        {other !== undefined && (
          <p class="error" role="alert">
            {other}
          </p>
        )}
        <Field label="Project" field="project_name" errors={errors}>
          {(attrs) => (
            <input
              {...attrs}
              value={project}
              readOnly={params.project !== undefined || whoami.projects !== '*'}
              onInput={(e) => setProject((e.currentTarget as HTMLInputElement).value)}
            />
          )}
        </Field>
        <Field label="Name" field="flag_name" errors={errors}>
          {(attrs) => (
            <input
              {...attrs}
              value={name}
              placeholder="new_checkout"
              onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
            />
          )}
        </Field>
        <Field label="Type" field="flag_type" errors={errors}>
          {(attrs) => (
            <select {...attrs} value={type} onChange={(e) => setType((e.currentTarget as HTMLSelectElement).value)}>
              {VALUE_FLAG_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
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
          <button type="submit">Create flag</button>
        </div>
      </form>
    </section>
  );
}
