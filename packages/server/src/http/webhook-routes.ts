import type { FastifyPluginAsync } from 'fastify';
import { actorOf } from '../access/access-control.js';
import { CHANGE_EVENT_TYPES } from '../change-events.js';
import { type WebhookInput, webhookView } from '../webhooks/webhook-config.js';
import { DELIVERIES_KEPT, DELIVERY_STATUSES, type DeliveryStatus } from '../webhooks/webhook-records.js';
import { rejectUnknownProperties, rejectUnknownQuery } from './admin-routes.js';
import { answer, errors, type ProjectParams, projectParams } from './admin-schemas.js';
import type { RouteOptions } from './services.js';

/**
 * Webhooks over the admin API (admin tokens only: a webhook names a URL the service
 * will POST to; see access-control.ts). The CLI's `vexil webhook` does the same on the
 * store. docs/webhooks.md says what a receiver gets.
 */

const webhookSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'wh_… (added here or with the CLI), env-N (VEXIL_WEBHOOKS, in order)' },
    url: { type: 'string' },
    project: { type: 'string', description: "only this project's changes; absent: every project's" },
    events: { type: 'array', items: { type: 'string' }, description: 'only these event types; absent: every type' },
    description: { type: 'string' },
    createdTime: { type: 'string' },
    createdBy: { type: 'string' },
    source: { type: 'string', enum: ['store', 'env'] },
  },
} as const;

const deliverySchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'dlv_…: the Vexil-Delivery header and the body’s id' },
    webhookId: { type: 'string' },
    url: { type: 'string' },
    event: { type: 'string' },
    project: { type: 'string' },
    flagType: { type: 'string' },
    flag: { type: 'string' },
    revision: { type: ['string', 'null'] },
    createdTime: { type: 'string' },
    status: {
      type: 'string',
      enum: [...DELIVERY_STATUSES],
      description:
        'pending: a retry is due at nextAttemptTime; delivered: a 2xx answer; failed: every attempt failed; abandoned: the service stopped first',
    },
    attempts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          time: { type: 'string' },
          status: { type: 'integer', description: "the receiver's HTTP status, when it answered" },
          error: { type: 'string' },
          durationMs: { type: 'number' },
        },
      },
    },
    nextAttemptTime: { type: 'string' },
  },
} as const;

const inputProperties = {
  url: { type: 'string', description: 'http or https; no user name or password' },
  secret: {
    type: 'string',
    description: 'the HMAC key, 16 to 200 characters; left out, a random one is made and answered once',
  },
  events: {
    type: 'array',
    items: { type: 'string' },
    description: `only these event types (every type when left out): ${CHANGE_EVENT_TYPES.join(', ')}`,
  },
  description: { type: 'string' },
} as const;

const addedSchema = {
  type: 'object',
  properties: {
    webhook: webhookSchema,
    secret: { type: 'string', description: 'the key that signs its deliveries: shown this once' },
  },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;

export const webhookRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { webhooks, webhookDispatcher, admin } = services;
  app.addHook('preValidation', async (request) => {
    rejectUnknownQuery(request);
    rejectUnknownProperties(request);
  });

  const add = async (input: WebhookInput, request: Parameters<typeof actorOf>[0]) => {
    if (typeof input.project === 'string') await admin.requireProject(input.project);
    return webhooks.add(input, actorOf(request));
  };

  app.get<{ Querystring: { project?: string } }>(
    '/webhooks',
    {
      schema: {
        summary: 'Every webhook, those of VEXIL_WEBHOOKS first; never a secret (vexil webhook list)',
        tags: ['webhooks'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { project: { type: 'string', description: 'only the webhooks of this project' } },
        },
        response: {
          200: { type: 'array', items: webhookSchema, description: 'the webhooks, never a secret' },
          ...errors(400),
        },
      },
    },
    async (request) => webhooks.views(request.query.project),
  );

  app.post<{ Body: WebhookInput }>(
    '/webhooks',
    {
      schema: {
        summary:
          'Add a webhook: every change (of its project, of its event types) is POSTed to it, signed (vexil webhook add)',
        tags: ['webhooks'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            ...inputProperties,
            project: { type: 'string', description: 'only this project (every one when left out)' },
          },
        },
        response: { 201: answer(addedSchema, 'the webhook and its secret'), ...errors(400, 404) },
      },
    },
    async (request, reply) => reply.code(201).send(await add(request.body, request)),
  );

  app.get<{ Params: ProjectParams }>(
    '/projects/:project/webhooks',
    {
      schema: {
        summary: "A project's webhooks (not those of every project)",
        tags: ['webhooks'],
        params: projectParams,
        response: {
          200: { type: 'array', items: webhookSchema, description: 'the webhooks, never a secret' },
          ...errors(400),
        },
      },
    },
    async (request) => webhooks.views(request.params.project),
  );

  app.post<{ Params: ProjectParams; Body: Omit<WebhookInput, 'project'> }>(
    '/projects/:project/webhooks',
    {
      schema: {
        summary: "Add a webhook for a project's changes (vexil webhook add -p)",
        tags: ['webhooks'],
        params: projectParams,
        body: { type: 'object', additionalProperties: false, required: ['url'], properties: inputProperties },
        response: { 201: answer(addedSchema, 'the webhook and its secret'), ...errors(400, 404) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await add({ ...request.body, project: request.params.project }, request)),
  );

  app.get<{ Querystring: { webhook?: string; project?: string; status?: DeliveryStatus; limit?: number } }>(
    '/webhooks/deliveries',
    {
      schema: {
        summary: `The delivery log, newest first: each event sent to each webhook, with its attempts (the newest ${DELIVERIES_KEPT} are kept; vexil webhook deliveries)`,
        tags: ['webhooks'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            webhook: { type: 'string', description: 'only this webhook’s' },
            project: { type: 'string', description: 'only this project’s' },
            status: { type: 'string', enum: [...DELIVERY_STATUSES] },
            limit: {
              type: 'integer',
              description: `the newest this many (100 by default, at most ${DELIVERIES_KEPT})`,
            },
          },
        },
        response: { 200: { type: 'array', items: deliverySchema, description: 'newest first' }, ...errors(400) },
      },
    },
    async (request) => webhooks.deliveries(request.query),
  );

  app.get<{ Params: { id: string } }>(
    '/webhooks/:id',
    {
      schema: {
        summary: 'One webhook; never its secret',
        tags: ['webhooks'],
        params: idParams,
        response: { 200: answer(webhookSchema, 'the webhook'), ...errors(400, 404) },
      },
    },
    async (request) => webhookView(await webhooks.find(request.params.id)),
  );

  app.delete<{ Params: { id: string } }>(
    '/webhooks/:id',
    {
      schema: {
        summary: 'Remove a webhook: nothing more is sent to it (retries under way finish) (vexil webhook remove)',
        tags: ['webhooks'],
        params: idParams,
        response: { 200: answer(webhookSchema, 'the webhook removed'), ...errors(400, 404) },
      },
    },
    async (request) => webhooks.remove(request.params.id, actorOf(request)),
  );

  app.post<{ Params: { id: string } }>(
    '/webhooks/:id/ping',
    {
      schema: {
        summary:
          'Send a ping event to one webhook now, to check the receiver; answers the delivery after its first attempt (vexil webhook ping)',
        tags: ['webhooks'],
        params: idParams,
        response: { 200: answer(deliverySchema, 'the delivery'), ...errors(400, 404) },
      },
    },
    async (request) => webhookDispatcher.ping(await webhooks.find(request.params.id), actorOf(request).owner),
  );
};
