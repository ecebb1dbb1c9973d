import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { BEARER_SCHEME } from '../access/access-control.js';

/** The OpenAPI document (built from the route schemas) at /docs/json, and its UI at /docs. */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  app.addSchema({
    $id: 'VexilError',
    type: 'object',
    required: ['error', 'status', 'message', 'detail', 'request_id'],
    properties: {
      error: { type: 'string', description: 'the error code, e.g. InvalidFlagTypeException' },
      status: { type: 'integer' },
      message: { type: 'string', description: 'what went wrong and what to fix' },
      detail: { type: 'string', description: 'the same message, where FastAPI clients look for it' },
      field: { type: 'string', description: 'the parameter or field at fault' },
      hint: { type: 'string', description: 'how to fix it, when the message alone does not say' },
      known_projects: {
        type: 'array',
        items: { type: 'string' },
        description: 'ProjectNotFound: the projects there are',
      },
      request_id: { type: 'string' },
    },
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Vexil feature-flag service',
        description: "Evaluation (the runbook system's /get-feature-flag), the admin API, and operations endpoints.",
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description:
              'An API token (vexil_…) as Authorization: Bearer <token> (or X-Vexil-Token). Scopes: read (evaluation of its projects, and the reading routes of the admin API for them), write (changes to its projects), admin (everything). Evaluation of a project whose publicEvaluation is on needs none.',
          },
        },
      },
      tags: [
        { name: 'evaluation', description: 'Evaluate flags' },
        {
          name: 'admin',
          description:
            'Manage flags and revisions: reading routes need a read token for the project, changes a write token (or admin)',
        },
        {
          name: 'access',
          description:
            'Who the token is and which projects it sees (any token); API tokens, project access settings, the audit view (an admin token)',
        },
        {
          name: 'webhooks',
          description:
            'Signed POSTs of every change to configured URLs, and their delivery log (an admin token); docs/webhooks.md',
        },
        { name: 'operations', description: 'Health and metrics' },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
