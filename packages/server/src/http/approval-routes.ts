import type { FastifyPluginAsync } from 'fastify';
import type { ProposalInput } from '../changes/approvals.js';
import type { ProposalStatus } from '../changes/change-records.js';
import { flagRef } from '../flag-admin.js';
import {
  errors,
  type FlagParams,
  flagParams,
  type ProjectParams,
  projectParams,
  revisionBody,
} from './admin-schemas.js';
import { recordedActor, recordedActorSchema, refSchema, rejectUnknownRevisionProperties } from './schedule-routes.js';
import type { RouteOptions } from './services.js';

/**
 * The admin API's ramps and approvals (docs/change-management.md). Registered by
 * adminRoutes, whose hooks (access control, unknown properties) they share; turning
 * approvals on or off is an admin's (…/approval-settings).
 */

const rampSchema = {
  type: 'object',
  description: 'A progressive ramp and its state',
  properties: {
    id: { type: 'string', description: 'rmp_…: also the RampID of the revisions it writes' },
    ref: refSchema,
    steps: { type: 'array', items: { type: 'number' } },
    everyHours: { type: 'number' },
    value: { type: 'boolean' },
    baseWtime: { type: 'string', description: 'the revision in force before the ramp: abort rolls back to it' },
    status: { type: 'string', enum: ['running', 'paused', 'aborted', 'completed'] },
    nextStep: { type: 'integer' },
    nextSchedule: { type: 'string' },
    applied: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          step: { type: 'integer' },
          percent: { type: 'number' },
          wtime: { type: 'string' },
          time: { type: 'string' },
        },
      },
    },
    createdBy: recordedActorSchema,
    createdTime: { type: 'string' },
    updatedTime: { type: 'string' },
    proposal: { type: 'string' },
    detail: { type: 'string' },
  },
} as const;

const proposalSchema = {
  type: 'object',
  description: 'A change waiting for (or given) another owner’s approval',
  properties: {
    id: { type: 'string' },
    ref: refSchema,
    change: { type: 'object', additionalProperties: true },
    basedOn: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['pending', 'approved', 'rejected', 'expired'] },
    proposedBy: recordedActorSchema,
    createdTime: { type: 'string' },
    expiresTime: { type: 'string' },
    decidedBy: recordedActorSchema,
    decidedTime: { type: 'string' },
    result: { type: 'string', description: 'the revision written (wtime), or the schedule or ramp started' },
    detail: { type: 'string' },
  },
} as const;

const rampPlanProperties = {
  steps: {
    type: 'array',
    items: { type: 'number' },
    description: 'percentages, increasing, each at most 100; [1, 5, 25, 100] by default',
  },
  everyHours: { type: 'number', description: 'hours between two steps' },
  value: { type: 'boolean', description: 'the value rolled out; true by default' },
} as const;

interface IdParams extends ProjectParams {
  id: string;
}
const idParams = (what: string) =>
  ({
    type: 'object',
    required: ['project', 'id'],
    properties: { ...projectParams.properties, id: { type: 'string', description: what } },
  }) as const;

export const approvalRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { changes } = services;
  const ref = (params: FlagParams) => flagRef(params.project, params.type, params.name);

  app.post<{ Params: FlagParams; Body: { steps?: number[]; everyHours: number; value?: boolean } }>(
    '/projects/:project/flags/:type/:name/ramps',
    {
      schema: {
        summary:
          'Start a ramp of a feature flag: Treatments[0].PercentRollout set to each step in turn, the first now, one every everyHours (403 where the project requires approvals: propose it with kind ramp)',
        tags: ['admin'],
        params: flagParams,
        body: { type: 'object', additionalProperties: false, required: ['everyHours'], properties: rampPlanProperties },
        response: { 201: { ...rampSchema, description: 'the ramp, running' }, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const flag = ref(request.params);
      await changes.approvals.refuseDirectChange(flag.project, 'ramp');
      return reply.code(201).send(await changes.ramps.start(flag, request.body, recordedActor(request)));
    },
  );

  app.get<{ Params: ProjectParams }>(
    '/projects/:project/ramps',
    {
      schema: {
        summary: "A project's ramps and their state",
        tags: ['admin'],
        params: projectParams,
        response: {
          200: { type: 'array', items: rampSchema, description: 'the ramps, oldest first' },
          ...errors(400, 404),
        },
      },
    },
    async (request) => changes.ramps.list(request.params.project),
  );

  app.get<{ Params: IdParams }>(
    '/projects/:project/ramps/:id',
    {
      schema: {
        summary: 'One ramp and its state',
        tags: ['admin'],
        params: idParams('the ramp, rmp_…'),
        response: { 200: rampSchema, ...errors(400, 404) },
      },
    },
    async (request) => changes.ramps.get(request.params.project, request.params.id),
  );

  for (const action of ['pause', 'resume', 'abort'] as const) {
    app.post<{ Params: IdParams }>(
      `/projects/:project/ramps/:id/${action}`,
      {
        schema: {
          summary: {
            pause: 'Pause a running ramp: its next step is cancelled; the flag keeps its percentage',
            resume: 'Resume a paused ramp: its next step one interval from now',
            abort: 'Abort a ramp: its next step is cancelled and the flag rolled back to the revision before the ramp',
          }[action],
          tags: ['admin'],
          params: idParams('the ramp, rmp_…'),
          response: { 200: { ...rampSchema, description: 'the ramp' }, ...errors(400, 404, 409) },
        },
      },
      async (request) => changes.ramps[action](request.params.project, request.params.id, recordedActor(request)),
    );
  }

  app.post<{ Params: FlagParams; Body: ProposalInput }>(
    '/projects/:project/flags/:type/:name/proposals',
    {
      schema: {
        summary:
          'Propose a change for another owner to approve: kind revision (now), schedule (at a time) or ramp; checked now as its direct route checks it',
        tags: ['admin'],
        params: flagParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['kind'],
          properties: {
            kind: { type: 'string', enum: ['revision', 'schedule', 'ramp'] },
            revision: {
              ...revisionBody,
              description:
                'kinds revision and schedule: the revision, as POST …/revisions takes it (no expectedLatest)',
            },
            at: { type: 'string', description: 'kind schedule: ISO 8601 with a zone' },
            ...rampPlanProperties,
          },
        },
        response: { 201: { ...proposalSchema, description: 'the proposal, pending' }, ...errors(400, 404) },
      },
      preValidation: async (request) =>
        rejectUnknownRevisionProperties((request.body as { revision?: unknown })?.revision),
    },
    async (request, reply) =>
      reply.code(201).send(await changes.approvals.propose(ref(request.params), request.body, recordedActor(request))),
  );

  app.get<{ Params: ProjectParams; Querystring: { status?: ProposalStatus } }>(
    '/projects/:project/proposals',
    {
      schema: {
        summary: "A project's proposals, newest first (pending ones past their time are expired)",
        tags: ['admin'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: { status: { type: 'string', enum: ['pending', 'approved', 'rejected', 'expired'] } },
        },
        response: {
          200: { type: 'array', items: proposalSchema, description: 'the proposals, newest first' },
          ...errors(400, 404),
        },
      },
    },
    async (request) => changes.approvals.list(request.params.project, request.query.status),
  );

  app.get<{ Params: IdParams }>(
    '/projects/:project/proposals/:id',
    {
      schema: {
        summary: 'One proposal',
        tags: ['admin'],
        params: idParams('the proposal, prp_…'),
        response: { 200: proposalSchema, ...errors(400, 404) },
      },
    },
    async (request) => changes.approvals.get(request.params.project, request.params.id),
  );

  app.post<{ Params: IdParams }>(
    '/projects/:project/proposals/:id/approve',
    {
      schema: {
        summary:
          'Approve a proposal (another owner than the proposer, with write on the project: 403 otherwise): it takes effect now (409 when the flag changed since it was proposed)',
        tags: ['admin'],
        params: idParams('the proposal, prp_…'),
        response: { 200: { ...proposalSchema, description: 'the proposal, approved' }, ...errors(400, 404, 409) },
      },
    },
    async (request) => changes.approvals.approve(request.params.project, request.params.id, recordedActor(request)),
  );

  app.post<{ Params: IdParams; Body: { reason?: string } }>(
    '/projects/:project/proposals/:id/reject',
    {
      schema: {
        summary: 'Reject a pending proposal (the proposer may withdraw their own)',
        tags: ['admin'],
        params: idParams('the proposal, prp_…'),
        body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string' } } },
        response: { 200: { ...proposalSchema, description: 'the proposal, rejected' }, ...errors(400, 404) },
      },
    },
    async (request) =>
      changes.approvals.reject(request.params.project, request.params.id, recordedActor(request), request.body.reason),
  );

  app.put<{ Params: ProjectParams; Body: { required: boolean; expiryHours?: number } }>(
    '/projects/:project/approval-settings',
    {
      schema: {
        summary: 'Require approvals for a project’s revisions, schedules and ramps, or not (admin)',
        tags: ['access'],
        params: projectParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['required'],
          properties: {
            required: { type: 'boolean' },
            expiryHours: {
              type: 'number',
              description: 'a proposal not approved within this many hours expires; 168 by default',
            },
          },
        },
        response: {
          200: { type: 'object', additionalProperties: true, description: 'the project’s settings' },
          ...errors(400, 404),
        },
      },
    },
    async (request) =>
      changes.approvals.setSettings(request.params.project, request.body, recordedActor(request), services.projects),
  );
};
