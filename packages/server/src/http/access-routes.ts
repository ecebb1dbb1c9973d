import type { FastifyPluginAsync } from 'fastify';
import { actorOf } from '../access/access-control.js';
import { AUDIT_ACTIONS, readAudit } from '../access/audit.js';
import { issueToken, revokeToken, type TokenRequest, tokenView } from '../access/tokens.js';
import { answer, errors, type ProjectParams, projectParams } from './admin-schemas.js';
import type { RouteOptions } from './services.js';

/**
 * The admin API's access routes (admin tokens only; see access-control.ts): API
 * tokens, a project's access settings, and the audit view. The CLI's `vexil token`,
 * `vexil project set` and `vexil audit` do the same on the store.
 */

const tokenViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'public id (tok_…): what lists and the audit name' },
    owner: { type: 'string', description: 'who the token belongs to: the OwnerID of the changes made with it' },
    scope: { type: 'string', enum: ['read', 'write', 'admin'] },
    projects: { type: 'array', items: { type: 'string' }, description: 'the projects of a read or write token' },
    createdTime: { type: 'string' },
    createdBy: { type: 'string' },
    revokedTime: { type: 'string', description: 'present once revoked' },
  },
} as const;

const settingsSchema = {
  type: 'object',
  properties: {
    project: { type: 'string' },
    publicEvaluation: {
      type: 'boolean',
      description: 'true: evaluation routes answer without a token; false: they need a read token for the project',
    },
    stored: { type: 'boolean', description: 'false for a project that predates settings (public evaluation on)' },
    updatedTime: { type: 'string' },
    updatedBy: { type: 'string' },
  },
} as const;

const auditEntrySchema = {
  type: 'object',
  properties: {
    time: { type: 'string', description: 'ISO 8601, UTC' },
    action: { type: 'string', enum: [...AUDIT_ACTIONS] },
    actor: { type: 'string', description: "who did it: the token's owner (API) or the OS user (CLI)" },
    onBehalfOf: { type: 'string', description: 'the owner the caller named, when not the actor' },
    address: { type: 'string', description: "the caller's address" },
    tokenId: { type: 'string' },
    project: { type: 'string' },
    flagType: { type: 'string' },
    name: { type: 'string' },
    subject: { type: 'string', description: 'the revision time, or the token id or project changed' },
    detail: { type: 'string' },
  },
} as const;

export const accessRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { access, tokens, projects, store } = services;

  app.post<{ Body: TokenRequest }>(
    '/tokens',
    {
      schema: {
        summary: 'Create an API token; its secret is in this answer only (vexil token create)',
        tags: ['access'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['scope', 'owner'],
          properties: {
            scope: { type: 'string', description: 'read, write or admin' },
            projects: { type: 'array', items: { type: 'string' }, description: 'required for read and write' },
            owner: { type: 'string', description: 'who it belongs to (a person or a service)' },
          },
        },
        response: {
          201: answer(
            {
              type: 'object',
              properties: {
                secret: { type: 'string', description: 'send as Authorization: Bearer <secret>; shown this once' },
                token: tokenViewSchema,
              },
            },
            'the new token and its secret',
          ),
          ...errors(400),
        },
      },
    },
    async (request, reply) => reply.code(201).send(await issueToken(access, request.body, actorOf(request))),
  );

  app.get(
    '/tokens',
    {
      schema: {
        summary: 'Every API token, revoked ones too; never a secret (vexil token list)',
        tags: ['access'],
        response: { 200: { type: 'array', items: tokenViewSchema, description: 'oldest first' }, ...errors() },
      },
    },
    async () => (await access.listTokens()).map(tokenView),
  );

  app.post<{ Params: { id: string } }>(
    '/tokens/:id/revoke',
    {
      schema: {
        summary: 'Revoke an API token: it is refused from now on (vexil token revoke)',
        tags: ['access'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
        response: { 200: answer(tokenViewSchema, 'the revoked token'), ...errors(400, 404) },
      },
    },
    async (request) => {
      const view = await revokeToken(access, request.params.id, actorOf(request));
      tokens.forget(view.id);
      return view;
    },
  );

  app.get<{ Params: ProjectParams }>(
    '/projects/:project/settings',
    {
      schema: {
        summary: "A project's access settings",
        tags: ['access'],
        params: projectParams,
        response: { 200: answer(settingsSchema, 'the settings in force'), ...errors(400) },
      },
    },
    async (request) => projects.settings(request.params.project),
  );

  app.put<{ Params: ProjectParams; Body: { publicEvaluation: boolean } }>(
    '/projects/:project/settings',
    {
      schema: {
        summary: "Change a project's access settings (vexil project set)",
        tags: ['access'],
        params: projectParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['publicEvaluation'],
          properties: { publicEvaluation: { type: 'boolean' } },
        },
        response: { 200: answer(settingsSchema, 'the new settings'), ...errors(400, 404) },
      },
    },
    async (request) => {
      const { project } = request.params;
      await services.admin.requireProject(project);
      return { ...(await projects.set(project, request.body.publicEvaluation, actorOf(request))), stored: true };
    },
  );

  app.get<{ Querystring: { project?: string; since?: string; limit?: number } }>(
    '/audit',
    {
      schema: {
        summary: 'Who changed what, when, from where: flags, segments, tokens and settings, newest first (vexil audit)',
        tags: ['access'],
        querystring: {
          type: 'object',
          properties: {
            project: { type: 'string', description: 'only this project' },
            since: { type: 'string', description: 'ISO 8601 date or time: changes at or after it' },
            limit: { type: 'integer', description: 'the newest this many (100 by default)' },
          },
        },
        response: { 200: { type: 'array', items: auditEntrySchema, description: 'newest first' }, ...errors(400) },
      },
    },
    async (request) => readAudit(store, access, request.query),
  );
};
