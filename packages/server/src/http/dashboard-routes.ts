import { assertProjectName, InvalidInputError } from '@vexil/core';
import type { FastifyPluginAsync, preValidationHookHandler } from 'fastify';
import { IMPACT_MAX_DAYS, IMPACT_MAX_ROWS, previewImpact } from '../change-impact.js';
import { ACTIVITY_MAX_MINUTES, ACTIVITY_MAX_ROWS, ACTIVITY_RECENT, flagActivity } from '../flag-activity.js';
import { flagRef, type RevisionInput } from '../flag-admin.js';
import { summarizeFlags } from '../flag-summaries.js';
import { findStaleFlags, STALE_DEFAULT_DAYS, STALE_MAX_DAYS } from '../stale-flags.js';
import {
  answer,
  errors,
  type FlagParams,
  flagParams,
  type ProjectParams,
  projectParams,
  revisionBody,
  revisionSchema,
} from './admin-schemas.js';
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

const groupValue = { description: "a value of the flag, or null (the caller's default)" } as const;

const impactSchema = {
  type: 'object',
  required: ['instances', 'changed', 'unchanged', 'transitions', 'since', 'truncated', 'rows'],
  properties: {
    instances: { type: 'integer', description: 'distinct instance ids in the log rows read' },
    changed: { type: 'integer', description: 'of them, those the draft would answer another value' },
    unchanged: { type: 'integer' },
    transitions: {
      type: 'array',
      description: 'every from → to pair where the group or the value changes, most instance ids first',
      items: {
        type: 'object',
        required: ['from', 'to', 'fromGroup', 'fromValue', 'toGroup', 'toValue', 'valueChanged', 'count'],
        properties: {
          from: { type: 'string', description: 'group (value) of their newest logged answer, e.g. control (false)' },
          to: { type: 'string', description: 'group (value) the draft would answer' },
          fromGroup: { type: 'string' },
          fromValue: groupValue,
          toGroup: { type: 'string' },
          toValue: groupValue,
          valueChanged: { type: 'boolean' },
          count: { type: 'integer' },
        },
      },
    },
    since: { ...wtimeText, description: 'the log was read from this time on (UTC)' },
    truncated: {
      type: 'boolean',
      description: `true: more than ${IMPACT_MAX_ROWS} rows were logged since then; the figures are of the first ${IMPACT_MAX_ROWS} read (by instance id)`,
    },
    rows: {
      type: 'object',
      description: 'the rows read, by source',
      properties: { served: { type: 'integer' }, reported: { type: 'integer' } },
    },
  },
} as const;

const DRAFT_FIELDS = Object.keys(revisionBody.properties);

/**
 * Names a draft's unknown fields: Fastify's Ajv would drop them silently inside the
 * body, and a misspelt `Treatment` must not pass for "no treatments" (as on the write route).
 */
const rejectUnknownDraftFields: preValidationHookHandler = (request, _reply, done) => {
  const draft = (request.body as { revision?: unknown } | undefined)?.revision;
  if (typeof draft === 'object' && draft !== null && !Array.isArray(draft)) {
    const unknown = Object.keys(draft).filter((key) => !DRAFT_FIELDS.includes(key));
    if (unknown.length > 0) {
      return done(
        new InvalidInputError(
          `unknown propert${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((key) => JSON.stringify(key)).join(', ')} in the draft revision; the allowed properties are ${DRAFT_FIELDS.join(', ')}`,
          { field: unknown[0] },
        ),
      );
    }
  }
  done();
};

/** A whole number from a query parameter (or a JSON body), from 1 to `max`; `fallback` when absent. */
function wholeNumber(value: unknown, field: string, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > max) {
    throw new InvalidInputError(`${field} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`, {
      field,
    });
  }
  return number;
}

const activitySchema = {
  type: 'object',
  required: ['perMinute', 'shares', 'cacheHitRate', 'recent', 'since', 'evaluations', 'truncated'],
  properties: {
    perMinute: {
      type: 'array',
      description: 'every minute of the window, oldest first, with its evaluations by rollout group',
      items: {
        type: 'object',
        properties: {
          minute: { type: 'string', description: "ISO 8601, UTC: the minute's start" },
          groups: { type: 'object', additionalProperties: { type: 'integer' } },
        },
      },
    },
    shares: {
      type: 'array',
      description:
        'each group configured by the revision in force or seen in the log: its share of the evaluations read, beside its percentage',
      items: {
        type: 'object',
        properties: {
          group: { type: 'string' },
          observed: { type: 'number', description: 'fraction 0–1 of the evaluations read' },
          configured: {
            type: ['number', 'null'],
            description:
              'percent 0–100 of the ids no override or rule catches; null for override and rule groups and groups the revision in force does not have',
          },
        },
      },
    },
    cacheHitRate: {
      type: ['number', 'null'],
      description:
        "of the served evaluations, the fraction answered from the service's flag cache; null when none was served",
    },
    recent: {
      type: 'array',
      description: `the newest ${ACTIVITY_RECENT} evaluations, newest first`,
      items: {
        type: 'object',
        properties: {
          requestId: { type: 'string' },
          instanceId: { type: 'string' },
          value: groupValue,
          group: { type: 'string' },
          time: wtimeText,
          source: { type: 'string', enum: ['served', 'reported'] },
        },
      },
    },
    since: { type: 'string', description: "ISO 8601: the window's first minute" },
    evaluations: { type: 'integer', description: 'log rows read (served and reported)' },
    truncated: {
      type: 'boolean',
      description: `true: more than ${ACTIVITY_MAX_ROWS} rows were logged in the window; the figures are of the first read (by instance id)`,
    },
  },
} as const;

const staleSchema = {
  type: 'object',
  required: ['project', 'days', 'flags'],
  properties: {
    project: { type: 'string' },
    days: { type: 'integer' },
    flags: {
      type: 'array',
      description: 'the flags with a hint, by type then name (archived flags are not listed)',
      items: {
        type: 'object',
        required: ['flagType', 'name', 'reasons', 'hints', 'lastEvaluated', 'cleanup'],
        properties: {
          flagType: { type: 'string' },
          name: { type: 'string' },
          reasons: { type: 'array', items: { type: 'string' }, description: 'the hints in words' },
          hints: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                kind: { type: 'string', enum: ['not-evaluated', 'one-value', 'expired'] },
                message: { type: 'string' },
              },
            },
          },
          lastEvaluated: { type: ['string', 'null'], description: 'UTC; null when never logged' },
          revision: { ...wtimeText, description: 'the revision in force' },
          owner: { type: 'string', description: 'Metadata.owner' },
          cleanup: {
            type: 'object',
            description: 'what to do about it, with the commands to run',
            properties: {
              action: { type: 'string', enum: ['make-permanent', 'remove', 'decide'] },
              message: { type: 'string' },
            },
          },
        },
      },
    },
  },
} as const;

function daysOf(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > IMPACT_MAX_DAYS) {
    throw new InvalidInputError(
      `days must be a whole number from 1 to ${IMPACT_MAX_DAYS}, got ${JSON.stringify(value)}`,
      { field: 'days' },
    );
  }
  return value;
}

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

  app.post<{ Params: FlagParams; Body: { revision: RevisionInput; days?: unknown } }>(
    '/projects/:project/flags/:type/:name/impact',
    {
      schema: {
        summary:
          'Change impact: what a draft revision would answer the instance ids seen in the evaluation log lately (nothing is written)',
        description:
          'The draft is checked exactly as POST …/revisions checks it (the same errors). Each instance id the log holds for the flag ' +
          'in the last `days` days (served and reported rows) is evaluated with the draft as /get-feature-flag would (the context ' +
          '{targetingKey: id}: rules on other attributes see none) and compared with its newest logged answer. ' +
          'A read token for the project may ask: it changes nothing.',
        tags: ['admin'],
        params: flagParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['revision'],
          properties: {
            revision: { ...revisionBody, description: 'the draft, exactly as POST …/revisions takes it' },
            days: {
              description: `how many days of the log to read: a whole number from 1 to ${IMPACT_MAX_DAYS} (1 by default)`,
            },
          },
        },
        response: { 200: answer(impactSchema, 'what the draft would change'), ...errors(400, 404) },
      },
      preValidation: rejectUnknownDraftFields,
    },
    async (request) => {
      const { project, type, name } = request.params;
      const ref = flagRef(project, type, name);
      const days = daysOf(request.body.days);
      return previewImpact(services.admin, store, ref, request.body.revision, days);
    },
  );

  app.get<{ Params: FlagParams; Querystring: { minutes?: string } }>(
    '/projects/:project/flags/:type/:name/activity',
    {
      schema: {
        summary:
          "A flag's evaluations of the last minutes, from the evaluation log: per minute by group, observed vs configured shares, cache-hit rate, the newest ones",
        tags: ['admin'],
        params: flagParams,
        querystring: {
          type: 'object',
          properties: {
            minutes: {
              type: 'string',
              description: `the window: a whole number of minutes from 1 to ${ACTIVITY_MAX_MINUTES} (60 by default)`,
            },
          },
        },
        response: { 200: answer(activitySchema, "the flag's recent evaluations"), ...errors(400, 404) },
      },
    },
    async (request) => {
      const { project, type, name } = request.params;
      const ref = flagRef(project, type, name);
      const minutes = wholeNumber(request.query.minutes, 'minutes', ACTIVITY_MAX_MINUTES, 60);
      await services.admin.getFlag(ref);
      return flagActivity(store, ref, minutes);
    },
  );

  app.get<{ Params: ProjectParams; Querystring: { days?: string } }>(
    '/projects/:project/stale',
    {
      schema: {
        summary:
          'Stale-flag hints: flags not evaluated for N days, answering one value for everybody for N days, or past their expiry date',
        tags: ['admin'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            days: {
              type: 'string',
              description: `N: a whole number of days from 1 to ${STALE_MAX_DAYS} (${STALE_DEFAULT_DAYS} by default)`,
            },
          },
        },
        response: { 200: answer(staleSchema, 'the flags with a hint'), ...errors(400, 404) },
      },
    },
    async (request) => {
      const { project } = request.params;
      assertProjectName(project);
      const days = wholeNumber(request.query.days, 'days', STALE_MAX_DAYS, STALE_DEFAULT_DAYS);
      const flags = await findStaleFlags(store, project, { days });
      if (flags === undefined) await services.admin.requireProject(project);
      return { project, days, flags: flags ?? [] };
    },
  );
};
