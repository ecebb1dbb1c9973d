import type { TokenRecord } from '@vexil/store';
import type { ProjectAccess } from './access/project-access.js';

/** What a token may do, as the dashboard shows it (GET /admin/v1/whoami). */
export interface CallerView {
  tokenId: string;
  owner: string;
  scope: TokenRecord['scope'];
  /** The projects it covers; `*` for an admin token, which covers every one. */
  projects: string[] | '*';
}

export function callerView(token: TokenRecord): CallerView {
  return {
    tokenId: token.id,
    owner: token.owner,
    scope: token.scope,
    projects: token.scope === 'admin' ? '*' : [...token.projects],
  };
}

/** One project a token may see, for the dashboard's project switcher. */
export interface ProjectSummary {
  name: string;
  /** Flags of the project (segments not counted), archived ones included. */
  flagCount: number;
  /** Whether its flags are evaluated without a token. */
  publicEvaluation: boolean;
}

interface ProjectStore {
  listProjects(): Promise<string[]>;
  listFlags(project: string): Promise<{ ref: { flagType: string } }[]>;
}

/**
 * The projects a token may see: every project with a flag for an admin token; a read
 * or write token's own projects, those without flags yet too (flagCount 0), so a
 * write token's owner can start one. A project without flags or settings is shown as
 * not public: the first flag written through Vexil turns public evaluation off.
 */
export async function visibleProjects(
  token: TokenRecord,
  store: ProjectStore,
  access: ProjectAccess,
): Promise<ProjectSummary[]> {
  const names = token.scope === 'admin' ? await store.listProjects() : [...new Set(token.projects)].sort();
  return Promise.all(
    names.map(async (name) => {
      const rows = await store.listFlags(name);
      const flagCount = rows.filter((row) => row.ref.flagType !== 'segment').length;
      const settings = await access.settings(name);
      const publicEvaluation = settings.stored ? settings.publicEvaluation : rows.length > 0;
      return { name, flagCount, publicEvaluation };
    }),
  );
}
