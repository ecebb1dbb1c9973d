import { type AccessScope, ForbiddenError, scopeCovers, UnauthorizedError } from '@vexil/core';
import { parseAirflowConfig } from '@vexil/core/runbook';
import type { AccessStore, TokenRecord } from '@vexil/store';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  preValidationHookHandler,
} from 'fastify';
import type { Actor } from './actor.js';
import { ACCESS_CACHE_MS, type ProjectAccess } from './project-access.js';
import { hashTokenSecret } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API token the request presented, when it did and it is valid. */
    accessToken?: TokenRecord;
  }
}

/** The OpenAPI name of the scheme. */
export const BEARER_SCHEME = 'bearerToken';

/** Where a token may be sent. No cookies: a browser never sends one on its own. */
const TOKEN_HEADER = 'x-vexil-token';

/**
 * What a route needs. `admin`: an admin token. `write`: a write token for the
 * route's project (or admin). `read`: a read token for the project (or more), or
 * nothing when the project's evaluation is public. `report`: a read token for the
 * project, always — evaluation reports go into the log, the record of who saw what, so
 * a stranger may not write them even for a public project. `view`: a read token for
 * the project (or more), always — the admin API's reading routes (flags, history,
 * log, previews): what a project holds is never public, even where its evaluation is.
 * `token`: any valid token (who am I, which projects may I see). `none`: health,
 * metrics, docs, the dashboard's files.
 */
type RouteAccess = 'admin' | 'write' | 'read' | 'report' | 'view' | 'token' | 'none';

/** Project routes that answer without writing anything, though they are POSTs (a context or a draft goes in the body). */
const READING_POSTS = ['/evaluate', '/impact'];

/** The one table of who may call what, by route URL (as registered) and method. */
export function routeAccess(url: string | undefined, method = 'GET'): RouteAccess {
  if (url === undefined) return 'none';
  if (url.startsWith('/admin/')) {
    if (url === '/admin/v1/whoami' || url === '/admin/v1/projects') return 'token';
    // Webhooks name URLs the service will POST to and hold their secrets: admins only, per project too.
    if (url.startsWith('/admin/v1/webhooks') || url === '/admin/v1/projects/:project/webhooks') return 'admin';
    // A project's settings (access, approvals) are an admin's to change.
    if (url.startsWith('/admin/v1/projects/:project/') && !/\/(approval-)?settings$/.test(url)) {
      const reads =
        method === 'GET' || method === 'HEAD' || (method === 'POST' && READING_POSTS.some((end) => url.endsWith(end)));
      return reads ? 'view' : 'write';
    }
    if (url === '/admin/v1/apply') return 'write';
    return 'admin';
  }
  if (url === '/sdk/v1/evaluations') return 'report';
  if (url.startsWith('/get-feature-flag') || url.startsWith('/ofrep/') || url.startsWith('/sdk/')) return 'read';
  return 'none';
}

/** The project a request is about, read as the route reads it; undefined when it has none (the route refuses it). */
function projectsOf(request: FastifyRequest, defaultProject: string | undefined): string[] | undefined {
  const url = request.routeOptions.url ?? '';
  const params = request.params as Record<string, unknown> | undefined;
  const body = request.body as Record<string, unknown> | undefined;
  let project: unknown;
  if (typeof params?.project === 'string') project = params.project;
  else if (url.startsWith('/get-feature-flag')) project = (request.query as Record<string, unknown>)?.project_name;
  else if (url.startsWith('/ofrep/')) {
    const context = isObject(body) && isObject(body.context) ? body.context : {};
    project = context.project_name ?? defaultProject;
  } else if (url === '/sdk/v1/evaluations') project = isObject(body) ? body.project : undefined;
  else if (url === '/admin/v1/apply') return applyProjects(body);
  return typeof project === 'string' ? [project] : undefined;
}

/** The projects of an apply's configs; undefined when they do not parse (the route refuses them, writing nothing). */
function applyProjects(body: unknown): string[] | undefined {
  if (!isObject(body) || !Array.isArray(body.configs)) return undefined;
  try {
    return [
      ...new Set(
        body.configs.map((config, i) => parseAirflowConfig(JSON.stringify(config), `configs[${i}]`).ref.project),
      ),
    ];
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The secret a request presents: `Authorization: Bearer …` or `X-Vexil-Token`. */
export function presentedSecret(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const header = request.headers[TOKEN_HEADER];
  return typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
}

/** Tokens by hash, trusted for a few seconds: a revocation elsewhere takes effect within ACCESS_CACHE_MS. */
export class TokenLookup {
  readonly #cache = new Map<string, { token: TokenRecord | undefined; until: number }>();

  constructor(
    private readonly access: AccessStore,
    private readonly cacheMs = ACCESS_CACHE_MS,
  ) {}

  async find(secret: string): Promise<TokenRecord | undefined> {
    const hash = hashTokenSecret(secret);
    const cached = this.#cache.get(hash);
    if (cached !== undefined && cached.until > Date.now()) return cached.token;
    let token: TokenRecord | undefined;
    try {
      token = await this.access.findToken(hash);
    } catch (error) {
      // The store is down: a token known here keeps working (as flags keep being served), an unknown one cannot be checked.
      if (cached !== undefined) return cached.token;
      throw error;
    }
    // Unknown secrets are not kept: a flood of made-up tokens must not fill memory.
    if (token !== undefined) this.remember(token);
    return token;
  }

  /** Keeps a token known (the bootstrap token, as it is stored at start). */
  remember(token: TokenRecord): void {
    if (this.#cache.size >= 10_000) this.#cache.clear();
    this.#cache.set(token.hash, { token, until: Date.now() + this.cacheMs });
  }

  /** Drops what is known of a token here at once (it was just revoked by this service). */
  forget(id: string): void {
    for (const [hash, entry] of this.#cache) if (entry.token?.id === id) this.#cache.delete(hash);
  }
}

function unauthorized(reply: FastifyReply, message: string): UnauthorizedError {
  reply.header('www-authenticate', `Bearer realm="vexil"`);
  return new UnauthorizedError(message, {
    field: 'Authorization',
    hint: 'send Authorization: Bearer <token>; create tokens with vexil token create',
  });
}

const SCOPE_WORDS: Record<AccessScope | 'report' | 'view' | 'token', string> = {
  read: 'a read',
  report: 'a read',
  view: 'a read',
  token: 'an API',
  write: 'a write',
  admin: 'an admin',
};

/** Whether `token` may do what needs `scope` on every project of `projects`. */
function covers(token: TokenRecord, scope: AccessScope, projects: readonly string[]): boolean {
  if (token.scope === 'admin') return true;
  if (scope === 'admin' || !scopeCovers(token.scope, scope)) return false;
  return projects.every((project) => token.projects.includes(project));
}

/** Who a request acts as: its token's owner, the token and the address. */
export function actorOf(request: FastifyRequest): Actor {
  const token = request.accessToken;
  return { owner: token?.owner ?? 'anonymous', tokenId: token?.id, address: request.ip };
}

export interface AccessControlOptions {
  tokens: TokenLookup;
  projects: ProjectAccess;
  defaultProject: string | undefined;
}

/**
 * Access control for every route, in one place: the token is read and checked as
 * the request arrives (401 before any body is read, for routes that always need
 * one), then its scope and projects once the body is parsed (403), and evaluation
 * without a token is let through only for projects whose evaluation is public.
 * Register before any route, so the OpenAPI document states each route's need.
 */
export function registerAccessControl(app: FastifyInstance, options: AccessControlOptions): void {
  const { tokens, projects, defaultProject } = options;

  app.addHook('onRoute', (route) => {
    const method = Array.isArray(route.method) ? route.method[0] : route.method;
    const need = routeAccess(route.url, method);
    if (need === 'none' || route.schema === undefined) return;
    const bearer = { [BEARER_SCHEME]: [] as string[] };
    route.schema = {
      ...route.schema,
      // Evaluation of a public project needs no token: the empty requirement says so.
      security: need === 'read' ? [{}, bearer] : [bearer],
    };
  });

  // A CORS preflight carries no token; it changes nothing and is answered by the CORS plugin (admin: only when configured).
  const needOf = (request: FastifyRequest) =>
    request.method === 'OPTIONS' ? 'none' : routeAccess(request.routeOptions.url, request.method);

  const authenticate: onRequestHookHandler = (request, reply, done) => {
    const need = needOf(request);
    if (need === 'none') return done();
    const secret = presentedSecret(request);
    if (secret === undefined) {
      if (need === 'read') return done();
      return done(unauthorized(reply, `this endpoint needs ${SCOPE_WORDS[need]} token`));
    }
    tokens.find(secret).then(
      (token) => {
        if (token === undefined) return done(unauthorized(reply, 'the API token is not known to this service'));
        if (token.revokedTime !== undefined) {
          return done(unauthorized(reply, `the API token ${token.id} was revoked at ${token.revokedTime}`));
        }
        request.accessToken = token;
        done();
      },
      (error: unknown) => done(error as Error),
    );
  };

  const authorize: preValidationHookHandler = (request, reply, done) => {
    const need = needOf(request);
    if (need === 'none') return done();
    const token = request.accessToken;
    const named = projectsOf(request, defaultProject);
    if (token !== undefined) {
      if (need === 'admin' && token.scope !== 'admin') {
        return done(new ForbiddenError(`this endpoint needs an admin token; token ${token.id} is ${token.scope}`));
      }
      if (need !== 'admin' && need !== 'token') {
        const scope = need === 'report' || need === 'view' ? 'read' : need;
        if (!covers(token, scope, named ?? [])) {
          const what = named === undefined || named.length === 0 ? 'this request' : `project ${named.join(', ')}`;
          return done(
            new ForbiddenError(
              `token ${token.id} (${token.scope}${token.projects.length > 0 ? ` on ${token.projects.join(', ')}` : ''}) may not ${scope === 'read' ? 'read' : 'change'} ${what}`,
              { hint: `ask an admin for ${SCOPE_WORDS[scope]} token for ${what}` },
            ),
          );
        }
      }
      return done();
    }
    // No token: only evaluation routes get here (onRequest refused the others).
    if (named === undefined || named.length === 0) return done();
    const project = named[0]!;
    const known = projects.cachedPublic(project);
    const decide = (open: boolean) =>
      open
        ? done()
        : done(
            unauthorized(
              reply,
              `project ${project} is evaluated only with a read token (its publicEvaluation setting is off)`,
            ),
          );
    if (known !== undefined) return decide(known);
    projects.isPublic(project).then(decide, (error: unknown) => done(error as Error));
  };

  app.addHook('onRequest', authenticate);
  app.addHook('preValidation', authorize);
}
