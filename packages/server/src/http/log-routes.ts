import { InvalidInputError } from '@vexil/core';
import type { FastifyPluginAsync } from 'fastify';
import { LOG_VIEW_DEFAULT_LIMIT, LOG_VIEW_MAX_LIMIT, readLogView } from '../evaluation-log-view.js';
import { errors, projectParams } from './admin-schemas.js';
import type { RouteOptions } from './services.js';

const QUERY_PARAMETERS = ['flag_type', 'flag_name', 'limit'];

/** The evaluation log as the admin API shows it (under /admin/v1, with the other admin routes' access). */
export const logRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  app.get<{ Params: { project: string }; Querystring: Record<string, string | undefined> }>(
    '/projects/:project/log',
    {
      schema: {
        summary:
          "A project's evaluation log: who was answered what, when; each row served (by the service) or reported (by a client)",
        tags: ['admin'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            flag_type: { type: 'string', description: 'only this flag type' },
            flag_name: { type: 'string', description: 'only this flag (needs flag_type)' },
            limit: {
              type: 'string',
              description: `at most this many rows (${LOG_VIEW_DEFAULT_LIMIT} by default, at most ${LOG_VIEW_MAX_LIMIT})`,
            },
          },
        },
        response: {
          200: {
            type: 'object',
            description: "the project's evaluation log rows",
            properties: {
              entries: {
                type: 'array',
                items: {
                  type: 'object',
                  description:
                    '{project, flagType, flagName, instanceId, requestId, time, value, group, cacheHit, source}: source is served or reported',
                  additionalProperties: true,
                },
              },
            },
          },
          ...errors(400),
        },
      },
      attachValidation: true,
    },
    async (request) => {
      const query = request.query;
      const unknown = Object.keys(query).filter((name) => !QUERY_PARAMETERS.includes(name));
      if (unknown.length > 0) {
        throw new InvalidInputError(
          `unknown query parameter ${unknown.join(', ')}; the known ones are ${QUERY_PARAMETERS.join(', ')}`,
          { field: unknown[0]! },
        );
      }
      for (const name of QUERY_PARAMETERS) {
        if (Array.isArray(query[name])) {
          throw new InvalidInputError(`${name} was given more than once: give it once`, { field: name });
        }
      }
      if (query.limit !== undefined && !/^\d+$/.test(query.limit)) {
        throw new InvalidInputError(`limit must be a whole number, got ${JSON.stringify(query.limit)}`, {
          field: 'limit',
        });
      }
      const entries = await readLogView(services.store, {
        project: request.params.project,
        flagType: query.flag_type,
        flagName: query.flag_name,
        limit: query.limit === undefined ? undefined : Number(query.limit),
      });
      return { entries };
    },
  );
};
