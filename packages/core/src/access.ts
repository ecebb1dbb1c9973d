/**
 * API token scopes, declared once for the store, the service and the CLI. They nest:
 * `admin` covers every project and everything `write` may do; `write` covers reading
 * the projects it names.
 */
export const ACCESS_SCOPES = ['read', 'write', 'admin'] as const;

export type AccessScope = (typeof ACCESS_SCOPES)[number];

export function isAccessScope(value: unknown): value is AccessScope {
  return typeof value === 'string' && (ACCESS_SCOPES as readonly string[]).includes(value);
}

/** Whether a token of scope `held` may do what needs `needed` (on a project it names, unless admin). */
export function scopeCovers(held: AccessScope, needed: AccessScope): boolean {
  return ACCESS_SCOPES.indexOf(held) >= ACCESS_SCOPES.indexOf(needed);
}
