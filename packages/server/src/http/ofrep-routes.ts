import { createHash } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import {
  assertProjectName,
  type FlagType,
  invalidRevisionMessage,
  isFlagName,
  isVexilError,
  MAX_INSTANCE_ID_LENGTH,
  type OfrepReason,
  ofrepReason,
  type ProjectSnapshot,
  type ResultValue,
} from '@vexil/core';
import type { EvaluationLogEntry } from '@vexil/store';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { nowWTime } from '../clock.js';
import type { SnapshotEntry } from '../flag-cache.js';
import type { ProjectSnapshots } from '../project-snapshots.js';
import { browserAccess } from './browser-access.js';
import { frameworkErrorMessage, type RequestFacts } from './errors.js';
import { matchesETag } from './etag.js';
import type { RouteOptions } from './services.js';

/**
 * OpenFeature Remote Evaluation Protocol (OFREP, open-feature/protocol
 * service/openapi.yaml), so the official OFREP providers work unchanged:
 * `POST /ofrep/v1/evaluate/flags/{key}` and the bulk `POST /ofrep/v1/evaluate/flags`
 * with ETag / If-None-Match. The key is the flag name, looked up in the project's
 * snapshot to find its type; the context's `targetingKey` is the instance id and its
 * `project_name` the project (else VEXIL_DEFAULT_PROJECT). Values are those of
 * /get-feature-flag for the same inputs, and each evaluation is logged alike.
 */

export type OfrepErrorCode = 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL' | 'FLAG_NOT_FOUND';

/** An OFREP failure: the status and `errorCode` the spec gives it, and details that say what to fix. */
export class OfrepError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: OfrepErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OfrepError';
  }
}

export interface OfrepRouteOptions extends RouteOptions {
  snapshots: ProjectSnapshots;
}

interface EvaluationContext {
  project: string;
  instanceId: string;
  /** `flag_type` in the context: picks the flag when a name exists as both feature and data. */
  flagType: FlagType | undefined;
}

interface FlagSuccess {
  key: string;
  value: ResultValue;
  reason: OfrepReason;
  variant: string;
  metadata: { project: string; flagType: FlagType; revision: string };
}

interface FlagFailure {
  key: string;
  errorCode: OfrepErrorCode;
  errorDetails: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** OFREP evaluations of this request; written to the evaluation log once a 200 is sent. */
    ofrepEvaluations?: EvaluationLogEntry[];
  }
}

// ---------------------------------------------------------------- schemas (for /docs)

const requestBody = {
  type: 'object',
  description: 'The evaluation context.',
  properties: {
    context: {
      type: 'object',
      description:
        'targetingKey: the instance id to bucket (required); project_name: the project (default VEXIL_DEFAULT_PROJECT); ' +
        'flag_type: feature or data, only needed when a flag name exists as both',
      examples: [{ targetingKey: 'A123456', project_name: 'csr-assistant' }],
    },
  },
} as const;

const failureDescription = {
  400: {
    description:
      '{key, errorCode, errorDetails}: INVALID_CONTEXT, TARGETING_KEY_MISSING, or PARSE_ERROR (a body that is not JSON, or a stored revision that does not validate)',
  },
  404: { description: 'FLAG_NOT_FOUND: no such flag in the project, or it has no revision, or it is archived' },
  429: { description: 'Too many requests (VEXIL_OFREP_RATE_LIMIT); Retry-After gives the seconds to wait' },
  500: { description: 'GENERAL: the store did not answer, or an unexpected error' },
} as const;

// ---------------------------------------------------------------- context and lookup

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readContext(body: unknown, defaultProject: string | undefined): EvaluationContext {
  const request = body ?? {};
  if (!isPlainObject(request)) {
    throw new OfrepError(
      400,
      'PARSE_ERROR',
      'the request body must be a JSON object: {"context": {"targetingKey": …}}',
    );
  }
  const context = request.context ?? {};
  if (!isPlainObject(context)) throw new OfrepError(400, 'INVALID_CONTEXT', 'context must be a JSON object');

  const instanceId = context.targetingKey;
  if (instanceId === undefined || instanceId === null || instanceId === '') {
    throw new OfrepError(
      400,
      'TARGETING_KEY_MISSING',
      'context.targetingKey is required: the instance id to evaluate for, e.g. a user or customer id',
    );
  }
  if (typeof instanceId !== 'string') {
    throw new OfrepError(400, 'INVALID_CONTEXT', `context.targetingKey must be a string, got ${typeof instanceId}`);
  }
  if (instanceId.length > MAX_INSTANCE_ID_LENGTH) {
    throw new OfrepError(
      400,
      'INVALID_CONTEXT',
      `context.targetingKey is longer than ${MAX_INSTANCE_ID_LENGTH} characters`,
    );
  }

  const project = context.project_name ?? defaultProject;
  if (project === undefined) {
    throw new OfrepError(
      400,
      'INVALID_CONTEXT',
      'context.project_name is required: the project of the flag (the service has no VEXIL_DEFAULT_PROJECT)',
    );
  }
  try {
    assertProjectName(project, 'context.project_name');
  } catch (error) {
    throw new OfrepError(400, 'INVALID_CONTEXT', error instanceof Error ? error.message : String(error));
  }

  const flagType = context.flag_type;
  if (flagType !== undefined && flagType !== 'feature' && flagType !== 'data') {
    throw new OfrepError(
      400,
      'INVALID_CONTEXT',
      `context.flag_type must be "feature" or "data", got ${JSON.stringify(flagType)}`,
    );
  }
  return { project, instanceId, flagType };
}

/** The flag named `key` in the snapshot's entries: by name, or by name and `flag_type` when the name exists as both. */
function findFlag(entries: readonly SnapshotEntry[], key: string, context: EvaluationContext): SnapshotEntry {
  const named = entries.filter((entry) => entry.flag.name === key);
  const found =
    context.flagType === undefined ? named : named.filter((entry) => entry.flag.flagType === context.flagType);
  if (found.length === 1) return found[0]!;
  if (found.length > 1) throw ambiguous(key, context);
  const other = named[0];
  throw new OfrepError(
    404,
    'FLAG_NOT_FOUND',
    other === undefined
      ? `no flag ${key} with a revision in project ${context.project}`
      : `no ${context.flagType} flag ${key} in project ${context.project} (there is a ${other.flag.flagType} flag of that name)`,
  );
}

function ambiguous(key: string, context: EvaluationContext): OfrepError {
  return new OfrepError(
    400,
    'INVALID_CONTEXT',
    `project ${context.project} has both a feature flag and a data flag named ${key}; add "flag_type": "feature" or "data" to the evaluation context to pick one`,
  );
}

/** Evaluates one snapshot flag from its flag-cache entry; an archived flag is not found, a revision that does not validate a PARSE_ERROR. */
function evaluateFlag(entry: SnapshotEntry, context: EvaluationContext): FlagSuccess {
  const { flag, compiled } = entry;
  if (compiled.state === 'archived') {
    throw new OfrepError(
      404,
      'FLAG_NOT_FOUND',
      `flag ${flag.name} of project ${context.project} is archived; roll back to an earlier revision to restore it`,
    );
  }
  if (compiled.state === 'invalid') {
    throw new OfrepError(
      400,
      'PARSE_ERROR',
      `${invalidRevisionMessage(flag, compiled.error)}; add a revision that fixes it`,
    );
  }
  const result = compiled.compiled.evaluate(context.instanceId);
  return {
    key: flag.name,
    value: result.value,
    reason: ofrepReason(result.group, compiled.targetsNobody),
    variant: result.group,
    metadata: { project: context.project, flagType: flag.flagType, revision: flag.wtime },
  };
}

/** The bulk answer's entity tag: the project version and everything else the answer depends on. */
function bulkETag(snapshot: ProjectSnapshot, context: EvaluationContext): string {
  const hash = createHash('sha256')
    .update(`${snapshot.version}\n${context.project}\n${context.flagType ?? ''}\n${context.instanceId}`)
    .digest('hex');
  return `"${hash.slice(0, 32)}"`;
}

// ---------------------------------------------------------------- errors

/** Any error on an OFREP route as the spec's status and error body. */
function toOfrepError(error: unknown, facts: RequestFacts = {}): OfrepError {
  if (error instanceof OfrepError) return error;
  if (isVexilError(error)) {
    if (error.status === 404) return new OfrepError(404, 'FLAG_NOT_FOUND', error.message);
    if (error.status < 500) return new OfrepError(400, 'INVALID_CONTEXT', error.message);
    return new OfrepError(500, 'GENERAL', error.message);
  }
  const e = (isPlainObject(error) || error instanceof Error ? error : {}) as {
    statusCode?: unknown;
    code?: unknown;
    message?: unknown;
  };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (status === 429) return new OfrepError(429, 'GENERAL', message);
  if (typeof e.code === 'string' && e.code.startsWith('FST_ERR_CTP')) {
    const said = frameworkErrorMessage(e.code, message, facts) ?? message;
    return new OfrepError(400, 'PARSE_ERROR', `${said} (an OFREP request body is {"context": {…}})`);
  }
  if (status >= 400 && status < 500) return new OfrepError(status, 'GENERAL', message);
  return new OfrepError(500, 'GENERAL', `an unexpected error: ${message}`);
}

// ---------------------------------------------------------------- routes

export const ofrepRoutes: FastifyPluginAsync<OfrepRouteOptions> = async (app, { services, snapshots }) => {
  const { config, evaluationLog, metrics } = services;

  await app.register(cors, browserAccess(config));
  if (config.ofrepRateLimit > 0) {
    await app.register(rateLimit, {
      max: config.ofrepRateLimit,
      timeWindow: 60_000,
      errorResponseBuilder: (_request, context) =>
        Object.assign(
          new Error(
            `rate limit exceeded: at most ${context.max} OFREP requests per minute from one client; retry in ${context.after}`,
          ),
          { statusCode: context.statusCode },
        ),
    });
  }
  app.addHook('onRequest', async (_request) => {
    // API-token scopes (read per project) will be checked here, for every OFREP route.
  });

  app.setErrorHandler((error, request, reply) => {
    const failure = toOfrepError(error, { contentType: request.headers['content-type'] });
    if (failure.status >= 500) request.log.error({ err: error }, failure.message);
    else request.log.info({ status: failure.status, errorCode: failure.errorCode }, failure.message);
    const key = (request.params as { key?: unknown } | undefined)?.key;
    const body =
      typeof key === 'string'
        ? { key, errorCode: failure.errorCode, errorDetails: failure.message }
        : { errorCode: failure.errorCode, errorDetails: failure.message };
    return reply.code(failure.status).send(body);
  });

  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode !== 200 || request.ofrepEvaluations === undefined) return;
    for (const entry of request.ofrepEvaluations) evaluationLog?.add(entry);
  });

  /** Counts an evaluation in the metrics and keeps it for the log. */
  const record = (request: FastifyRequest, context: EvaluationContext, result: FlagSuccess, cached: boolean) => {
    metrics.countEvaluation(context.project, result.key, result.variant);
    request.ofrepEvaluations ??= [];
    request.ofrepEvaluations.push({
      project: context.project,
      flagType: result.metadata.flagType,
      flagName: result.key,
      instanceId: context.instanceId,
      requestId: request.id,
      time: nowWTime(),
      value: result.value,
      group: result.variant,
      cacheHit: cached,
    });
  };

  app.post<{ Params: { key: string } }>(
    '/evaluate/flags/:key',
    {
      schema: {
        summary: 'OFREP: evaluate one flag (the key is the flag name) for the context',
        tags: ['ofrep'],
        params: { type: 'object', properties: { key: { type: 'string', description: 'the flag name' } } },
        body: requestBody,
        response: {
          200: {
            description:
              '{key, value, reason, variant, metadata}: reason TARGETING_MATCH (override list), SPLIT (percentage rollout), ' +
              'DEFAULT (control value) or STATIC (nobody is targeted); variant the rollout group; metadata {project, flagType, revision}',
          },
          ...failureDescription,
        },
      },
      attachValidation: true,
    },
    async (request, reply) => {
      const context = readContext(request.body, config.defaultProject);
      const key = request.params.key;
      if (!isFlagName(key)) {
        throw new OfrepError(
          404,
          'FLAG_NOT_FOUND',
          `no flag ${JSON.stringify(key)} in project ${context.project}: flag names use only a-z, 0-9 and _`,
        );
      }
      const { entries, cached } = await snapshots.read(context.project);
      const result = evaluateFlag(findFlag(entries, key, context), context);
      record(request, context, result, cached);
      return reply.type('application/json; charset=utf-8').send(result);
    },
  );

  app.post(
    '/evaluate/flags',
    {
      schema: {
        summary: 'OFREP: evaluate every flag of the project for the context (ETag / If-None-Match → 304)',
        tags: ['ofrep'],
        headers: {
          type: 'object',
          properties: { 'if-none-match': { type: 'string', description: 'the ETag of the answer the client holds' } },
        },
        body: requestBody,
        response: {
          200: {
            description:
              '{flags: [...]}: each flag as the single evaluation answers it, or {key, errorCode, errorDetails}; archived flags are left out. ETag header.',
          },
          304: { description: 'Not modified: the answer for this context is still the one with this ETag' },
          ...failureDescription,
        },
      },
      attachValidation: true,
    },
    async (request, reply: FastifyReply) => {
      const context = readContext(request.body, config.defaultProject);
      const { snapshot, entries, cached } = await snapshots.read(context.project);
      const etag = bulkETag(snapshot, context);
      reply.header('etag', etag);
      if (matchesETag(request.headers['if-none-match'], etag)) return reply.code(304).send();

      const types = new Map<string, number>();
      for (const { flag } of entries) types.set(flag.name, (types.get(flag.name) ?? 0) + 1);
      const flags: (FlagSuccess | FlagFailure)[] = [];
      for (const entry of entries) {
        const flag = entry.flag;
        if ((types.get(flag.name) ?? 0) > 1) {
          if (context.flagType === undefined) {
            if (flag.flagType === 'data') {
              // Listed once, where the first of its two types comes.
              const error = ambiguous(flag.name, context);
              flags.push({ key: flag.name, errorCode: error.errorCode, errorDetails: error.message });
            }
            continue;
          }
          if (flag.flagType !== context.flagType) continue;
        }
        if (entry.compiled.state === 'archived') continue;
        try {
          const result = evaluateFlag(entry, context);
          record(request, context, result, cached);
          flags.push(result);
        } catch (error) {
          const failure = toOfrepError(error);
          flags.push({ key: flag.name, errorCode: failure.errorCode, errorDetails: failure.message });
        }
      }
      return reply.type('application/json; charset=utf-8').send({ flags });
    },
  );
};
