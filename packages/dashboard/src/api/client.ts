import { ApiError } from './api-error.js';
import { storedToken } from './session.js';
import type {
  Activity,
  AuditEntry,
  ContextEvaluation,
  FlagSummary,
  FlagView,
  Impact,
  ProjectSummary,
  Proposal,
  ProposalStatus,
  Ramp,
  RampPlan,
  RevisionView,
  Schedule,
  ScheduleStatus,
  SegmentRevisionView,
  SegmentView,
  StaleFlag,
  ValueFlagType,
  Webhook,
  WebhookDelivery,
  Whoami,
} from './types.js';

/** Called when the service answers 401: the token is unknown or revoked, so the dashboard signs out. */
let onUnauthorized: (message: string) => void = () => {};
export function whenUnauthorized(handler: (message: string) => void): void {
  onUnauthorized = handler;
}

/** GET answers asked for before the page needed them (prefetch), each taken once by the first request for it. */
const early = new Map<string, Promise<unknown>>();

/**
 * Starts the GETs a page will make while the app is still checking the token, so a
 * deep link (the flags page of a big project) does not wait for one answer after the other.
 */
export function prefetch(path: string): void {
  if (!early.has(path)) {
    const answer = send('GET', path);
    answer.catch(() => {});
    early.set(path, answer);
  }
}

function request<T>(method: string, path: string, body?: unknown, token = storedToken()): Promise<T> {
  const ready = method === 'GET' && token === storedToken() ? early.get(path) : undefined;
  if (ready !== undefined) {
    early.delete(path);
    return ready as Promise<T>;
  }
  return send<T>(method, path, body, token);
}

async function send<T>(method: string, path: string, body?: unknown, token = storedToken()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'omit',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed: unknown = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) {
    const error = new ApiError(response.status, parsed);
    if (response.status === 401) onUnauthorized(error.message);
    throw error;
  }
  return parsed as T;
}

const enc = encodeURIComponent;
export const admin = '/admin/v1';
export const projectPath = (project: string) => `${admin}/projects/${enc(project)}`;
const flagPath = (project: string, type: string, name: string) =>
  `${projectPath(project)}/flags/${enc(type)}/${enc(name)}`;
const segmentPath = (project: string, name: string) => `${projectPath(project)}/segments/${enc(name)}`;

export const api = {
  whoami: (token?: string) => request<Whoami>('GET', `${admin}/whoami`, undefined, token),
  projects: async () => (await request<{ projects: ProjectSummary[] }>('GET', `${admin}/projects`)).projects,
  flagSummaries: async (project: string) =>
    (await request<{ flags: FlagSummary[] }>('GET', `${projectPath(project)}/flag-summaries`)).flags,
  flag: (project: string, type: string, name: string) => request<FlagView>('GET', flagPath(project, type, name)),
  addFlag: (project: string, body: { name: string; type: string; description?: string }) =>
    request<FlagView>('POST', `${projectPath(project)}/flags`, body),
  history: (project: string, type: string, name: string) =>
    request<RevisionView[]>('GET', `${flagPath(project, type, name)}/revisions`),
  addRevision: (project: string, type: string, name: string, body: unknown) =>
    request<RevisionView>('POST', `${flagPath(project, type, name)}/revisions`, body),
  /*
   * Changes made from what the page shows name the revision it showed (expectedLatest): if
   * another was written since, the service answers 409 and writes nothing.
   */
  rollback: (project: string, type: string, name: string, to: string, expectedLatest: string) =>
    request<RevisionView>('POST', `${flagPath(project, type, name)}/rollback`, { to, expectedLatest }),
  archive: (project: string, type: string, name: string, expectedLatest: string) =>
    request<RevisionView>('POST', `${flagPath(project, type, name)}/archive`, { expectedLatest }),
  setDisabled: (project: string, type: string, name: string, disabled: boolean, expectedLatest: string) =>
    request<RevisionView>('POST', `${flagPath(project, type, name)}/${disabled ? 'disable' : 'enable'}`, {
      expectedLatest,
    }),
  evaluate: (project: string, type: string, name: string, context: unknown) =>
    request<ContextEvaluation>('POST', `${flagPath(project, type, name)}/evaluate`, { context }),
  impact: (project: string, type: string, name: string, revision: unknown, days: number) =>
    request<Impact>('POST', `${flagPath(project, type, name)}/impact`, { revision, days }),
  activity: (project: string, type: ValueFlagType, name: string, minutes: number) =>
    request<Activity>('GET', `${flagPath(project, type, name)}/activity?minutes=${minutes}`),
  stale: (project: string, days: number) =>
    request<{ flags: StaleFlag[] } | StaleFlag[]>('GET', `${projectPath(project)}/stale?days=${days}`),
  segments: (project: string) =>
    request<SegmentView[]>('GET', `${projectPath(project)}/segments?include_archived=true`),
  segment: (project: string, name: string) => request<SegmentView>('GET', segmentPath(project, name)),
  segmentHistory: (project: string, name: string) =>
    request<SegmentRevisionView[]>('GET', `${segmentPath(project, name)}/revisions`),
  addSegment: (project: string, body: Record<string, unknown>) =>
    request<SegmentView>('POST', `${projectPath(project)}/segments`, body),
  addSegmentRevision: (project: string, name: string, body: unknown) =>
    request<SegmentRevisionView>('POST', `${segmentPath(project, name)}/revisions`, body),
  /* Scheduled revisions, ramps and approvals (docs/change-management.md). */
  schedule: (project: string, type: string, name: string, at: string, revision: unknown) =>
    request<Schedule>('POST', `${flagPath(project, type, name)}/schedules`, { at, revision }),
  flagSchedules: (project: string, type: string, name: string, status?: ScheduleStatus) =>
    request<Schedule[]>(
      'GET',
      `${flagPath(project, type, name)}/schedules${status === undefined ? '' : `?status=${status}`}`,
    ),
  cancelSchedule: (project: string, id: string) =>
    request<Schedule>('POST', `${projectPath(project)}/schedules/${enc(id)}/cancel`),
  ramps: (project: string) => request<Ramp[]>('GET', `${projectPath(project)}/ramps`),
  startRamp: (project: string, name: string, plan: RampPlan) =>
    request<Ramp>('POST', `${flagPath(project, 'feature', name)}/ramps`, plan),
  rampAction: (project: string, id: string, action: 'pause' | 'resume' | 'abort') =>
    request<Ramp>('POST', `${projectPath(project)}/ramps/${enc(id)}/${action}`),
  propose: (project: string, type: string, name: string, body: Record<string, unknown>) =>
    request<Proposal>('POST', `${flagPath(project, type, name)}/proposals`, body),
  proposals: (project: string, status?: ProposalStatus) =>
    request<Proposal[]>('GET', `${projectPath(project)}/proposals${status === undefined ? '' : `?status=${status}`}`),
  approve: (project: string, id: string) =>
    request<unknown>('POST', `${projectPath(project)}/proposals/${enc(id)}/approve`),
  reject: (project: string, id: string, reason?: string) =>
    request<Proposal>(
      'POST',
      `${projectPath(project)}/proposals/${enc(id)}/reject`,
      reason === undefined || reason === '' ? {} : { reason },
    ),
  /* Webhooks (docs/webhooks.md): an admin's. */
  webhooks: () => request<Webhook[]>('GET', `${admin}/webhooks`),
  addWebhook: (body: Record<string, unknown>) =>
    request<{ webhook: Webhook; secret: string }>('POST', `${admin}/webhooks`, body),
  removeWebhook: (id: string) => request<unknown>('DELETE', `${admin}/webhooks/${enc(id)}`),
  pingWebhook: (id: string) => request<unknown>('POST', `${admin}/webhooks/${enc(id)}/ping`),
  deliveries: (limit = 100) => request<WebhookDelivery[]>('GET', `${admin}/webhooks/deliveries?limit=${limit}`),
  audit: (project: string | undefined, limit = 200) =>
    request<AuditEntry[]>(
      'GET',
      `${admin}/audit?limit=${limit}${project === undefined ? '' : `&project=${enc(project)}`}`,
    ),
};
