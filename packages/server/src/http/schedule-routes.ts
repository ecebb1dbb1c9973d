import { InvalidInputError } from '@vexil/core';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { actorOf } from '../access/access-control.js';
import type { RecordedActor, ScheduleStatus } from '../changes/change-records.js';
import { flagRef } from '../flag-admin.js';
import {
  errors,
  type FlagParams,
  flagParams,
  type ProjectParams,
  projectParams,
  revisionBody,
} from './admin-schemas.js';
import type { RouteOptions } from './services.js';

/**
 * The admin API's scheduled revisions (docs/change-management.md): made on a flag,
 * listed and cancelled on the project. Registered by adminRoutes, whose hooks (access
 * control, unknown properties) they share: POST and DELETE need write on the project,
 * GET read.
 */

const { expectedLatest: _ignored, ...scheduledRevisionProperties } = revisionBody.properties;

const scheduledRevisionBody = {
  ...revisionBody,
  properties: scheduledRevisionProperties,
  description:
    'the revision to write at the time, exactly as POST …/revisions takes it (checked now, with the same errors) but without expectedLatest',
} as const;

export const scheduleStatusSchema = {
  type: 'string',
  enum: ['pending', 'applied', 'cancelled', 'failed'],
} as const;

export const refSchema = {
  type: 'object',
  properties: { project: { type: 'string' }, flagType: { type: 'string' }, name: { type: 'string' } },
} as const;

export const recordedActorSchema = {
  type: 'object',
  properties: { owner: { type: 'string' }, tokenId: { type: 'string' } },
} as const;

export const scheduleSchema = {
  type: 'object',
  description: 'A scheduled revision',
  properties: {
    id: { type: 'string', description: 'sch_…: also the ScheduleID of the revision it writes' },
    ref: refSchema,
    at: { type: 'string', description: 'when it takes effect, as given (ISO 8601 with a zone)' },
    atMs: { type: 'number', description: 'the same, in milliseconds since the epoch' },
    revision: { type: 'object', additionalProperties: true, description: 'the revision it writes' },
    rampStep: {
      type: 'object',
      description: "a ramp's step: computed from the revision in force at its time",
      properties: {
        ramp: { type: 'string' },
        step: { type: 'integer' },
        percent: { type: 'number' },
        value: { type: 'boolean' },
      },
    },
    proposal: { type: 'string', description: 'the approved proposal it came from' },
    status: scheduleStatusSchema,
    createdBy: recordedActorSchema,
    createdTime: { type: 'string' },
    appliedWtime: { type: 'string', description: 'the revision written, once applied' },
    detail: { type: 'string', description: 'why it failed, or who cancelled it' },
    doneTime: { type: 'string' },
  },
} as const;

interface ScheduleParams extends ProjectParams {
  id: string;
}

const scheduleParams = {
  type: 'object',
  required: ['project', 'id'],
  properties: { ...projectParams.properties, id: { type: 'string', description: 'the schedule, sch_…' } },
} as const;

/** Names a property of the nested revision the revision route does not take (Fastify would drop it silently). */
export function rejectUnknownRevisionProperties(revision: unknown, path = 'revision'): void {
  if (typeof revision !== 'object' || revision === null || Array.isArray(revision)) return;
  if ('expectedLatest' in revision) {
    throw new InvalidInputError(
      `${path}.expectedLatest has no meaning here: the revision is written over whatever is in force when it takes effect; leave it out`,
      { field: `${path}.expectedLatest` },
    );
  }
  const allowed = Object.keys(revisionBody.properties);
  const unknown = Object.keys(revision).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `unknown propert${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((key) => JSON.stringify(key)).join(', ')} in ${path}; the allowed properties are ${allowed.filter((key) => key !== 'expectedLatest').join(', ')}`,
      { field: `${path}.${unknown[0]}` },
    );
  }
}

export function recordedActor(request: FastifyRequest): RecordedActor {
  const { owner, tokenId } = actorOf(request);
  return tokenId === undefined ? { owner } : { owner, tokenId };
}

export const scheduleRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { changes } = services;
  const ref = (params: FlagParams) => flagRef(params.project, params.type, params.name);

  app.post<{ Params: FlagParams; Body: { at: string; revision: Record<string, unknown> } }>(
    '/projects/:project/flags/:type/:name/schedules',
    {
      schema: {
        summary:
          'Schedule a revision: checked now as POST …/revisions checks it, written at `at` (exactly once, by any replica). Where the project requires approvals, this answers 403: propose it (POST …/proposals with kind schedule)',
        tags: ['admin'],
        params: flagParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['at', 'revision'],
          properties: {
            at: {
              type: 'string',
              description: 'when the revision takes effect: ISO 8601 with a zone, in the future',
              examples: ['2030-01-31T09:00:00+01:00'],
            },
            revision: scheduledRevisionBody,
          },
        },
        response: { 201: { ...scheduleSchema, description: 'the schedule, pending' }, ...errors(400, 404) },
      },
      // Before the schema's validation, which would drop a misspelt property of the revision silently.
      preValidation: async (request) =>
        rejectUnknownRevisionProperties((request.body as { revision?: unknown })?.revision),
    },
    async (request, reply) => {
      const flag = ref(request.params);
      await changes.approvals.refuseDirectChange(flag.project, 'schedule');
      return reply.code(201).send(await changes.schedules.create(flag, request.body, recordedActor(request)));
    },
  );

  app.get<{ Params: FlagParams; Querystring: { status?: ScheduleStatus } }>(
    '/projects/:project/flags/:type/:name/schedules',
    {
      schema: {
        summary: "A flag's scheduled revisions, soonest first",
        tags: ['admin'],
        params: flagParams,
        querystring: { type: 'object', properties: { status: scheduleStatusSchema } },
        response: {
          200: { type: 'array', items: scheduleSchema, description: 'the schedules, soonest first' },
          ...errors(400, 404),
        },
      },
    },
    async (request) => {
      const flag = ref(request.params);
      await services.admin.getFlag(flag);
      return changes.schedules.list(flag.project, { ref: flag, status: request.query.status });
    },
  );

  app.get<{ Params: ProjectParams; Querystring: { status?: ScheduleStatus } }>(
    '/projects/:project/schedules',
    {
      schema: {
        summary: "A project's scheduled revisions (ramps' steps too), soonest first",
        tags: ['admin'],
        params: projectParams,
        querystring: { type: 'object', properties: { status: scheduleStatusSchema } },
        response: {
          200: { type: 'array', items: scheduleSchema, description: 'the schedules, soonest first' },
          ...errors(400, 404),
        },
      },
    },
    async (request) => changes.schedules.list(request.params.project, { status: request.query.status }),
  );

  app.get<{ Params: ScheduleParams }>(
    '/projects/:project/schedules/:id',
    {
      schema: {
        summary: 'One scheduled revision',
        tags: ['admin'],
        params: scheduleParams,
        response: { 200: scheduleSchema, ...errors(400, 404) },
      },
    },
    async (request) => changes.schedules.get(request.params.project, request.params.id),
  );

  for (const [method, url] of [
    ['DELETE', '/projects/:project/schedules/:id'],
    ['POST', '/projects/:project/schedules/:id/cancel'],
  ] as const) {
    app.route<{ Params: ScheduleParams }>({
      method,
      url,
      schema: {
        summary: 'Cancel a pending scheduled revision (one already applied is undone by a rollback)',
        tags: ['admin'],
        params: scheduleParams,
        response: { 200: { ...scheduleSchema, description: 'the schedule, cancelled' }, ...errors(400, 404) },
      },
      handler: async (request) =>
        changes.schedules.cancel(request.params.project, request.params.id, recordedActor(request)),
    });
  }
};
