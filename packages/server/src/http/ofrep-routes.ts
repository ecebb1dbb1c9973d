import { createHash } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import {
  answerMetadata,
  assertProjectName,
  describeFlagTypes,
  type EvaluationContext,
  type EvaluationDetails,
  type EvaluationReason,
  type FlagValue,
  formatValue,
  invalidRevisionMessage,
  isFlagName,
  isValueFlagType,
  isVexilError,
  MAX_INSTANCE_ID_LENGTH,
  type ProjectSnapshot,
  TargetingKeyMissingError,
  VALUE_FLAG_TYPES,
  type ValueFlagType,
} from '@vexil/core';
import type { EvaluationLogEntry } from '@vexil/store';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { nowWTime } from '../clock.js';
import type { SnapshotEntry } from '../flag-cache.js';
import type { ProjectSnapshots, ProjectView } from '../project-snapshots.js';
import { browserAccess } from './browser-access.js';
import { frameworkErrorMessage, type RequestFacts } from './errors.js';
import { matchesETag } from './etag.js';
import type { RouteOptions } from './services.js';

/**
 * OpenFeature Remote Evaluation Protocol (OFREP, open-feature/protocol
 * service/openapi.yaml), so the official OFREP providers work unchanged:
 * `POST /ofrep/v1/evaluate/flags/{key}` and the bulk `POST /ofrep/v1/evaluate/flags`
 * with ETag / If-None-Match. The key is the flag name, looked up in the project's
 * snapshot to find its type; the whole context is what rules see, its `targetingKey`
 * the id that override lists and percentages use (needed only where the revision
 * needs it), and its `project_name` the project (else VEXIL_DEFAULT_PROJECT). Values
 * are those of /get-feature-flag for the same inputs, and each evaluation is logged
 * alike. Answers follow docs/flag-model.md: `value` left out for "no value" and for a
 * disabled flag (OpenFeature's code default), `metadata` core's `answerMetadata`.
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

/** The request's context, checked where a lookup needs it; the rest is checked once the flag is found. */
interface RequestContext {
  project: string;
  /** The context object as sent (without `targetingKey` when it is `null` or empty: no key). */
  attributes: EvaluationContext;
  /** `context.targetingKey` as sent; checked by `checkTargetingKey`. */
  targetingKey: unknown;
  /** `context.flag_type` as sent; checked by `checkFlagType`. */
  flagType: unknown;
}

interface FlagSuccess {
  key: string;
  /** Left out for "no value" and for a disabled flag: the caller's default. */
  value?: FlagValue;
  reason: EvaluationReason;
  /** The variant name, or the rollout group where the revision names none; left out for "no value". */
  variant?: string;
  metadata: Readonly<Record<string, string | number | boolean>>;
}

interface FlagFailure {
  key: string;
  errorCode: OfrepErrorCode;
  errorDetails: string;
}

/** An evaluation made for a request: its answer, and what the log and metrics need. */
interface Evaluated {
  answer: FlagSuccess;
  flagType: ValueFlagType;
  wtime: string;
  value: FlagValue | null;
  group: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** OFREP evaluations of this request; written to the evaluation log once a 200 is sent. */
    ofrepEvaluations?: EvaluationLogEntry[] | undefined;
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
        'Every attribute is what targeting rules see. targetingKey: the id to bucket (needed by flags with override ' +
        'lists, percentage rollouts or rule splits); project_name: the project (default VEXIL_DEFAULT_PROJECT); ' +
        `flag_type: ${VALUE_FLAG_TYPES.join(', ')}, only needed when a flag name exists with several types`,
      examples: [{ targetingKey: 'A123456', project_name: 'csr-assistant', plan: 'pro' }],
    },
  },
} as const;

const failureDescription = {
  400: {
    description:
      '{key, errorCode, errorDetails}: INVALID_CONTEXT, TARGETING_KEY_MISSING (the flag needs a targetingKey), or PARSE_ERROR (a body that is not JSON, or a stored revision that does not validate)',
  },
  404: {
    description:
      'FLAG_NOT_FOUND: no such flag in the project, or it has no revision, or it is archived, or the key names a segment',
  },
  429: { description: 'Too many requests (VEXIL_OFREP_RATE_LIMIT); Retry-After gives the seconds to wait' },
  500: { description: 'GENERAL: the store did not answer, or an unexpected error' },
} as const;

/** Response headers of a single evaluation: Vexil's facts about the answer, which OFREP's `metadata` leaves to the flag's own. */
export const OFREP_FACT_HEADERS = {
  project: 'x-vexil-project',
  flagType: 'x-vexil-flag-type',
  revision: 'x-vexil-revision',
} as const;

// ---------------------------------------------------------------- context and lookup

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The parts of the context a project lookup needs: a body and a context that are objects, and the project. */
function readContext(body: unknown, defaultProject: string | undefined): RequestContext {
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
  const targetingKey = context.targetingKey;
  let attributes = context as EvaluationContext;
  if (targetingKey === null || targetingKey === '') {
    // No key: rules see the context without one, and a flag that needs one says so.
    const { targetingKey: _none, ...rest } = context;
    attributes = rest;
  }
  return { project, attributes, targetingKey, flagType: context.flag_type };
}

/** Checks `targetingKey` when there is one: a string of at most the instance-id length. */
function checkTargetingKey(context: RequestContext): void {
  const key = context.targetingKey;
  if (key === undefined || key === null || key === '') return;
  if (typeof key !== 'string') {
    throw new OfrepError(400, 'INVALID_CONTEXT', `context.targetingKey must be a string, got ${typeof key}`);
  }
  if (key.length > MAX_INSTANCE_ID_LENGTH) {
    throw new OfrepError(
      400,
      'INVALID_CONTEXT',
      `context.targetingKey is longer than ${MAX_INSTANCE_ID_LENGTH} characters`,
    );
  }
}

/** `flag_type` when the context has one: one of the value flag types. */
function checkFlagType(context: RequestContext): ValueFlagType | undefined {
  const flagType = context.flagType;
  if (flagType === undefined) return undefined;
  if (!isValueFlagType(flagType)) {
    throw new OfrepError(
      400,
      'INVALID_CONTEXT',
      `context.flag_type must be ${describeFlagTypes(VALUE_FLAG_TYPES)}, got ${formatValue(flagType)}`,
    );
  }
  return flagType;
}

/** The id the evaluation log files an evaluation under: the targeting key, or none. */
function instanceIdOf(context: RequestContext): string {
  return typeof context.targetingKey === 'string' ? context.targetingKey : '';
}

/**
 * The flag named `key` in the project's entries. Not found comes first (before any
 * other check of the context); then `flag_type` picks among a name's several types.
 */
function findFlag(entries: readonly SnapshotEntry[], key: string, context: RequestContext): SnapshotEntry {
  const named = entries.filter((entry) => entry.flag.name === key);
  const flags = named.filter((entry) => entry.flag.flagType !== 'segment');
  if (flags.length === 0) {
    throw new OfrepError(
      404,
      'FLAG_NOT_FOUND',
      named.length > 0
        ? `${key} in project ${context.project} is a segment, not a flag: segments are used by flags' rules, not evaluated`
        : `no flag ${key} with a revision in project ${context.project}`,
    );
  }
  const flagType = checkFlagType(context);
  const found = flagType === undefined ? flags : flags.filter((entry) => entry.flag.flagType === flagType);
  if (found.length === 1) return found[0]!;
  if (found.length > 1) throw ambiguous(key, context.project, found);
  throw new OfrepError(
    404,
    'FLAG_NOT_FOUND',
    `no ${flagType} flag ${key} in project ${context.project} (there is a ${flags.map((entry) => entry.flag.flagType).join(' and a ')} flag of that name)`,
  );
}

function ambiguous(key: string, project: string, flags: readonly SnapshotEntry[]): OfrepError {
  const types = flags.map((entry) => entry.flag.flagType);
  return new OfrepError(
    400,
    'INVALID_CONTEXT',
    `project ${project} has flags of several types named ${key} (${types.join(', ')}); add "flag_type": ${types.map((type) => `"${type}"`).join(' or ')} to the evaluation context to pick one`,
  );
}

/**
 * Evaluates one snapshot flag from its flag-cache entry with the whole context and the
 * project's segments: an archived flag is not found, a revision that does not validate
 * a PARSE_ERROR, a flag that needs a targeting key the context lacks TARGETING_KEY_MISSING.
 */
function evaluateFlag(entry: SnapshotEntry, view: ProjectView, context: RequestContext): Evaluated {
  const { flag, compiled } = entry;
  const flagType = flag.flagType as ValueFlagType;
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
  if (compiled.state !== 'compiled') {
    throw new OfrepError(404, 'FLAG_NOT_FOUND', `${flag.name} in project ${context.project} is a segment, not a flag`);
  }
  // The rest of the context is checked once the flag is known to exist.
  checkTargetingKey(context);
  let result: EvaluationDetails;
  try {
    result = compiled.compiled.evaluateContext(context.attributes, view.segments);
  } catch (error) {
    if (error instanceof TargetingKeyMissingError) {
      throw new OfrepError(
        400,
        'TARGETING_KEY_MISSING',
        `${error.message}; send the id to evaluate for (e.g. a user or customer id) as context.targetingKey`,
      );
    }
    throw error;
  }
  const metadata = answerMetadata(compiled.compiled, { project: context.project, flagType, revision: flag.wtime });
  const answer: FlagSuccess = { key: flag.name, reason: result.reason, metadata };
  // DISABLED answers the caller's default (OpenFeature's code default): no value, as for a null value.
  if (result.value !== null && result.reason !== 'DISABLED') answer.value = result.value;
  if (result.variant !== undefined) answer.variant = result.variant;
  return { answer, flagType, wtime: flag.wtime, value: result.value, group: result.group };
}

/** The bulk answer's entity tag: the project version and the whole context (what every answer depends on). */
function bulkETag(snapshot: ProjectSnapshot, context: RequestContext): string {
  const hash = createHash('sha256')
    .update(`${snapshot.version}\n${context.project}\n${JSON.stringify(context.attributes)}`)
    .digest('hex');
  return `"${hash.slice(0, 32)}"`;
}

// ---------------------------------------------------------------- errors

/** Any error on an OFREP route as the spec's status and error body. */
function toOfrepError(error: unknown, facts: RequestFacts = {}): OfrepError {
  if (error instanceof OfrepError) return error;
  if (error instanceof TargetingKeyMissingError) return new OfrepError(400, 'TARGETING_KEY_MISSING', error.message);
  if (isVexilError(error)) {
    if (error.status === 404) return new OfrepError(404, 'FLAG_NOT_FOUND', error.message);
    // No token, or not one for this project: OFREP's own 401 and 403.
    if (error.status === 401 || error.status === 403) return new OfrepError(error.status, 'GENERAL', error.message);
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
  /** VEXIL_LOG_DURABLE: the answer waits until its log rows are stored (503 when they cannot be). */
  const durableLog = config.logDurable ? evaluationLog : undefined;
  const logNow = async (request: FastifyRequest): Promise<void> => {
    const entries = request.ofrepEvaluations;
    if (durableLog === undefined || entries === undefined) return;
    request.ofrepEvaluations = undefined;
    await Promise.all(entries.map((entry) => durableLog.write(entry)));
  };

  /** Counts an evaluation in the metrics and keeps it for the log. */
  const record = (request: FastifyRequest, context: RequestContext, evaluated: Evaluated, cached: boolean) => {
    const { answer } = evaluated;
    metrics.countEvaluation(context.project, answer.key, evaluated.group);
    request.ofrepEvaluations ??= [];
    request.ofrepEvaluations.push({
      project: context.project,
      flagType: evaluated.flagType,
      flagName: answer.key,
      instanceId: instanceIdOf(context),
      requestId: request.id,
      time: nowWTime(),
      value: evaluated.value,
      group: evaluated.group,
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
              '{key, value, reason, variant, metadata}: value of the flag type (boolean, string, number, JSON object or ' +
              'array), left out for "no value" and for a disabled flag (the caller\'s default); reason STATIC (nobody is ' +
              'targeted), DEFAULT (control value), TARGETING_MATCH (override list or rule), SPLIT (percentage rollout ' +
              'or rule split) or DISABLED (kill switch); variant the variant name, or the rollout group where the ' +
              "revision names none; metadata the revision's Metadata ({} without) for a revision of the flag model, " +
              '{project, flagType, revision} for a revision in the runbook format. Headers x-vexil-project, ' +
              'x-vexil-flag-type and x-vexil-revision (its WTIME) say which flag and revision answered.',
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
          `no flag ${JSON.stringify(key)} in project ${context.project}: flag names are lower-case letters, digits, _, - and .`,
        );
      }
      const view = await snapshots.read(context.project);
      const entry = findFlag(view.entries, key, context);
      const evaluated = evaluateFlag(entry, view, context);
      record(request, context, evaluated, view.cached);
      await logNow(request);
      return reply
        .header(OFREP_FACT_HEADERS.project, context.project)
        .header(OFREP_FACT_HEADERS.flagType, evaluated.flagType)
        .header(OFREP_FACT_HEADERS.revision, evaluated.wtime)
        .type('application/json; charset=utf-8')
        .send(evaluated.answer);
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
              '{flags: [...]}: each flag as the single evaluation answers it, or {key, errorCode, errorDetails} ' +
              '(TARGETING_KEY_MISSING for a flag that needs the targetingKey the context lacks); archived flags and ' +
              'segments are left out. ETag header.',
          },
          304: { description: 'Not modified: the answer for this context is still the one with this ETag' },
          ...failureDescription,
        },
      },
      attachValidation: true,
    },
    async (request, reply: FastifyReply) => {
      const context = readContext(request.body, config.defaultProject);
      const flagType = checkFlagType(context);
      checkTargetingKey(context);
      const view = await snapshots.read(context.project);
      const etag = bulkETag(view.snapshot, context);
      reply.header('etag', etag);
      if (matchesETag(request.headers['if-none-match'], etag)) return reply.code(304).send();

      const types = new Map<string, SnapshotEntry[]>();
      for (const entry of view.entries) {
        if (entry.flag.flagType === 'segment') continue;
        const named = types.get(entry.flag.name);
        if (named === undefined) types.set(entry.flag.name, [entry]);
        else named.push(entry);
      }
      const flags: (FlagSuccess | FlagFailure)[] = [];
      const evaluations: Evaluated[] = [];
      let keyMissing: OfrepError | undefined;
      for (const entry of view.entries) {
        const flag = entry.flag;
        if (flag.flagType === 'segment') continue;
        const named = types.get(flag.name)!;
        if (named.length > 1) {
          if (flagType === undefined) {
            if (named[0] === entry) {
              // Listed once, where the first of its types comes.
              const error = ambiguous(flag.name, context.project, named);
              flags.push({ key: flag.name, errorCode: error.errorCode, errorDetails: error.message });
            }
            continue;
          }
          if (flag.flagType !== flagType) continue;
        }
        if (entry.compiled.state === 'archived') continue;
        try {
          const evaluated = evaluateFlag(entry, view, context);
          evaluations.push(evaluated);
          flags.push(evaluated.answer);
        } catch (error) {
          const failure = toOfrepError(error);
          if (failure.errorCode === 'TARGETING_KEY_MISSING') keyMissing ??= failure;
          flags.push({ key: flag.name, errorCode: failure.errorCode, errorDetails: failure.message });
        }
      }
      // Nothing could be answered without the key: the context itself is at fault, as a single evaluation says.
      if (
        keyMissing !== undefined &&
        flags.every((flag) => 'errorCode' in flag && flag.errorCode === 'TARGETING_KEY_MISSING')
      ) {
        throw new OfrepError(
          400,
          'TARGETING_KEY_MISSING',
          'context.targetingKey is required: a percentage (a rollout or a rule split) decides every flag of the project for this context; send the id to evaluate for, e.g. a user or customer id',
        );
      }
      for (const evaluated of evaluations) record(request, context, evaluated, view.cached);
      await logNow(request);
      return reply.type('application/json; charset=utf-8').send({ flags });
    },
  );
};
