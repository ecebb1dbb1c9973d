import { useState } from 'preact/hooks';
import { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import { may, useAuth } from '../auth.js';
import { ErrorNote } from '../components/error-note.js';
import { Field, FormError, type FormErrors } from '../components/field.js';
import { TimeAgo } from '../components/time-ago.js';
import { useLoad } from '../hooks.js';

const FIELDS = ['url', 'project', 'events', 'secret', 'description'];

/** Webhooks (docs/webhooks.md), an admin's: the list, adding one (its secret shown once), and the delivery log. */
export function WebhooksPage() {
  const { whoami } = useAuth();
  const loaded = useLoad(async () => {
    const [webhooks, deliveries] = await Promise.all([api.webhooks(), api.deliveries(50)]);
    return { webhooks, deliveries };
  }, []);
  const [form, setForm] = useState({ url: '', project: '', events: '', secret: '', description: '' });
  const [formError, setFormError] = useState<ApiError | undefined>();
  const [error, setError] = useState<unknown>();
  const [secret, setSecret] = useState<{ id: string; secret: string } | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const errors: FormErrors = { error: formError, fields: FIELDS };

  if (!may(whoami, 'admin')) return <p>Webhooks are an admin token's to see and change.</p>;
  if (loaded.error !== undefined) return <ErrorNote error={loaded.error} />;
  if (loaded.data === undefined) return <p class="loading">Loading webhooks…</p>;
  const { webhooks, deliveries } = loaded.data;

  const act = async (what: string, action: () => Promise<unknown>) => {
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

  const add = async () => {
    setFormError(undefined);
    setError(undefined);
    setSecret(undefined);
    const body: Record<string, unknown> = { url: form.url.trim() };
    if (form.project.trim() !== '') body.project = form.project.trim();
    const events = form.events.split(/[\s,]+/).filter((e) => e !== '');
    if (events.length > 0) body.events = events;
    if (form.secret !== '') body.secret = form.secret;
    if (form.description.trim() !== '') body.description = form.description.trim();
    try {
      const added = await api.addWebhook(body);
      setSecret({ id: added.webhook.id, secret: added.secret });
      setForm({ url: '', project: '', events: '', secret: '', description: '' });
      loaded.reload();
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) setFormError(e);
      else setError(e);
    }
  };

  const input = (key: keyof typeof form, label: string, type = 'text') => (
    <Field label={label} field={key} errors={errors} wide={key === 'url' || key === 'events'}>
      {(attrs) => (
        <input
          {...attrs}
          type={type}
          value={form[key]}
          onInput={(e) => {
            const value = (e.currentTarget as HTMLInputElement).value;
            setForm((f) => ({ ...f, [key]: value }));
          }}
        />
      )}
    </Field>
  );

  return (
    <section>
      <h1>Webhooks</h1>
      <p class="small">
        Each change (revision, rollback, archive, kill switch, schedule or ramp step, approval) is POSTed, signed with
        the webhook's secret, to every webhook that wants it; docs/webhooks.md says how to check the signature.
      </p>
      {done !== undefined && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      <ErrorNote error={error} />
      <table class="history" data-testid="webhooks">
        <thead>
          <tr>
            <th scope="col">Webhook</th>
            <th scope="col">URL</th>
            <th scope="col">Sends</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {webhooks.map((w) => (
            <tr key={w.id} data-webhook={w.id}>
              <td class="mono">
                {w.id}
                {w.description !== undefined && <div class="small muted">{w.description}</div>}
              </td>
              <td class="mono">{w.url}</td>
              <td>
                {w.events === undefined ? 'every event' : w.events.join(', ')} of{' '}
                {w.project === undefined ? 'every project' : w.project}
              </td>
              <td>
                <button
                  type="button"
                  class="secondary"
                  onClick={() => void act(`Ping sent to ${w.id}.`, () => api.pingWebhook(w.id))}
                >
                  Ping {w.id}
                </button>
                {w.source === 'store' ? (
                  <button
                    type="button"
                    class="danger"
                    onClick={() => void act(`Removed ${w.id}.`, () => api.removeWebhook(w.id))}
                  >
                    Remove {w.id}
                  </button>
                ) : (
                  <span class="small muted"> from VEXIL_WEBHOOKS</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {webhooks.length === 0 && <p class="muted">No webhook yet.</p>}

      <section class="panel" aria-labelledby="add-webhook-title">
        <h2 id="add-webhook-title">Add a webhook</h2>
        <form
          class="form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void add();
          }}
        >
          <FormError errors={errors} />
          {input('url', 'URL (http or https)', 'url')}
          <div class="row">
            {input('project', 'Only this project (empty: every project)')}
            {input('secret', 'Secret (empty: a random one, shown once)', 'password')}
          </div>
          {input('events', 'Only these events, comma-separated (empty: every event)')}
          {input('description', 'Description')}
          <button type="submit">Add webhook</button>
        </form>
        {secret !== undefined && (
          <p class="notice" role="status" data-testid="webhook-secret">
            Added {secret.id}. Its secret, shown this once: <code>{secret.secret}</code>
          </p>
        )}
      </section>

      <section class="panel" aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Delivery log</h2>
        <button type="button" class="secondary" onClick={loaded.reload}>
          Refresh
        </button>
        <table class="history" data-testid="deliveries">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Event</th>
              <th scope="col">Webhook</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr key={`${d.id}-${d.webhookId}`} data-delivery={d.id}>
                <td>
                  <TimeAgo time={d.createdTime} />
                </td>
                <td>
                  {d.event}
                  {d.flag !== undefined && (
                    <div class="small muted">
                      {d.project}/{d.flag}
                    </div>
                  )}
                </td>
                <td class="mono">{d.webhookId}</td>
                <td>
                  {d.status}
                  {d.nextAttemptTime !== undefined && d.status === 'pending' && (
                    <div class="small muted">next try {d.nextAttemptTime}</div>
                  )}
                </td>
                <td>
                  {d.attempts
                    .map((a) => (a.status === undefined ? (a.error ?? 'no answer') : `HTTP ${a.status}`))
                    .join(', ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {deliveries.length === 0 && <p class="muted">Nothing sent yet.</p>}
      </section>
    </section>
  );
}
