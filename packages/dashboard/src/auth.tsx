import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Scope, Whoami } from './api/types.js';

export interface Auth {
  whoami: Whoami;
  signOut: () => void;
}

export const AuthContext = createContext<Auth | undefined>(undefined);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (auth === undefined) throw new Error('useAuth outside the signed-in app');
  return auth;
}

const RANK: Record<Scope, number> = { read: 0, write: 1, admin: 2 };

/** Whether the token may do what needs `scope` in `project` (the server decides; this only hides what it would refuse). */
export function may(whoami: Whoami, scope: Scope, project?: string): boolean {
  if (RANK[whoami.scope] < RANK[scope]) return false;
  if (project === undefined || whoami.projects === '*') return true;
  return whoami.projects.includes(project);
}
