import type { FastifyPluginAsync } from 'fastify';
import {
  CODEGEN_LANGUAGES,
  type CodegenLanguage,
  codegenFlags,
  generateFlagModule,
} from '../lifecycle/flag-codegen.js';
import { rejectUnknownQuery } from './admin-routes.js';
import { answer, errors, type ProjectParams, projectParams } from './admin-schemas.js';
import type { RouteOptions } from './services.js';

/**
 * The flag lifecycle over the admin API where it fits: the typed constants module, so
 * a CI job can fetch it (or compare it) with a read token and no access to the store.
 * Stale hints are GET …/stale (dashboard-routes.ts); `vexil refs` reads a codebase, so
 * it has no route.
 */
export const lifecycleRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  app.addHook('preValidation', async (request) => rejectUnknownQuery(request));

  app.get<{ Params: ProjectParams; Querystring: { lang: CodegenLanguage } }>(
    '/projects/:project/codegen',
    {
      schema: {
        summary:
          "The project's flag names, types and defaults as a TypeScript or Python module, as vexil codegen writes it",
        tags: ['admin'],
        params: projectParams,
        querystring: {
          type: 'object',
          required: ['lang'],
          properties: { lang: { type: 'string', enum: [...CODEGEN_LANGUAGES], description: 'ts or py' } },
        },
        response: {
          200: answer(
            { type: 'string' },
            'the module (text/plain), the same text as vexil codegen --lang LANG -p PROJECT',
          ),
          ...errors(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { project } = request.params;
      const { lang } = request.query;
      const flags = await codegenFlags(services.admin, project);
      return reply
        .type('text/plain; charset=utf-8')
        .send(generateFlagModule(lang, project, flags, `vexil codegen --lang ${lang} -p ${project}`));
    },
  );
};
