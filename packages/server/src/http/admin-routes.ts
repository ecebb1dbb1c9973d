import { InvalidInputError } from '@vexil/core';
import { type AirflowConfig, parseAirflowConfig } from '@vexil/core/runbook';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { actorOf } from '../access/access-control.js';
import {
  type ArchiveInput,
  type ChangeInput,
  flagRef,
  type MetadataInput,
  type RevisionInput,
  type RollbackInput,
} from '../flag-admin.js';
import {
  addFlagBody,
  answer,
  applyBody,
  applyResponse,
  archiveBody,
  contextBody,
  contextEvaluationViewSchema,
  errors,
  evaluationViewSchema,
  type FlagParams,
  flagParams,
  flagViewSchema,
  metadataBody,
  type ProjectParams,
  projectParams,
  type RevisionParams,
  revisionBody,
  revisionParams,
  revisionViewSchema,
  rollbackBody,
  updateFlagBody,
} from './admin-schemas.js';
import { approvalRoutes } from './approval-routes.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { scheduleRoutes } from './schedule-routes.js';
import { segmentRoutes } from './segment-routes.js';
import type { RouteOptions } from './services.js';

/**
 * The admin API: every management procedure of the CLI, over HTTP. Each route
 * checks the path through core (`flagRef`) and calls the same `FlagAdmin` method as
 * the CLI command, so both refuse the same input with the same message and field.
 *
 * The schemas describe the routes for the OpenAPI document and check only the
 * request's shape (types of plain strings, required properties, no unknown
 * properties). Everything with a domain rule — names, flag types, values of the
 * flag's type, percentages, hash names — is left loose here so that core's
 * validators report it, with its field path. Errors are thrown, never replied
 * here: the app's error handler answers them all alike.
 */

interface BodySchema {
  properties?: Record<string, unknown>;
  required?: readonly string[];
  additionalProperties?: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Names the body properties the route does not know. Fastify's Ajv would drop them
 * silently (removeAdditional), and a misspelt `Treatment` must not pass for "no treatments".
 */
export function rejectUnknownProperties(request: FastifyRequest): void {
  const schema = request.routeOptions.schema?.body as BodySchema | undefined;
  if (schema?.additionalProperties !== false) return;
  // A POST with no body at all is an empty object when nothing is required (`curl -X POST …/archive`).
  if (request.body === undefined && (schema.required ?? []).length === 0) {
    request.body = {};
    return;
  }
  if (!isPlainObject(request.body)) return;
  const allowed = Object.keys(schema.properties ?? {});
  const unknown = Object.keys(request.body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `unknown propert${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((key) => JSON.stringify(key)).join(', ')} in the request body; the allowed properties are ${allowed.join(', ')}`,
      { field: unknown[0] },
    );
  }
}

/**
 * Names the query parameters the route does not know: a misspelt `?withRevision=true`
 * must not pass for "without revisions".
 */
export function rejectUnknownQuery(request: FastifyRequest): void {
  const query = request.query;
  if (!isPlainObject(query)) return;
  const given = Object.keys(query);
  if (given.length === 0) return;
  const schema = request.routeOptions.schema?.querystring as BodySchema | undefined;
  const allowed = Object.keys(schema?.properties ?? {});
  const unknown = given.filter((key) => !allowed.includes(key));
  if (unknown.length === 0) return;
  const names = unknown.map((key) => JSON.stringify(key)).join(', ');
  const suggestion = unknown.map(snakeCase).find((key) => allowed.includes(key));
  throw new InvalidInputError(
    `unknown query parameter${unknown.length > 1 ? 's' : ''} ${names}; ${
      allowed.length === 0 ? 'this endpoint takes none' : `the known ones are ${allowed.join(', ')}`
    }`,
    { field: unknown[0], hint: suggestion === undefined ? undefined : `did you mean ${suggestion}?` },
  );
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`).replace(/-/g, '_');
}

// ---------------------------------------------------------------- routes

export const adminRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  // Every procedure runs as the request's token owner: its writes record who did them.
  const adminOf = (request: FastifyRequest) => services.admin.actingAs(actorOf(request));

  app.addHook('preValidation', async (request) => {
    rejectUnknownQuery(request);
    rejectUnknownProperties(request);
  });

  const ref = (params: FlagParams) => flagRef(params.project, params.type, params.name);

  app.get<{ Params: ProjectParams }>(
    '/projects/:project/doctor',
    {
      schema: {
        summary:
          'Check every row of a project and list those that do not validate, expired flags and rules naming unusable segments (vexil doctor)',
        tags: ['admin'],
        params: projectParams,
        response: {
          200: {
            type: 'object',
            description: 'rows checked, and the problems found with their row keys',
            properties: {
              project: { type: 'string' },
              rowsChecked: { type: 'integer' },
              problems: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    key: { type: 'string' },
                    kind: { type: 'string' },
                    flagType: { type: 'string' },
                    name: { type: 'string' },
                    wtime: { type: 'string' },
                    error: { type: 'string' },
                    status: { type: 'integer' },
                    field: { type: 'string' },
                    message: { type: 'string' },
                  },
                },
              },
              expired: {
                type: 'array',
                description: 'present when any: flags whose revision in force has a Metadata.expires day that is over',
                items: {
                  type: 'object',
                  properties: {
                    project: { type: 'string' },
                    flagType: { type: 'string' },
                    name: { type: 'string' },
                    expires: { type: 'string', description: 'YYYY-MM-DD' },
                    owner: { type: 'string', description: 'Metadata.owner, when set' },
                    ticket: { type: 'string', description: 'Metadata.ticket, when set' },
                    revision: { type: 'string', description: 'the wtime of the revision in force' },
                  },
                },
              },
              segmentReferences: {
                type: 'array',
                description:
                  'present when any: conditions of revisions in force naming a segment the project does not have (unknown), whose newest revision does not validate (invalid) or that it has archived',
                items: {
                  type: 'object',
                  properties: {
                    flagType: { type: 'string' },
                    name: { type: 'string' },
                    revision: { type: 'string' },
                    key: { type: 'string' },
                    segment: { type: 'string' },
                    state: { type: 'string', enum: ['unknown', 'invalid', 'archived'] },
                    field: { type: 'string' },
                    message: { type: 'string' },
                  },
                },
              },
            },
          },
          ...errors(400, 404),
        },
      },
    },
    async (request) => adminOf(request).doctor(request.params.project),
  );

  app.get<{ Params: ProjectParams; Querystring: { with_revision?: boolean; include_archived?: boolean } }>(
    '/projects/:project/flags',
    {
      schema: {
        summary: 'List the flags of a project (procedures 7 and 8)',
        tags: ['admin'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            with_revision: { type: 'boolean', description: "include each flag's revision in force (procedure 8)" },
            include_archived: { type: 'boolean', description: 'include archived flags' },
          },
        },
        response: {
          200: { type: 'array', items: flagViewSchema, description: 'the flags, by type then name' },
          ...errors(400, 404),
        },
      },
    },
    async (request) =>
      adminOf(request).listFlags(request.params.project, {
        withRevision: request.query.with_revision === true,
        includeArchived: request.query.include_archived === true,
      }),
  );

  app.post<{ Params: ProjectParams; Body: { name: string; type: string; description?: string } }>(
    '/projects/:project/flags',
    {
      schema: {
        summary: 'Add a flag (procedure 1)',
        tags: ['admin'],
        params: projectParams,
        body: addFlagBody,
        response: { 201: answer(flagViewSchema, 'the new flag'), ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const { name, type, description } = request.body;
      const view = await adminOf(request).addFlag(flagRef(request.params.project, type, name), { description });
      return reply.code(201).send(view);
    },
  );

  app.get<{ Params: FlagParams }>(
    '/projects/:project/flags/:type/:name',
    {
      schema: {
        summary: "A flag's metadata and the revision in force (procedure 5)",
        tags: ['admin'],
        params: flagParams,
        response: { 200: answer(flagViewSchema, 'the flag, with its revision in force'), ...errors(400, 404) },
      },
    },
    async (request) => adminOf(request).getFlag(ref(request.params)),
  );

  app.patch<{ Params: FlagParams; Body: { description: string } }>(
    '/projects/:project/flags/:type/:name',
    {
      schema: {
        summary: "Update a flag's metadata (procedure 4)",
        tags: ['admin'],
        params: flagParams,
        body: updateFlagBody,
        response: { 200: answer(flagViewSchema, 'the flag with its new metadata'), ...errors(400, 404) },
      },
    },
    async (request) => adminOf(request).updateFlag(ref(request.params), { description: request.body.description }),
  );

  app.get<{ Params: FlagParams; Querystring: { limit?: number } }>(
    '/projects/:project/flags/:type/:name/revisions',
    {
      schema: {
        summary: "A flag's revisions, newest first (procedure 9)",
        tags: ['admin'],
        params: flagParams,
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', description: 'at most this many (a whole number, at least 1)' } },
        },
        response: {
          200: { type: 'array', items: revisionViewSchema, description: 'the revisions, newest first' },
          ...errors(400, 404),
        },
      },
    },
    async (request) => adminOf(request).history(ref(request.params), request.query.limit),
  );

  app.post<{ Params: FlagParams; Body: RevisionInput }>(
    '/projects/:project/flags/:type/:name/revisions',
    {
      schema: {
        summary: 'Add a revision: new rules in force from now (procedure 2)',
        tags: ['admin'],
        params: flagParams,
        body: revisionBody,
        response: { 201: answer(revisionViewSchema, 'the new revision, in force from now'), ...errors(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const flag = ref(request.params);
      // Where the project requires approvals, a revision is proposed instead (changes/approvals.ts).
      await services.changes.approvals.refuseDirectChange(flag.project, 'revision');
      return reply.code(201).send(await adminOf(request).addRevision(flag, request.body));
    },
  );

  app.get<{ Params: FlagParams }>(
    '/projects/:project/flags/:type/:name/revisions/latest',
    {
      schema: {
        summary: 'The revision in force (procedure 6)',
        tags: ['admin'],
        params: flagParams,
        response: { 200: answer(revisionViewSchema, 'the revision in force'), ...errors(400, 404) },
      },
    },
    async (request) => adminOf(request).latestRevision(ref(request.params)),
  );

  app.get<{ Params: RevisionParams }>(
    '/projects/:project/flags/:type/:name/revisions/:wtime',
    {
      schema: {
        summary: 'One revision, by its time',
        tags: ['admin'],
        params: revisionParams,
        response: { 200: answer(revisionViewSchema, 'the revision'), ...errors(400, 404) },
      },
    },
    async (request) => adminOf(request).getRevision(ref(request.params), request.params.wtime),
  );

  app.post<{ Params: FlagParams; Body: RollbackInput }>(
    '/projects/:project/flags/:type/:name/rollback',
    {
      schema: {
        summary: 'Roll back: republish an earlier revision as a new one that names its source (procedure 3)',
        tags: ['admin'],
        params: flagParams,
        body: rollbackBody,
        response: {
          201: answer(revisionViewSchema, 'the new revision: a copy of the earlier one, naming it in RollbackOf'),
          ...errors(400, 404, 409),
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await adminOf(request).rollback(ref(request.params), {
          ...request.body,
        }),
      ),
  );

  app.post<{ Params: FlagParams; Body: ArchiveInput }>(
    '/projects/:project/flags/:type/:name/archive',
    {
      schema: {
        summary: 'Archive a flag: evaluations answer "no flag data"; history stays, a rollback restores it',
        tags: ['admin'],
        params: flagParams,
        body: archiveBody,
        response: { 201: answer(revisionViewSchema, 'the archive revision'), ...errors(400, 404, 409) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await adminOf(request).archive(ref(request.params), {
          ...request.body,
        }),
      ),
  );

  app.get<{ Params: FlagParams; Querystring: { instance_id?: string } }>(
    '/projects/:project/flags/:type/:name/evaluate',
    {
      schema: {
        summary: "Evaluate the flag's revision in force for one instance id (not logged)",
        tags: ['admin'],
        params: flagParams,
        querystring: {
          type: 'object',
          properties: { instance_id: { type: 'string', description: 'the id to bucket, e.g. a user id' } },
        },
        response: {
          200: answer(evaluationViewSchema, 'the value, the rule that gave it (group) and the revision that answered'),
          ...errors(400, 404),
        },
      },
    },
    async (request) => adminOf(request).evaluate(ref(request.params), request.query.instance_id as string),
  );

  app.post<{ Params: FlagParams; Body: { context: unknown } }>(
    '/projects/:project/flags/:type/:name/evaluate',
    {
      schema: {
        summary: "Evaluate the flag's revision in force for a whole context: rules see its attributes (not logged)",
        tags: ['admin'],
        params: flagParams,
        body: contextBody,
        response: {
          200: answer(
            contextEvaluationViewSchema,
            'the value, the step that gave it (group), why (reason) and its variant',
          ),
          ...errors(400, 404),
        },
      },
    },
    async (request) => adminOf(request).evaluateContext(ref(request.params), request.body.context),
  );

  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post<{ Params: FlagParams; Body: ChangeInput }>(
      `/projects/:project/flags/:type/:name/${action}`,
      {
        schema: {
          summary: disabled
            ? 'Kill switch: disable the flag (a new revision with Disabled: true); evaluations answer ControlValue with reason DISABLED'
            : 'Enable a disabled flag again (a new revision without Disabled)',
          tags: ['admin'],
          params: flagParams,
          body: archiveBody,
          response: {
            201: answer(revisionViewSchema, `the new revision: the one in force, ${action}d`),
            ...errors(400, 404, 409),
          },
        },
      },
      async (request, reply) =>
        reply.code(201).send(
          await adminOf(request).setDisabled(ref(request.params), disabled, {
            ...request.body,
          }),
        ),
    );
  }

  app.post<{ Params: FlagParams; Body: MetadataInput }>(
    '/projects/:project/flags/:type/:name/metadata',
    {
      schema: {
        summary: "Change the flag's Metadata (a new revision: the one in force with the keys set or removed)",
        tags: ['admin'],
        params: flagParams,
        body: metadataBody,
        response: {
          201: answer(revisionViewSchema, 'the new revision, with the new Metadata'),
          ...errors(400, 404, 409),
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await adminOf(request).updateMetadata(ref(request.params), {
          ...request.body,
        }),
      ),
  );

  await app.register(segmentRoutes, { services });
  await app.register(scheduleRoutes, { services });
  await app.register(approvalRoutes, { services });
  await app.register(dashboardRoutes, { services });

  app.post<{ Body: { configs: unknown[] } }>(
    '/apply',
    {
      schema: {
        summary: "Write the runbook system's Airflow configs as its DAG did",
        description:
          'All configs are checked before any is written. On a store with atomic batches they are written all or none; ' +
          'otherwise one at a time, in order, and an error names the configs already written (they stay).',
        tags: ['admin'],
        body: applyBody,
        response: { 201: answer(applyResponse, 'the rows written, in order'), ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const configs: AirflowConfig[] = request.body.configs.map((config, i) =>
        parseAirflowConfig(JSON.stringify(config), `configs[${i}]`),
      );
      const rows = await adminOf(request).apply(
        configs,
        configs.map((_, i) => `configs[${i}]`),
      );
      return reply.code(201).send({ rows: rows.map(({ kind, key, wtime }) => ({ kind, key, wtime })) });
    },
  );
};
