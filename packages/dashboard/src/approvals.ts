/**
 * Whether a project requires approvals, as this tab has learnt it: the admin API tells a
 * write token only by refusing a direct change (403, "requires approvals"), so the
 * dashboard remembers that answer and its editors propose from then on.
 */
const KEY = 'vexil.approvals-required';

function known(): string[] {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}

export function approvalsRequired(project: string): boolean {
  return known().includes(project);
}

export function rememberApprovalsRequired(project: string, required: boolean): void {
  const others = known().filter((p) => p !== project);
  sessionStorage.setItem(KEY, JSON.stringify(required ? [...others, project] : others));
}

/** Whether an API refusal says the project requires approvals (changes/approvals.ts refuseDirectChange). */
export function isApprovalsRequired(error: { status: number; message: string }): boolean {
  return error.status === 403 && /requires approvals/.test(error.message);
}
