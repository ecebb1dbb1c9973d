import { InvalidInputError } from '@vexil/core';
import { type AirflowConfig, parseAirflowConfig } from '@vexil/core/runbook';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type ArchiveInput, flagRef, type RevisionInput, type RollbackInput } from '../flag-admin.js';
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

// ---------------------------------------------------------------- schemas

const errorDescriptions = {
  400: 'Refused input: the message says what to fix and field names the parameter at fault; nothing was written',
  404: 'No such project (ProjectNotFound, with known_projects), flag (EmptyFlagDataException) or revision (RevisionNotFound)',
  409: 'The flag already exists (FlagExists)',
  500: 'An unexpected error, or a stored row that does not validate (ValidationError)',
  503: 'The store cannot be reached',
} as const;

/** The error answers a route can give besides 500 and 503: 400 bad input, 404 no such flag / revision, 409 exists. */
function errors(...statuses: (400 | 404 | 409)[]) {
  const answers: Record<string, { $ref: 'VexilError#'; description: string }> = {};
  for (const status of [...statuses, 500, 503] as const) {
    answers[status] = { $ref: 'VexilError#', description: errorDescriptions[status] };
  }
  return answers;
}

const projectParam = { type: 'string', description: 'the project, e.g. csr-assistant' } as const;
const typeParam = {
  type: 'string',
  description: 'flag type: feature (boolean values) or data (string values)',
  examples: ['feature'],
} as const;
const nameParam = {
  type: 'string',
  description: 'flag name: lower-case letters, digits and underscores',
  examples: ['multi_step_api_router'],
} as const;
const wtimeDescription = 'a revision time, UTC YYYY-MM-DD HH:MM:SS.ffffff, as history lists it';

const projectParams = {
  type: 'object',
  required: ['project'],
  properties: { project: projectParam },
} as const;

const flagParams = {
  type: 'object',
  required: ['project', 'type', 'name'],
  properties: { project: projectParam, type: typeParam, name: nameParam },
} as const;

const revisionParams = {
  type: 'object',
  required: ['project', 'type', 'name', 'wtime'],
  properties: {
    project: projectParam,
    type: typeParam,
    name: nameParam,
    wtime: { type: 'string', description: wtimeDescription, examples: ['2026-11-21 09:15:28.248896'] },
  },
} as const;

/*
 * Revision fields. Values, treatments and percentages carry no `type`: the flag's
 * type decides what a value must be, and core reports a wrong one with its path
 * (`Treatments[0].Value`). Stored rows written by other tools are shown as they are
 * (history is lenient), so the response schema must not coerce or reject them either.
 */
const valueDescription = 'true/false for a feature flag, a string for a data flag';
const treatmentsSchema = {
  description:
    'Treatments in order, each {OverrideList: [instance id, …], PercentRollout: percent 0–100 with at most two decimals, Value}. ' +
    `Override lists are checked first; then the first treatment whose cumulative percentage holds the id's hash gives its Value. Value: ${valueDescription}. The percentages add up to at most 100.`,
  examples: [[{ OverrideList: ['A12345'], PercentRollout: 40, Value: true }]],
} as const;
const controlValueSchema = {
  description: `the value for everybody outside the treatments: ${valueDescription}`,
  examples: [false],
} as const;
const hashAlgorithmSchema = {
  type: 'string',
  description: 'hash for the percentage rollout: md5 (default), sha1 or sha256',
} as const;

const revisionSchema = {
  type: 'object',
  description: 'A REVISION row: the rules in force from its CreatedTime until a newer revision.',
  additionalProperties: true,
  properties: {
    Name: { type: 'string' },
    Type: { type: 'string', description: 'FEATURE or DATA' },
    FormatVersion: { description: 'a whole number, 1' },
    ControlValue: controlValueSchema,
    Treatments: treatmentsSchema,
    Comment: { type: 'string' },
    OwnerID: { type: 'string' },
    CreatedTime: { type: 'string', description: 'equal to the row time (wtime)' },
    HashAlgorithm: hashAlgorithmSchema,
    Salt: { type: 'string', description: 'hashed as Salt:instanceId; absent on rows that hash the bare id' },
    RollbackOf: { type: 'string', description: 'the wtime of the revision a rollback republished' },
    Archived: { description: 'true on an archive revision: evaluations answer "no flag data"' },
  },
} as const;

const revisionViewSchema = {
  type: 'object',
  required: ['project', 'flagType', 'name', 'wtime', 'revision'],
  properties: {
    project: { type: 'string' },
    flagType: { type: 'string', description: 'feature or data' },
    name: { type: 'string' },
    wtime: { type: 'string', description: 'the row time, which names the revision (for rollback and diffs)' },
    revision: revisionSchema,
  },
} as const;

const flagViewSchema = {
  type: 'object',
  required: ['project', 'flagType', 'name', 'wtime', 'metadata', 'archived'],
  properties: {
    project: { type: 'string' },
    flagType: { type: 'string', description: 'feature or data' },
    name: { type: 'string' },
    wtime: { type: 'string', description: 'the time of the newest FLAG row' },
    metadata: {
      type: 'object',
      description: "A FLAG row: the flag's metadata.",
      additionalProperties: true,
      properties: {
        Name: { type: 'string' },
        Type: { type: 'string', description: 'FEATURE or DATA' },
        Description: { type: 'string' },
        CreatedTime: { type: 'string' },
      },
    },
    archived: { type: 'boolean', description: 'the revision in force is an archive revision' },
    latestRevision: { ...revisionViewSchema, description: 'the revision in force, if any' },
  },
} as const;

const evaluationViewSchema = {
  type: 'object',
  required: ['project', 'flagType', 'name', 'instanceId', 'value', 'group', 'revision'],
  properties: {
    project: { type: 'string' },
    flagType: { type: 'string' },
    name: { type: 'string' },
    instanceId: { type: 'string' },
    value: { anyOf: [{ type: 'boolean' }, { type: 'string' }] },
    group: {
      type: 'string',
      description: 'control, treatment, override; numbered (treatment-2) with several treatments',
    },
    revision: { type: 'string', description: 'the wtime of the revision that answered' },
  },
} as const;

const ownerComment = {
  OwnerID: { type: 'string', description: 'who made the change' },
  Comment: { type: 'string', description: 'why' },
} as const;

/** Rollback and archive record the caller, never the owner of the revision they copy. */
const callerOwnerComment = {
  ...ownerComment,
  OwnerID: {
    type: 'string',
    description: 'who made the change; "admin-api" when not given (until API tokens name the caller)',
  },
} as const;

const addFlagBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type'],
  properties: {
    name: nameParam,
    type: typeParam,
    description: { type: 'string', description: 'what the flag is for' },
  },
} as const;

const updateFlagBody = {
  type: 'object',
  additionalProperties: false,
  required: ['description'],
  properties: { description: { type: 'string', description: 'the new description' } },
} as const;

const revisionBody = {
  type: 'object',
  additionalProperties: false,
  required: ['ControlValue'],
  properties: {
    ControlValue: controlValueSchema,
    Treatments: treatmentsSchema,
    ...ownerComment,
    HashAlgorithm: hashAlgorithmSchema,
    Salt: {
      type: ['string', 'null'],
      description:
        'hash salt; by default the flag name, so two flags’ 10 % rollouts reach different ids. null hashes the bare id, as the runbook system did',
    },
    FormatVersion: { type: 'integer', description: 'the revision format, 1 (the default)' },
  },
} as const;

const rollbackBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    to: {
      type: 'string',
      description: `the revision to republish (${wtimeDescription}); by default the one before the newest`,
    },
    ...callerOwnerComment,
  },
} as const;

const archiveBody = { type: 'object', additionalProperties: false, properties: callerOwnerComment } as const;

const applyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['configs'],
  properties: {
    configs: {
      type: 'array',
      minItems: 1,
      description:
        "The runbook system's Airflow configs, unchanged: each {row_key_prefix_PROJECT, row_key_prefix_ROWTYPE (FLAG or REVISION), " +
        'row_key_prefix_FLAGTYPE, row_key_prefix_FLAGNAME, row_cell_value (a Python dict literal), add_new_feature_flag}. ' +
        'Written exactly as its DAG wrote them (no Salt); all or nothing where the store has atomic batches (see the route).',
      examples: [
        [
          {
            row_key_prefix_PROJECT: 'csr-assistant',
            row_key_prefix_ROWTYPE: 'FLAG',
            row_key_prefix_FLAGTYPE: 'feature',
            row_key_prefix_FLAGNAME: 'multi_step_api_router',
            row_cell_value:
              "{ 'Name': 'multi_step_api_router', 'Description': 'Enable multi step API router', 'Type': 'FEATURE' }",
            add_new_feature_flag: true,
          },
        ],
      ],
    },
  },
} as const;

const applyResponse = {
  type: 'object',
  required: ['rows'],
  properties: {
    rows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kind', 'key', 'wtime'],
        properties: {
          kind: { type: 'string', description: 'FLAG or REVISION' },
          key: { type: 'string', description: "the row key in the runbook system's layout" },
          wtime: { type: 'string' },
        },
      },
    },
  },
} as const;

/** A success response schema with its description for the OpenAPI document. */
function answer<S extends object>(schema: S, description: string): S & { description: string } {
  return { ...schema, description };
}

// ---------------------------------------------------------------- request types

interface ProjectParams {
  project: string;
}
interface FlagParams extends ProjectParams {
  type: string;
  name: string;
}
interface RevisionParams extends FlagParams {
  wtime: string;
}

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
function rejectUnknownProperties(request: FastifyRequest): void {
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
function rejectUnknownQuery(request: FastifyRequest): void {
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

/**
 * Who a change through the API is recorded as when the body names nobody. Until API
 * tokens exist (their owner will be the caller) the API cannot tell who calls it, and
 * copying the previous revision's owner would name someone who did not make the change.
 */
export const ADMIN_API_OWNER = 'admin-api';

// ---------------------------------------------------------------- routes

export const adminRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { admin } = services;

  app.addHook('onRequest', async (_request) => {
    // The one place for access control on the admin API: API-token scope checks
    // (read / write per project / admin) go here, before any route runs. No auth yet.
  });
  app.addHook('preValidation', async (request) => {
    rejectUnknownQuery(request);
    rejectUnknownProperties(request);
  });

  const ref = (params: FlagParams) => flagRef(params.project, params.type, params.name);

  app.get<{ Params: ProjectParams }>(
    '/projects/:project/doctor',
    {
      schema: {
        summary: 'Check every row of a project and list those that do not validate (vexil doctor)',
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
            },
          },
          ...errors(400, 404),
        },
      },
    },
    async (request) => admin.doctor(request.params.project),
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
      admin.listFlags(request.params.project, {
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
      const view = await admin.addFlag(flagRef(request.params.project, type, name), { description });
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
    async (request) => admin.getFlag(ref(request.params)),
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
    async (request) => admin.updateFlag(ref(request.params), { description: request.body.description }),
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
    async (request) => admin.history(ref(request.params), request.query.limit),
  );

  app.post<{ Params: FlagParams; Body: RevisionInput }>(
    '/projects/:project/flags/:type/:name/revisions',
    {
      schema: {
        summary: 'Add a revision: new rules in force from now (procedure 2)',
        tags: ['admin'],
        params: flagParams,
        body: revisionBody,
        response: { 201: answer(revisionViewSchema, 'the new revision, in force from now'), ...errors(400, 404) },
      },
    },
    async (request, reply) => reply.code(201).send(await admin.addRevision(ref(request.params), request.body)),
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
    async (request) => admin.latestRevision(ref(request.params)),
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
    async (request) => admin.getRevision(ref(request.params), request.params.wtime),
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
          ...errors(400, 404),
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await admin.rollback(ref(request.params), {
          ...request.body,
          OwnerID: request.body.OwnerID ?? ADMIN_API_OWNER,
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
        response: { 201: answer(revisionViewSchema, 'the archive revision'), ...errors(400, 404) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await admin.archive(ref(request.params), {
          ...request.body,
          OwnerID: request.body.OwnerID ?? ADMIN_API_OWNER,
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
    async (request) => admin.evaluate(ref(request.params), request.query.instance_id as string),
  );

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
      const rows = await admin.apply(
        configs,
        configs.map((_, i) => `configs[${i}]`),
      );
      return reply.code(201).send({ rows: rows.map(({ kind, key, wtime }) => ({ kind, key, wtime })) });
    },
  );
};
