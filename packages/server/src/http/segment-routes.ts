import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { actorOf } from '../access/access-control.js';
import { type ArchiveInput, type RollbackInput, type SegmentInput, segmentRef } from '../flag-admin.js';
import {
  addSegmentBody,
  answer,
  archiveBody,
  errors,
  type ProjectParams,
  projectParams,
  rollbackBody,
  type SegmentParams,
  type SegmentRevisionParams,
  segmentParams,
  segmentRevisionBody,
  segmentRevisionParams,
  segmentRevisionViewSchema,
  segmentViewSchema,
  updateFlagBody,
} from './admin-schemas.js';
import type { RouteOptions } from './services.js';

/**
 * The admin API's segment routes (`/projects/{project}/segments/…`), in the style of
 * the flag routes: a segment is versioned like a flag. Registered by adminRoutes, whose
 * hooks (access control, unknown properties) they share.
 */
export const segmentRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  // Every procedure runs as the request's token owner: its writes record who did them.
  const adminOf = (request: FastifyRequest) => services.admin.actingAs(actorOf(request));
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
      adminOf(request).listSegments(request.params.project, {
        includeArchived: request.query.include_archived === true,
      }),
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
      return reply.code(201).send(await adminOf(request).addSegment(segmentRef(request.params.project, name), input));
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
    async (request) => adminOf(request).getSegment(segment(request.params)),
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
    async (request) =>
      adminOf(request).updateSegment(segment(request.params), { description: request.body.description }),
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
    async (request) => adminOf(request).segmentHistory(segment(request.params), request.query.limit),
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
      const view = await adminOf(request).updateSegment(segment(request.params), request.body);
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
    async (request) => adminOf(request).latestSegmentRevision(segment(request.params)),
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
    async (request) => adminOf(request).getSegmentRevision(segment(request.params), request.params.wtime),
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
        await adminOf(request).rollbackSegment(segment(request.params), {
          ...request.body,
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
        await adminOf(request).archiveSegment(segment(request.params), {
          ...request.body,
        }),
      ),
  );
};
