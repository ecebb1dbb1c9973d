import {
  assertFlagName,
  assertProjectName,
  InvalidInputError,
  MAX_INSTANCE_ID_LENGTH,
  parseFlagType,
  type ResultValue,
  VALUE_FLAG_TYPES,
  type ValueFlagType,
} from '@vexil/core';
import type { EvaluationLogEntry } from '@vexil/store';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { nowWTime } from '../clock.js';
import type { FlagEvaluation } from '../flag-evaluator.js';
import type { RouteOptions } from './services.js';

const querySchema = {
  type: 'object',
  properties: {
    project_name: { type: 'string', description: 'the project, e.g. csr-assistant' },
    instance_id: { type: 'string', description: 'the id to bucket, e.g. a user id' },
    flag_type: {
      type: 'string',
      enum: VALUE_FLAG_TYPES,
      description: 'feature (boolean), data (string), number, or json (a JSON object or array)',
    },
    flag_name: { type: 'string', description: 'the flag, e.g. multi_step_api_router' },
  },
} as const;

const responseSchema = {
  type: 'object',
  required: ['request_id', 'instance_id', 'flag_type', 'flag_name', 'flag_value', 'rollout_group'],
  properties: {
    request_id: { type: 'string' },
    instance_id: { type: 'string' },
    flag_type: { type: 'string' },
    flag_name: { type: 'string' },
    // A type list, not anyOf: the serializer then picks by typeof instead of validating each branch.
    // It tries the types in this order, and its string test takes anything with its own
    // toString, arrays included: array comes before string, or a JSON array is sent as text.
    flag_value: {
      type: ['boolean', 'array', 'string', 'number', 'object', 'null'],
      additionalProperties: true,
      items: {},
      description:
        'boolean for feature flags, string for data flags, a number for number flags, a JSON object or array for ' +
        'json flags; null when the revision gives no value (the caller uses its own default). A disabled flag ' +
        'answers its control value with rollout_group "disabled".',
    },
    rollout_group: {
      type: 'string',
      description:
        'control, treatment, override (numbered, treatment-2, with several treatments), rule-N or rule-N-split-M ' +
        '(targeting rules), disabled (kill switch)',
    },
  },
} as const;

const errorSchema = { $ref: 'VexilError#' } as const;

interface FlagAnswer {
  request_id: string;
  instance_id: string;
  flag_type: ValueFlagType;
  flag_name: string;
  flag_value: ResultValue;
  rollout_group: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a successful evaluation; written to the evaluation log once the response is sent. */
    evaluation?: EvaluationLogEntry | undefined;
  }
}

function required(query: Record<string, unknown>, name: string): string {
  const value = query[name];
  if (Array.isArray(value)) {
    throw new InvalidInputError(`${name} was given ${value.length} times: give it once`, { field: name });
  }
  if (typeof value !== 'string' || value === '') {
    throw new InvalidInputError(`${name} is required (query parameter ?${name}=…)`, { field: name });
  }
  return value;
}

/** The evaluation's answer; its log entry waits on the request until the response is sent. */
function respond(
  request: FastifyRequest,
  project: string,
  flagType: ValueFlagType,
  name: string,
  instanceId: string,
  result: FlagEvaluation,
): FlagAnswer {
  request.evaluation = {
    project,
    flagType,
    flagName: name,
    instanceId,
    requestId: request.id,
    time: nowWTime(),
    value: result.value,
    group: result.group,
    cacheHit: result.cacheHit,
  };
  return {
    request_id: request.id,
    instance_id: instanceId,
    flag_type: flagType,
    flag_name: name,
    flag_value: result.value,
    rollout_group: result.group,
  };
}

/** The runbook system's evaluation endpoint, with and without the trailing slash. */
export const flagRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { evaluator, evaluationLog, metrics } = services;
  const durableLog = services.config.logDurable ? evaluationLog : undefined;

  /** VEXIL_LOG_DURABLE: the answer waits until its log row is stored (503 when it cannot be). */
  const logged = async (request: FastifyRequest, answer: FlagAnswer): Promise<FlagAnswer> => {
    const evaluation = request.evaluation!;
    request.evaluation = undefined;
    await durableLog!.write(evaluation);
    metrics.countEvaluation(evaluation.project, evaluation.flagName, evaluation.group);
    return answer;
  };
  // Declared, so that every request object of these routes has the same shape from its start.
  app.decorateRequest('evaluation', undefined);

  app.addHook('onResponse', (request, reply, done) => {
    const evaluation = request.evaluation;
    if (evaluation !== undefined && reply.statusCode < 300) {
      metrics.countEvaluation(evaluation.project, evaluation.flagName, evaluation.group);
      evaluationLog?.add(evaluation);
    }
    done();
  });

  for (const url of ['/get-feature-flag', '/get-feature-flag/']) {
    app.get(
      url,
      {
        schema: {
          summary: 'Evaluate a flag for an instance id',
          tags: ['evaluation'],
          hide: url.endsWith('/'),
          querystring: querySchema,
          response: { 200: responseSchema, 400: errorSchema, 404: errorSchema, 500: errorSchema, 504: errorSchema },
        },
        // Our own checks give the runbook system's errors (InvalidFlagTypeException and friends).
        attachValidation: true,
      },
      (request) => {
        const query = request.query as Record<string, unknown>;
        const project = required(query, 'project_name');
        assertProjectName(project);
        const instanceId = required(query, 'instance_id');
        if (instanceId.length > MAX_INSTANCE_ID_LENGTH) {
          throw new InvalidInputError(`instance_id is longer than ${MAX_INSTANCE_ID_LENGTH} characters`, {
            field: 'instance_id',
          });
        }
        // Segments are not evaluated: flag_type=segment is refused as any other unknown type.
        const flagType = parseFlagType(required(query, 'flag_type'), 'flag_type', VALUE_FLAG_TYPES) as ValueFlagType;
        const name = required(query, 'flag_name');
        assertFlagName(name);
        // A cached flag answers synchronously: Fastify sends a returned value without a promise.
        const outcome = evaluator.evaluate({ project, flagType, name }, instanceId);
        if (durableLog !== undefined) {
          return Promise.resolve(outcome).then((result) =>
            logged(request, respond(request, project, flagType, name, instanceId, result)),
          );
        }
        if (outcome instanceof Promise) {
          return outcome.then((result) => respond(request, project, flagType, name, instanceId, result));
        }
        return respond(request, project, flagType, name, instanceId, outcome);
      },
    );
  }
};
