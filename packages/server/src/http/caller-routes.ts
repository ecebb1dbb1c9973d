import { UnauthorizedError } from '@vexil/core';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { callerView, visibleProjects } from '../project-list.js';
import { answer, errors } from './admin-schemas.js';
import type { RouteOptions } from './services.js';

/**
 * Who the caller is and what it may see (any valid token; see access-control.ts):
 * the dashboard signs in with them, and shows what the token may do.
 */

const callerSchema = {
  type: 'object',
  required: ['tokenId', 'owner', 'scope', 'projects'],
  properties: {
    tokenId: { type: 'string', description: 'the public id of the token presented (tok_…)' },
    owner: { type: 'string', description: "the token's owner: the OwnerID of changes made with it" },
    scope: {
      type: 'string',
      enum: ['read', 'write', 'admin'],
      description: 'read: see the projects and evaluate; write: change their flags too; admin: everything',
    },
    projects: {
      description: 'the projects the token covers, or "*" for an admin token (every project)',
      oneOf: [
        { type: 'array', items: { type: 'string' } },
        { type: 'string', enum: ['*'] },
      ],
    },
  },
} as const;

const projectsSchema = {
  type: 'object',
  required: ['projects'],
  properties: {
    projects: {
      type: 'array',
      description: 'by name',
      items: {
        type: 'object',
        required: ['name', 'flagCount', 'publicEvaluation'],
        properties: {
          name: { type: 'string' },
          flagCount: { type: 'integer', description: 'flags, archived ones included (segments not counted)' },
          publicEvaluation: {
            type: 'boolean',
            description: 'true: evaluation answers without a token (a project that predates settings)',
          },
        },
      },
    },
  },
} as const;

function tokenOf(request: FastifyRequest) {
  // The access hook let the request through only with a valid token; this is the type's proof.
  const token = request.accessToken;
  if (token === undefined) throw new UnauthorizedError('this endpoint needs an API token', { field: 'Authorization' });
  return token;
}

export const callerRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  app.get(
    '/whoami',
    {
      schema: {
        summary: 'The token presented: its owner, scope and projects (any valid token)',
        tags: ['access'],
        response: { 200: answer(callerSchema, 'what the token may do'), ...errors() },
      },
    },
    async (request) => callerView(tokenOf(request)),
  );

  app.get(
    '/projects',
    {
      schema: {
        summary:
          'The projects the token may see: every project with a flag for an admin token, its own projects for a read or write token',
        tags: ['access'],
        response: {
          200: answer(projectsSchema, 'the projects, with their flag counts and evaluation setting'),
          ...errors(),
        },
      },
    },
    async (request) => ({
      projects: await visibleProjects(tokenOf(request), services.store, services.projects),
    }),
  );
};
