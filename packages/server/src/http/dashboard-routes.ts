import { assertProjectName } from '@vexil/core';
import type { FastifyPluginAsync } from 'fastify';
import { summarizeFlags } from '../flag-summaries.js';
import { answer, errors, type ProjectParams, projectParams, revisionSchema } from './admin-schemas.js';
import type { RouteOptions } from './services.js';

/**
 * The views the dashboard is built on (registered inside the admin routes, with
 * their access and checks): each answers one page's question in one request,
 * computed on the server from the store and the evaluation log.
 */

const wtimeText = { type: 'string', description: 'UTC YYYY-MM-DD HH:MM:SS.ffffff' } as const;

const flagSummarySchema = {
  type: 'object',
  required: [
    'flagType',
    'name',
    'createdTime',
    'revisionCount',
    'lastChange',
    'archived',
    'disabled',
    'metadata',
    'lastEvaluated',
  ],
  properties: {
    flagType: { type: 'string', description: 'feature, data, number or json' },
    name: { type: 'string' },
    description: { type: 'string' },
    createdTime: { ...wtimeText, description: 'when the flag was added (its first FLAG row)' },
    latestRevision: {
      type: 'object',
      description: 'the revision in force, as stored; absent when the flag has none yet',
      required: ['wtime', 'revision'],
      properties: { wtime: wtimeText, revision: revisionSchema },
    },
    revisionCount: { type: 'integer', description: 'revisions written, rollbacks and archives included' },
    lastChange: {
      type: 'object',
      description: "the flag's newest row: who changed it, when",
      required: ['time', 'kind'],
      properties: {
        time: wtimeText,
        kind: { type: 'string', enum: ['flag', 'revision'], description: 'revision: rules; flag: the description' },
        owner: { type: 'string', description: 'OwnerID: the token owner (API) or the OS user (CLI)' },
        onBehalfOf: { type: 'string' },
        tokenId: { type: 'string' },
        comment: { type: 'string' },
      },
    },
    archived: { type: 'boolean' },
    disabled: { type: 'boolean', description: 'the kill switch is on' },
    metadata: {
      type: 'object',
      additionalProperties: true,
      description:
        "the revision in force's Metadata: owner, ticket, expires (YYYY-MM-DD) and any other keys; {} when none",
    },
    lastEvaluated: {
      type: ['string', 'null'],
      description: 'the newest evaluation-log time of the flag (served or reported), UTC; null when never logged',
    },
    problem: {
      type: 'object',
      description: 'present when the revision in force does not validate (vexil doctor says more)',
      properties: { message: { type: 'string' }, field: { type: 'string' } },
    },
  },
} as const;

export const dashboardRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { store } = services;

  app.get<{ Params: ProjectParams }>(
    '/projects/:project/flag-summaries',
    {
      schema: {
        summary:
          'Every flag of a project at a glance (the dashboard flags page): latest revision, revision count, last change, archived, disabled, metadata, last evaluation',
        description:
          'Archived flags included; segments are not flags (see /segments). One scan of the project and one question to the evaluation log, whatever the number of flags.',
        tags: ['admin'],
        params: projectParams,
        response: {
          200: answer(
            {
              type: 'object',
              required: ['project', 'flags'],
              properties: {
                project: { type: 'string' },
                flags: { type: 'array', items: flagSummarySchema, description: 'by type, then name' },
              },
            },
            'the flags',
          ),
          ...errors(400, 404),
        },
      },
    },
    async (request) => {
      const { project } = request.params;
      assertProjectName(project);
      const flags = await summarizeFlags(store, project);
      if (flags === undefined) await services.admin.requireProject(project);
      return { project, flags: flags ?? [] };
    },
  );
};
