import { Link, Redirect } from 'wouter-preact';
import { may, useAuth } from '../auth.js';
import { ErrorNote } from '../components/error-note.js';
import { useProjects } from '../projects.js';

/** The first project the token may see; a list when there are several to choose from. */
export function HomePage() {
  const { whoami } = useAuth();
  const projects = useProjects();
  if (projects.error !== undefined) return <ErrorNote error={projects.error} />;
  if (projects.list === undefined) return <p class="loading">Loading projects…</p>;
  if (projects.list.length === 1) return <Redirect to={`/p/${encodeURIComponent(projects.list[0]!.name)}`} replace />;
  return (
    <section>
      <h1>Projects</h1>
      {projects.list.length === 0 ? (
        <p>There are no projects yet. A project starts with its first flag.</p>
      ) : (
        <ul class="projects">
          {projects.list.map((p) => (
            <li key={p.name}>
              <Link href={`/p/${encodeURIComponent(p.name)}`}>{p.name}</Link> — {p.flagCount} flags
              {p.publicEvaluation ? ', evaluation public' : ', evaluation needs a read token'}
            </li>
          ))}
        </ul>
      )}
      {may(whoami, 'write') && whoami.projects === '*' && (
        <p>
          <Link href="/new-flag" class="button">
            New flag in a new project
          </Link>
        </p>
      )}
    </section>
  );
}
