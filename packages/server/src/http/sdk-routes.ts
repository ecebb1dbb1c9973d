import cors from '@fastify/cors';
import {
  assertFlagName,
  assertProjectName,
  CHANGE_STREAM_EVENTS,
  type ChangeStreamReady,
  type FlagUpdate,
  formatValue,
  InvalidInputError,
  isValueOfType,
  isWTime,
  MAX_INSTANCE_ID_LENGTH,
  MAX_REPORTED_EVALUATIONS,
  MAX_REQUEST_ID_LENGTH,
  MAX_ROLLOUT_GROUP_LENGTH,
  type ProjectSnapshot,
  parseFlagType,
  parseWTime,
  type ResultValue,
  snapshotETag,
  VALUE_FLAG_TYPES,
  type ValueFlagType,
} from '@vexil/core';
import type { FastifyPluginAsync } from 'fastify';
import { nowWTime } from '../clock.js';
import type { ProjectSnapshots } from '../project-snapshots.js';
import { REPORT_REFUSAL_REASONS, ReportChecker, type ReportedEvaluation } from '../report-checks.js';
import { browserAccess } from './browser-access.js';
import { matchesETag } from './etag.js';
import { type EventStream, type EventStreams, sseFrame } from './event-streams.js';
import type { RouteOptions } from './services.js';

/**
 * The SDK protocol (docs/sdk-protocol.md): a project snapshot with ETag / 304, the
 * change stream (server-sent events) that keeps it current, and the reports of
 * evaluations made in process, written to the evaluation log and counted in the
 * metrics like /get-feature-flag's.
 */

export interface SdkRouteOptions extends RouteOptions {
  snapshots: ProjectSnapshots;
  streams: EventStreams;
}

// Snapshots and updates are immutable: each is serialized once, however many clients get it.
const snapshotBodies = new WeakMap<ProjectSnapshot, string>();
const changeFrames = new WeakMap<FlagUpdate, string>();

function snapshotJson(snapshot: ProjectSnapshot): string {
  let body = snapshotBodies.get(snapshot);
  if (body === undefined) {
    body = JSON.stringify(snapshot);
    snapshotBodies.set(snapshot, body);
  }
  return body;
}

function changeFrame(update: FlagUpdate): string {
  let frame = changeFrames.get(update);
  if (frame === undefined) {
    frame = sseFrame(CHANGE_STREAM_EVENTS.change, JSON.stringify(update), update.version);
    changeFrames.set(update, frame);
  }
  return frame;
}

// ---------------------------------------------------------------- schemas (for /docs)

const projectParams = {
  type: 'object',
  required: ['project'],
  properties: { project: { type: 'string', description: 'the project, e.g. csr-assistant' } },
} as const;

const flagSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    flagType: { type: 'string', description: 'feature, data, number, json, or segment (a segment the rules use)' },
    wtime: { type: 'string', description: 'the time of the newest revision' },
    revision: { type: 'object', additionalProperties: true, description: 'the newest revision exactly as stored' },
  },
} as const;

const snapshotSchema = {
  type: 'object',
  description:
    'Every flag and segment that has a revision, with its newest revision (archived ones included), by type then name. ' +
    'version (also the ETag) is a hash over each flag type, name and revision time.',
  properties: {
    project: { type: 'string' },
    version: { type: 'string' },
    flags: { type: 'array', items: flagSchema },
  },
} as const;

const reportSchema = {
  type: 'object',
  description: `Evaluations made in process: at most ${MAX_REPORTED_EVALUATIONS} per request.`,
  properties: {
    project: { type: 'string', description: 'the project of every evaluation' },
    evaluations: {
      type: 'array',
      items: {
        type: 'object',
        description:
          '{flagType, flagName, instanceId?, value, group, time?, revision?, requestId?}: instanceId left out for a context without a targeting key; ' +
          'value true/false for a feature flag, a string for a data flag, ' +
          "a number for a number flag, a JSON object or array for a json flag, or null (no value: the caller's default); " +
          'time (UTC YYYY-MM-DD HH:MM:SS.ffffff) defaults to when the report arrives, requestId to the report request id; ' +
          'revision (the WTIME of the revision evaluated) defaults to the newest. Only evaluations that the revision ' +
          'can answer (the flag exists, the group and value are ones it gives), at a time within a window of now, are logged',
      },
    },
  },
} as const;

// ---------------------------------------------------------------- evaluation reports

/** What a reported value must be, by flag type, for messages. */
const VALUE_OF_TYPE: Readonly<Record<ValueFlagType, string>> = {
  feature: 'true or false for a feature flag',
  data: 'a string for a data flag',
  number: 'a finite number for a number flag',
  json: 'a JSON object or array for a json flag',
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, field: string, max: number, what: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidInputError(`${field} is required: ${what}`, { field });
  }
  if (value.length > max) throw new InvalidInputError(`${field} is longer than ${max} characters`, { field });
  return value;
}

/** Checks a report's form and turns it into log entries; the first fault found is a 400 naming its field. */
function parseReport(body: unknown, requestId: string): { project: string; reports: ReportedEvaluation[] } {
  if (!isPlainObject(body)) {
    throw new InvalidInputError('the request body must be a JSON object: {"project": …, "evaluations": […]}', {
      field: 'body',
    });
  }
  const { project, evaluations } = body;
  assertProjectName(project, 'project');
  if (!Array.isArray(evaluations)) {
    throw new InvalidInputError('evaluations is required: a list of the evaluations made', { field: 'evaluations' });
  }
  if (evaluations.length > MAX_REPORTED_EVALUATIONS) {
    throw new InvalidInputError(
      `evaluations holds ${evaluations.length} entries, more than ${MAX_REPORTED_EVALUATIONS}: send them in several requests`,
      { field: 'evaluations' },
    );
  }
  const received = nowWTime();
  const reports = evaluations.map((item: unknown, i): ReportedEvaluation => {
    const at = `evaluations[${i}]`;
    if (!isPlainObject(item)) {
      throw new InvalidInputError(`${at} must be an object {flagType, flagName, instanceId, value, group}`, {
        field: at,
      });
    }
    // Segments are not evaluated, so they are never reported.
    const flagType = parseFlagType(item.flagType, `${at}.flagType`, VALUE_FLAG_TYPES) as ValueFlagType;
    assertFlagName(item.flagName, `${at}.flagName`);
    // Left out for an evaluation of a context without a targeting key (logged with an empty instance id).
    const instanceId =
      item.instanceId === undefined
        ? ''
        : text(item.instanceId, `${at}.instanceId`, MAX_INSTANCE_ID_LENGTH, 'the id that was evaluated');
    const value = item.value;
    if (value !== null && !isValueOfType(value, flagType)) {
      throw new InvalidInputError(`${at}.value must be ${VALUE_OF_TYPE[flagType]}, got ${formatValue(value)}`, {
        field: `${at}.value`,
      });
    }
    const group = text(
      item.group,
      `${at}.group`,
      MAX_ROLLOUT_GROUP_LENGTH,
      'the rollout group: control, treatment or override',
    );
    const time = item.time === undefined ? received : wtimeField(item.time, `${at}.time`);
    const revision = item.revision === undefined ? undefined : wtimeField(item.revision, `${at}.revision`);
    const id =
      item.requestId === undefined
        ? requestId
        : text(item.requestId, `${at}.requestId`, MAX_REQUEST_ID_LENGTH, 'the id of the request the evaluation served');
    const entry = {
      project,
      flagType,
      flagName: item.flagName,
      instanceId,
      requestId: id,
      time,
      value: value as ResultValue,
      group,
      cacheHit: true,
      reported: true,
    };
    return { entry, revision };
  });
  return { project, reports };
}

/** A UTC time YYYY-MM-DD HH:MM:SS.ffffff that is a calendar time, or a 400 naming the field. */
function wtimeField(value: unknown, field: string): string {
  if (typeof value === 'string' && isWTime(value)) {
    try {
      parseWTime(value);
      return value;
    } catch {
      // the form of a time, but no calendar time (month 13): said below
    }
  }
  throw new InvalidInputError(`${field} must be a UTC time YYYY-MM-DD HH:MM:SS.ffffff, got ${formatValue(value)}`, {
    field,
  });
}

// ---------------------------------------------------------------- routes

export const sdkRoutes: FastifyPluginAsync<SdkRouteOptions> = async (app, { services, snapshots, streams }) => {
  const { config, metrics, reportLog } = services;
  const checker = new ReportChecker(services.store, snapshots, {
    maxAgeSeconds: config.reportMaxAgeSeconds,
    maxAheadSeconds: config.reportMaxAheadSeconds,
    storeTimeoutMs: config.storeTimeoutMs,
  });
  const accepted = metrics.reports.labels('accepted');

  await app.register(cors, browserAccess(services.config));

  app.get<{ Params: { project: string } }>(
    '/projects/:project/snapshot',
    {
      schema: {
        summary:
          "A project's flags with their newest revisions, for in-process evaluation (ETag / If-None-Match → 304)",
        tags: ['sdk'],
        params: projectParams,
        response: {
          200: snapshotSchema,
          304: { description: 'Not modified: the client holds this version' },
          400: { $ref: 'VexilError#' },
          404: {
            $ref: 'VexilError#',
            description: 'ProjectNotFound: no such project; known_projects lists those there are',
          },
        },
      },
    },
    async (request, reply) => {
      const { project } = request.params;
      assertProjectName(project, 'project');
      const { snapshot } = await snapshots.read(project);
      // An empty snapshot may be a project that does not exist: say so rather than serve it as empty.
      if (snapshot.flags.length === 0) await services.admin.requireProject(project);
      const etag = snapshotETag(snapshot.version);
      reply.header('etag', etag).header('cache-control', 'no-cache');
      if (matchesETag(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(snapshotJson(snapshot));
    },
  );

  app.get<{ Params: { project: string }; Querystring: { version?: string } }>(
    '/projects/:project/stream',
    {
      schema: {
        summary: "The project's change stream (server-sent events): snapshot or ready on connect, then change events",
        tags: ['sdk'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            version: { type: 'string', description: 'the version the client holds (or send it as Last-Event-ID)' },
          },
        },
        response: {
          200: {
            description:
              'text/event-stream: `event: snapshot` (id: version, data: the snapshot) when the client version differs, ' +
              'else `event: ready` (data: {version}); then `event: change` (id: the new version, data: ' +
              '{project, flagType, name, wtime, revision, version}) for every change; `: keep-alive` comments',
          },
          400: { $ref: 'VexilError#' },
          404: {
            $ref: 'VexilError#',
            description: 'ProjectNotFound: no such project; known_projects lists those there are',
          },
        },
      },
    },
    async (request, reply) => {
      const { project } = request.params;
      assertProjectName(project, 'project');
      const lastEventId = request.headers['last-event-id'];
      const held = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : request.query.version;

      let stream: EventStream | undefined;
      const early: FlagUpdate[] = [];
      const { snapshot, unsubscribe } = await snapshots.subscribe(project, (update) => {
        if (stream === undefined) early.push(update);
        else stream.write(changeFrame(update));
      });
      if (snapshot.flags.length === 0) {
        try {
          await services.admin.requireProject(project);
        } catch (error) {
          unsubscribe();
          throw error;
        }
      }
      if (request.raw.destroyed) {
        unsubscribe();
        return;
      }
      stream = streams.start(reply, unsubscribe);
      stream.write(
        held === snapshot.version
          ? sseFrame(
              CHANGE_STREAM_EVENTS.ready,
              JSON.stringify({ version: snapshot.version } satisfies ChangeStreamReady),
            )
          : sseFrame(CHANGE_STREAM_EVENTS.snapshot, snapshotJson(snapshot), snapshot.version),
      );
      for (const update of early) stream.write(changeFrame(update));
    },
  );

  app.post(
    '/evaluations',
    {
      // Its body limit (VEXIL_REPORT_BODY_LIMIT_BYTES) and rate limit are set with the others' in rate-limits.ts.
      schema: {
        summary: 'Report evaluations made in process: written to the evaluation log and counted in the metrics',
        tags: ['sdk'],
        body: reportSchema,
        response: {
          202: {
            type: 'object',
            description:
              'the evaluations logged (accepted) and those refused, counted by reason, with the first few described ' +
              '(index in the list, reason, what was wrong)',
            properties: {
              accepted: { type: 'integer' },
              refused: { type: 'integer' },
              reasons: {
                type: 'object',
                description: `refused evaluations by reason: ${REPORT_REFUSAL_REASONS.join(', ')}`,
                additionalProperties: { type: 'integer' },
              },
              refusals: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { index: { type: 'integer' }, reason: { type: 'string' }, message: { type: 'string' } },
                },
              },
            },
          },
          400: { $ref: 'VexilError#' },
          503: { $ref: 'VexilError#' },
        },
      },
      // Checked by parseReport, which names the field at fault.
      attachValidation: true,
    },
    async (request, reply) => {
      const { project, reports } = parseReport(request.body, request.id);
      const verdict = await checker.check(project, reports);
      // Accepted evaluations name real flags and groups only: the metrics' label sets stay as bounded as the store.
      for (const entry of verdict.accepted) metrics.countEvaluation(project, entry.flagName, entry.group);
      accepted.inc(verdict.accepted.length);
      for (const [reason, count] of Object.entries(verdict.refused)) metrics.reports.labels(reason).inc(count);
      if (config.logDurable && reportLog !== undefined) {
        await Promise.all(verdict.accepted.map((entry) => reportLog.write(entry)));
      } else {
        for (const entry of verdict.accepted) reportLog?.add(entry);
      }
      return reply.code(202).send({
        accepted: verdict.accepted.length,
        refused: verdict.refusedCount,
        reasons: verdict.refused,
        refusals: verdict.refusals,
      });
    },
  );
};
