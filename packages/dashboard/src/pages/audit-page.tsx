import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { api } from '../api/client.js';
import { ErrorNote } from '../components/error-note.js';
import { TimeAgo } from '../components/time-ago.js';
import { useLoad } from '../hooks.js';
import { useProjects } from '../projects.js';

/** Who changed what, when, from where (the admin audit route, newest first). */
export function AuditPage() {
  const projects = useProjects();
  const [project, setProject] = useState('');
  const loaded = useLoad(() => api.audit(project === '' ? undefined : project), [project]);
  return (
    <section>
      <h1>Audit</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>Project</span>
          <select value={project} onChange={(e) => setProject((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">all</option>
            {(projects.list ?? []).map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorNote error={loaded.error} />
      {loaded.data !== undefined && (
        <table class="flags audit">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Which</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {loaded.data.map((entry, i) => (
              <tr key={i}>
                <th scope="row">
                  <TimeAgo time={entry.time} />
                </th>
                <td data-label="Who">
                  {entry.actor ?? '—'}
                  {entry.onBehalfOf !== undefined && <span class="muted small"> for {entry.onBehalfOf}</span>}
                  {entry.address !== undefined && <div class="muted small">{entry.address}</div>}
                </td>
                <td data-label="What">{entry.action}</td>
                <td data-label="Which">
                  {entry.project !== undefined && entry.flagType !== undefined && entry.name !== undefined ? (
                    <Link
                      href={
                        entry.flagType === 'segment'
                          ? `/p/${encodeURIComponent(entry.project)}/segments/${encodeURIComponent(entry.name)}`
                          : `/p/${encodeURIComponent(entry.project)}/flags/${entry.flagType}/${encodeURIComponent(entry.name)}`
                      }
                    >
                      {entry.project}/{entry.flagType}/{entry.name}
                    </Link>
                  ) : (
                    (entry.project ?? entry.subject ?? '—')
                  )}
                </td>
                <td data-label="Detail" class="small">
                  {entry.detail ?? entry.subject ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
