import type { ComponentChildren } from 'preact';
import { Link, useLocation } from 'wouter-preact';
import { api } from '../api/client.js';
import { may, useAuth } from '../auth.js';
import { useLoad } from '../hooks.js';
import { ProjectsContext } from '../projects.js';

/** The project a path is about: `/p/NAME/…`. */
export function projectOf(location: string): string | undefined {
  const match = /^\/p\/([^/]+)/.exec(location);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

export function Layout({ children }: { children: ComponentChildren }) {
  const { whoami, signOut } = useAuth();
  const [location, navigate] = useLocation();
  const projects = useLoad(() => api.projects(), []);
  const project = projectOf(location);
  const names = projects.data?.map((p) => p.name) ?? [];
  if (project !== undefined && !names.includes(project)) names.push(project);

  return (
    <ProjectsContext.Provider value={{ list: projects.data, error: projects.error, reload: projects.reload }}>
      <button type="button" class="skip" onClick={skipToMain}>
        Skip to content
      </button>
      <header class="top">
        <Link href="/" class="brand">
          Vexil
        </Link>
        <label class="switcher">
          <span>Project</span>
          <select
            value={project ?? ''}
            onChange={(e) => {
              const next = (e.currentTarget as HTMLSelectElement).value;
              if (next !== '') navigate(`/p/${encodeURIComponent(next)}`);
            }}
          >
            <option value="">choose…</option>
            {names.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <nav aria-label="Main">
          {project !== undefined && (
            <>
              <Link href={`/p/${encodeURIComponent(project)}`}>Flags</Link>
              <Link href={`/p/${encodeURIComponent(project)}/segments`}>Segments</Link>
              <Link href={`/p/${encodeURIComponent(project)}/proposals`}>Proposals</Link>
            </>
          )}
          {may(whoami, 'admin') && <Link href="/audit">Audit</Link>}
          {may(whoami, 'admin') && <Link href="/webhooks">Webhooks</Link>}
        </nav>
        <div class="who">
          <span title={`token ${whoami.tokenId}`}>
            {whoami.owner} · <strong>{whoami.scope}</strong>
            {whoami.projects === '*' ? ' · all projects' : ` · ${whoami.projects.join(', ')}`}
          </span>
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </ProjectsContext.Provider>
  );
}

/** The hash holds the route, so skipping to the content moves focus rather than changing the hash. */
function skipToMain(): void {
  document.getElementById('main')?.focus();
}
