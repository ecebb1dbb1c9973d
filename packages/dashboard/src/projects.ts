import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ProjectSummary } from './api/types.js';

/** The projects the token may see, loaded once by the layout; `reload` after creating a project's first flag. */
export interface Projects {
  list: ProjectSummary[] | undefined;
  error: unknown;
  reload: () => void;
}

export const ProjectsContext = createContext<Projects>({ list: undefined, error: undefined, reload: () => {} });

export function useProjects(): Projects {
  return useContext(ProjectsContext);
}
