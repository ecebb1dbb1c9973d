import {
  CONDITION_OPERATORS,
  describeFlagTypes,
  FLAG_NAME_RULE,
  InvalidInputError,
  METADATA_KEYS,
  VALUE_FLAG_TYPES,
} from '@vexil/core';
import { type AirflowConfig, parseAirflowConfig } from '@vexil/core/runbook';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  type ArchiveInput,
  type ChangeInput,
  flagRef,
  type MetadataInput,
  type RevisionInput,
  type RollbackInput,
  type SegmentInput,
  segmentRef,
} from '../flag-admin.js';
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
  404: 'No such project (ProjectNotFound, with known_projects), flag or segment (EmptyFlagDataException) or revision (RevisionNotFound)',
  409: 'The flag or segment already exists (FlagExists)',
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
  description: `flag type: ${describeFlagTypes(VALUE_FLAG_TYPES)}`,
  examples: ['feature'],
} as const;
const nameParam = {
  type: 'string',
  description: `flag name: ${FLAG_NAME_RULE}`,
  examples: ['multi_step_api_router'],
} as const;
const segmentNameParam = {
  type: 'string',
  description: `segment name: ${FLAG_NAME_RULE}`,
  examples: ['beta-testers'],
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

const segmentParams = {
  type: 'object',
  required: ['project', 'name'],
  properties: { project: projectParam, name: segmentNameParam },
} as const;

const segmentRevisionParams = {
  type: 'object',
  required: ['project', 'name', 'wtime'],
  properties: {
    project: projectParam,
    name: segmentNameParam,
    wtime: { type: 'string', description: 'a revision time, UTC YYYY-MM-DD HH:MM:SS.ffffff, as history lists it' },
  },
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
const valueDescription =
  'true/false for a feature flag, a string for a data flag, a number for a number flag, a JSON object or array for a json flag; null: no value, the caller uses its default';
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
const conditionsDescription =
  `Conditions, all of which must hold: each {Attribute, Operator, Values}. Operators: ${CONDITION_OPERATORS.join(', ')}. ` +
  'A missing or wrongly typed attribute makes a condition not hold.';
const segmentOperatorsDescription =
  'in_segment / not_in_segment name segments of the project (their Attribute is targetingKey).';
const variantsSchema = {
  description: `names for the revision's values, {name: value}; every value the revision gives must then be one of them (or null). Value: ${valueDescription}`,
  examples: [{ on: true, off: false }],
} as const;
const rulesSchema = {
  description:
    'Targeting rules, evaluated in order after the override lists and before the percentage rollout: each {Conditions, Value} or ' +
    '{Conditions, Split: [{Percent, Value}, …]} (percentages with at most two decimals adding up to 100). ' +
    `${conditionsDescription} ${segmentOperatorsDescription} A rule naming a segment the project does not have, or has archived, is refused.`,
  examples: [
    [
      {
        Conditions: [
          { Attribute: 'country', Operator: 'in', Values: ['DE', 'FR'] },
          { Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta-testers'] },
        ],
        Value: true,
      },
    ],
  ],
} as const;
const disabledSchema = {
  description: 'the kill switch: true answers ControlValue (reason DISABLED; OFREP answers the caller its default)',
} as const;
const metadataSchema = {
  description: `free key/values (strings, numbers, booleans); known keys: ${METADATA_KEYS.owner} (the owning team), ${METADATA_KEYS.ticket} (the removal ticket), ${METADATA_KEYS.expires} (YYYY-MM-DD, UTC: vexil doctor and /metrics report the flag after that day)`,
  examples: [{ owner: 'team-checkout', ticket: 'https://jira.example.com/CHK-12', expires: '2027-03-31' }],
} as const;
const flagModelFields = {
  Variants: variantsSchema,
  Rules: rulesSchema,
  Disabled: disabledSchema,
  Metadata: metadataSchema,
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
    Type: { type: 'string', description: 'FEATURE, DATA, NUMBER or JSON' },
    FormatVersion: {
      description: '1 for the runbook format; 2 when the revision uses the flag model (docs/flag-model.md)',
    },
    ControlValue: controlValueSchema,
    Treatments: treatmentsSchema,
    Comment: { type: 'string' },
    OwnerID: { type: 'string' },
    CreatedTime: { type: 'string', description: 'equal to the row time (wtime)' },
    HashAlgorithm: hashAlgorithmSchema,
    Salt: { type: 'string', description: 'hashed as Salt:instanceId; absent on rows that hash the bare id' },
    RollbackOf: { type: 'string', description: 'the wtime of the revision a rollback republished' },
    Archived: { description: 'true on an archive revision: evaluations answer "no flag data"' },
    ...flagModelFields,
  },
} as const;

const revisionViewSchema = {
  type: 'object',
  required: ['project', 'flagType', 'name', 'wtime', 'revision'],
  properties: {
    project: { type: 'string' },
    flagType: { type: 'string', description: VALUE_FLAG_TYPES.join(', ') },
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
    flagType: { type: 'string', description: VALUE_FLAG_TYPES.join(', ') },
    name: { type: 'string' },
    wtime: { type: 'string', description: 'the time of the newest FLAG row' },
    metadata: {
      type: 'object',
      description: "A FLAG row: the flag's metadata.",
      additionalProperties: true,
      properties: {
        Name: { type: 'string' },
        Type: { type: 'string', description: 'FEATURE, DATA, NUMBER or JSON' },
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
    value: { description: `the value: ${valueDescription}` },
    group: {
      type: 'string',
      description:
        'control, treatment, override (numbered, treatment-2, with several treatments), rule-N, rule-N-split-M or disabled',
    },
    revision: { type: 'string', description: 'the wtime of the revision that answered' },
  },
} as const;

const contextEvaluationViewSchema = {
  type: 'object',
  required: ['project', 'flagType', 'name', 'context', 'value', 'group', 'reason', 'revision'],
  properties: {
    project: { type: 'string' },
    flagType: { type: 'string' },
    name: { type: 'string' },
    context: { type: 'object', additionalProperties: true, description: 'the context evaluated' },
    value: evaluationViewSchema.properties.value,
    group: evaluationViewSchema.properties.group,
    reason: { type: 'string', description: 'STATIC, DEFAULT, TARGETING_MATCH, SPLIT or DISABLED (as OFREP answers)' },
    variant: {
      type: 'string',
      description: "the value's name in the revision's Variants, else the group; absent for a null value",
    },
    revision: evaluationViewSchema.properties.revision,
  },
} as const;

const segmentRevisionSchema = {
  type: 'object',
  description: 'A segment REVISION row: the audience from its CreatedTime on.',
  additionalProperties: true,
  properties: {
    Name: { type: 'string' },
    Type: { type: 'string', description: 'SEGMENT' },
    FormatVersion: { description: '2' },
    Included: { description: 'targeting keys always in the segment (unless excluded)' },
    Excluded: { description: 'targeting keys never in the segment' },
    Conditions: { description: `${conditionsDescription} Segment operators are not allowed here.` },
    Comment: { type: 'string' },
    OwnerID: { type: 'string' },
    CreatedTime: { type: 'string' },
    RollbackOf: { type: 'string' },
    Archived: { description: 'true on an archive revision: the segment has no members' },
  },
} as const;

const segmentRevisionViewSchema = {
  type: 'object',
  required: ['project', 'flagType', 'name', 'wtime', 'revision'],
  properties: {
    project: { type: 'string' },
    flagType: { type: 'string', description: 'segment' },
    name: { type: 'string' },
    wtime: { type: 'string', description: 'the row time, which names the revision (for rollback and diffs)' },
    revision: segmentRevisionSchema,
  },
} as const;

const segmentViewSchema = {
  type: 'object',
  required: ['project', 'name', 'wtime', 'archived'],
  properties: {
    project: { type: 'string' },
    name: { type: 'string' },
    wtime: { type: 'string', description: 'the time of the newest FLAG row' },
    description: { type: 'string' },
    archived: { type: 'boolean', description: 'the revision in force is an archive revision (no members)' },
    latestRevision: { ...segmentRevisionViewSchema, description: 'the revision in force' },
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
    ...flagModelFields,
    Metadata: {
      ...metadataSchema,
      description: `${metadataSchema.description}. The revision is written as given: without Metadata it has none (POST …/metadata changes the keys alone)`,
    },
    ...ownerComment,
    HashAlgorithm: hashAlgorithmSchema,
    Salt: {
      type: ['string', 'null'],
      description:
        'hash salt; by default the flag name, so two flags’ 10 % rollouts reach different ids. null hashes the bare id, as the runbook system did',
    },
    FormatVersion: {
      type: 'integer',
      description: 'the revision format, at least this: 1 by default, 2 whenever the revision uses the flag model',
    },
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

const metadataBody = {
  type: 'object',
  additionalProperties: false,
  required: ['Metadata'],
  properties: {
    Metadata: {
      ...metadataSchema,
      description: `the keys to change, as a JSON merge patch: a value sets the key, null removes it. ${metadataSchema.description}`,
      examples: [{ expires: '2027-06-30', ticket: null }],
    },
    ...callerOwnerComment,
  },
} as const;

const contextBody = {
  type: 'object',
  additionalProperties: false,
  required: ['context'],
  properties: {
    context: {
      description:
        'the evaluation context: targetingKey (the id overrides and percentages use; needed only where they decide) and any attributes the rules name',
      examples: [{ targetingKey: 'A123456', country: 'DE', plan: 'pro' }],
    },
  },
} as const;

const segmentParts = {
  Included: { description: 'targeting keys always in the segment (unless excluded); [] clears the list' },
  Excluded: { description: 'targeting keys never in the segment; [] clears the list' },
  Conditions: {
    description: `for everyone else, conditions that must all hold; [] clears them. ${conditionsDescription} Segment operators are not allowed.`,
    examples: [[{ Attribute: 'email', Operator: 'ends_with', Values: ['@example.com'] }]],
  },
} as const;

const addSegmentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: segmentNameParam,
    description: { type: 'string', description: 'what the segment is' },
    ...segmentParts,
    ...ownerComment,
  },
} as const;

const segmentRevisionBody = {
  type: 'object',
  additionalProperties: false,
  properties: { ...segmentParts, ...ownerComment },
} as const;

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
interface SegmentParams extends ProjectParams {
  name: string;
}
interface SegmentRevisionParams extends SegmentParams {
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
                  'present when any: conditions of revisions in force naming a segment the project does not have (unknown) or has archived',
                items: {
                  type: 'object',
                  properties: {
                    flagType: { type: 'string' },
                    name: { type: 'string' },
                    revision: { type: 'string' },
                    key: { type: 'string' },
                    segment: { type: 'string' },
                    state: { type: 'string', description: 'unknown or archived' },
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
    async (request) => admin.evaluateContext(ref(request.params), request.body.context),
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
            ...errors(400, 404),
          },
        },
      },
      async (request, reply) =>
        reply.code(201).send(
          await admin.setDisabled(ref(request.params), disabled, {
            ...request.body,
            OwnerID: request.body.OwnerID ?? ADMIN_API_OWNER,
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
        response: { 201: answer(revisionViewSchema, 'the new revision, with the new Metadata'), ...errors(400, 404) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await admin.updateMetadata(ref(request.params), {
          ...request.body,
          OwnerID: request.body.OwnerID ?? ADMIN_API_OWNER,
        }),
      ),
  );

  // ---------------------------------------------------------------- segments

  const segment = (params: SegmentParams) => segmentRef(params.project, params.name);

  app.get<{ Params: ProjectParams; Querystring: { include_archived?: boolean } }>(
    '/projects/:project/segments',
    {
      schema: {
        summary: 'List the segments of a project (named audiences that rules refer to)',
        tags: ['admin'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: { include_archived: { type: 'boolean', description: 'include archived segments' } },
        },
        response: {
          200: {
            type: 'array',
            items: segmentViewSchema,
            description: 'the segments, by name, with their revision in force',
          },
          ...errors(400, 404),
        },
      },
    },
    async (request) =>
      admin.listSegments(request.params.project, { includeArchived: request.query.include_archived === true }),
  );

  app.post<{ Params: ProjectParams; Body: SegmentInput & { name: string } }>(
    '/projects/:project/segments',
    {
      schema: {
        summary: 'Add a segment: its name, description and first revision (its audience)',
        tags: ['admin'],
        params: projectParams,
        body: addSegmentBody,
        response: { 201: answer(segmentViewSchema, 'the new segment'), ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const { name, ...input } = request.body;
      return reply.code(201).send(await admin.addSegment(segmentRef(request.params.project, name), input));
    },
  );

  app.get<{ Params: SegmentParams }>(
    '/projects/:project/segments/:name',
    {
      schema: {
        summary: "A segment's description and the revision in force",
        tags: ['admin'],
        params: segmentParams,
        response: { 200: answer(segmentViewSchema, 'the segment'), ...errors(400, 404) },
      },
    },
    async (request) => admin.getSegment(segment(request.params)),
  );

  app.patch<{ Params: SegmentParams; Body: { description: string } }>(
    '/projects/:project/segments/:name',
    {
      schema: {
        summary: "Change a segment's description (a newer FLAG row)",
        tags: ['admin'],
        params: segmentParams,
        body: updateFlagBody,
        response: { 200: answer(segmentViewSchema, 'the segment with its new description'), ...errors(400, 404) },
      },
    },
    async (request) => admin.updateSegment(segment(request.params), { description: request.body.description }),
  );

  app.get<{ Params: SegmentParams; Querystring: { limit?: number } }>(
    '/projects/:project/segments/:name/revisions',
    {
      schema: {
        summary: "A segment's revisions, newest first",
        tags: ['admin'],
        params: segmentParams,
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', description: 'at most this many (a whole number, at least 1)' } },
        },
        response: {
          200: { type: 'array', items: segmentRevisionViewSchema, description: 'the revisions, newest first' },
          ...errors(400, 404),
        },
      },
    },
    async (request) => admin.segmentHistory(segment(request.params), request.query.limit),
  );

  app.post<{ Params: SegmentParams; Body: Omit<SegmentInput, 'description'> }>(
    '/projects/:project/segments/:name/revisions',
    {
      schema: {
        summary:
          'Change a segment: a new revision whose given parts (Included, Excluded, Conditions) replace those in force',
        tags: ['admin'],
        params: segmentParams,
        body: segmentRevisionBody,
        response: {
          201: answer(segmentRevisionViewSchema, 'the new revision, in force from now'),
          ...errors(400, 404),
        },
      },
    },
    async (request, reply) => {
      const view = await admin.updateSegment(segment(request.params), request.body);
      return reply.code(201).send(view.latestRevision);
    },
  );

  app.get<{ Params: SegmentParams }>(
    '/projects/:project/segments/:name/revisions/latest',
    {
      schema: {
        summary: "A segment's revision in force",
        tags: ['admin'],
        params: segmentParams,
        response: { 200: answer(segmentRevisionViewSchema, 'the revision in force'), ...errors(400, 404) },
      },
    },
    async (request) => admin.latestSegmentRevision(segment(request.params)),
  );

  app.get<{ Params: SegmentRevisionParams }>(
    '/projects/:project/segments/:name/revisions/:wtime',
    {
      schema: {
        summary: "One of a segment's revisions, by its time",
        tags: ['admin'],
        params: segmentRevisionParams,
        response: { 200: answer(segmentRevisionViewSchema, 'the revision'), ...errors(400, 404) },
      },
    },
    async (request) => admin.getSegmentRevision(segment(request.params), request.params.wtime),
  );

  app.post<{ Params: SegmentParams; Body: RollbackInput }>(
    '/projects/:project/segments/:name/rollback',
    {
      schema: {
        summary: 'Roll a segment back: republish an earlier revision as a new one that names its source',
        tags: ['admin'],
        params: segmentParams,
        body: rollbackBody,
        response: {
          201: answer(
            segmentRevisionViewSchema,
            'the new revision: a copy of the earlier one, naming it in RollbackOf',
          ),
          ...errors(400, 404),
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await admin.rollbackSegment(segment(request.params), {
          ...request.body,
          OwnerID: request.body.OwnerID ?? ADMIN_API_OWNER,
        }),
      ),
  );

  app.post<{ Params: SegmentParams; Body: ArchiveInput }>(
    '/projects/:project/segments/:name/archive',
    {
      schema: {
        summary: 'Archive a segment: it has no members from now on; history stays, a rollback restores it',
        tags: ['admin'],
        params: segmentParams,
        body: archiveBody,
        response: { 201: answer(segmentRevisionViewSchema, 'the archive revision'), ...errors(400, 404) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await admin.archiveSegment(segment(request.params), {
          ...request.body,
          OwnerID: request.body.OwnerID ?? ADMIN_API_OWNER,
        }),
      ),
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
