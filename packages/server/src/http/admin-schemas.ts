import { CONDITION_OPERATORS, describeFlagTypes, FLAG_NAME_RULE, METADATA_KEYS, VALUE_FLAG_TYPES } from '@vexil/core';

/**
 * The admin API's JSON schemas, for the OpenAPI document and the request's shape
 * (admin-routes.ts says what they check and what they leave to core).
 */

const errorDescriptions = {
  400: 'Refused input: the message says what to fix and field names the parameter at fault; nothing was written',
  404: 'No such project (ProjectNotFound, with known_projects), flag or segment (EmptyFlagDataException) or revision (RevisionNotFound)',
  401: 'No API token, or one this service does not know or that was revoked (Unauthorized; WWW-Authenticate: Bearer)',
  403: "The token's scope or projects do not cover this request (Forbidden)",
  409: 'The flag or segment already exists (FlagExists), or another revision was written since the expectedLatest given (RevisionConflict); nothing was written',
  500: 'An unexpected error, or a stored row that does not validate (ValidationError)',
  503: 'The store cannot be reached',
} as const;

/** The error answers a route can give besides 401, 403, 500 and 503: 400 bad input, 404 no such flag / revision, 409 exists or conflict. */
export function errors(...statuses: (400 | 404 | 409)[]) {
  const answers: Record<string, { $ref: 'VexilError#'; description: string }> = {};
  for (const status of [...statuses, 401, 403, 500, 503] as const) {
    answers[status] = { $ref: 'VexilError#', description: errorDescriptions[status] };
  }
  return answers;
}

export const projectParam = { type: 'string', description: 'the project, e.g. csr-assistant' } as const;
export const typeParam = {
  type: 'string',
  description: `flag type: ${describeFlagTypes(VALUE_FLAG_TYPES)}`,
  examples: ['feature'],
} as const;
export const nameParam = {
  type: 'string',
  description: `flag name: ${FLAG_NAME_RULE}`,
  examples: ['multi_step_api_router'],
} as const;
export const segmentNameParam = {
  type: 'string',
  description: `segment name: ${FLAG_NAME_RULE}`,
  examples: ['beta-testers'],
} as const;
export const wtimeDescription = 'a revision time, UTC YYYY-MM-DD HH:MM:SS.ffffff, as history lists it';

export const projectParams = {
  type: 'object',
  required: ['project'],
  properties: { project: projectParam },
} as const;

export const flagParams = {
  type: 'object',
  required: ['project', 'type', 'name'],
  properties: { project: projectParam, type: typeParam, name: nameParam },
} as const;

export const segmentParams = {
  type: 'object',
  required: ['project', 'name'],
  properties: { project: projectParam, name: segmentNameParam },
} as const;

export const segmentRevisionParams = {
  type: 'object',
  required: ['project', 'name', 'wtime'],
  properties: {
    project: projectParam,
    name: segmentNameParam,
    wtime: { type: 'string', description: 'a revision time, UTC YYYY-MM-DD HH:MM:SS.ffffff, as history lists it' },
  },
} as const;

export const revisionParams = {
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
export const valueDescription =
  'true/false for a feature flag, a string for a data flag, a number for a number flag, a JSON object or array for a json flag; null: no value, the caller uses its default';
export const treatmentsSchema = {
  description:
    'Treatments in order, each {OverrideList: [instance id, …], PercentRollout: percent 0–100 with at most two decimals, Value}. ' +
    `Override lists are checked first; then the first treatment whose cumulative percentage holds the id's hash gives its Value. Value: ${valueDescription}. The percentages add up to at most 100.`,
  examples: [[{ OverrideList: ['A12345'], PercentRollout: 40, Value: true }]],
} as const;
export const controlValueSchema = {
  description: `the value for everybody outside the treatments: ${valueDescription}`,
  examples: [false],
} as const;
export const conditionsDescription =
  `Conditions, all of which must hold: each {Attribute, Operator, Values}. Operators: ${CONDITION_OPERATORS.join(', ')}. ` +
  'A missing or wrongly typed attribute makes a condition not hold.';
export const segmentOperatorsDescription =
  'in_segment / not_in_segment name segments of the project (their Attribute is targetingKey).';
export const variantsSchema = {
  description: `names for the revision's values, {name: value}; every value the revision gives must then be one of them (or null). Value: ${valueDescription}`,
  examples: [{ on: true, off: false }],
} as const;
export const rulesSchema = {
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
export const disabledSchema = {
  description: 'the kill switch: true answers ControlValue (reason DISABLED; OFREP answers the caller its default)',
} as const;
export const metadataSchema = {
  description: `free key/values (strings, numbers, booleans); known keys: ${METADATA_KEYS.owner} (the owning team), ${METADATA_KEYS.ticket} (the removal ticket), ${METADATA_KEYS.expires} (YYYY-MM-DD, UTC: vexil doctor and /metrics report the flag after that day)`,
  examples: [{ owner: 'team-checkout', ticket: 'https://jira.example.com/CHK-12', expires: '2027-03-31' }],
} as const;
export const flagModelFields = {
  Variants: variantsSchema,
  Rules: rulesSchema,
  Disabled: disabledSchema,
  Metadata: metadataSchema,
} as const;
export const hashAlgorithmSchema = {
  type: 'string',
  description: 'hash for the percentage rollout: md5 (default), sha1 or sha256',
} as const;

export const revisionSchema = {
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
    OwnerID: { type: 'string', description: "who made the change: the token's owner (API) or the OS user (CLI)" },
    OnBehalfOf: { type: 'string', description: 'the owner the caller named, when not the actor' },
    ActorAddress: { type: 'string', description: "the caller's address (API)" },
    TokenID: { type: 'string', description: 'the API token that made the change' },
    CreatedTime: { type: 'string', description: 'equal to the row time (wtime)' },
    HashAlgorithm: hashAlgorithmSchema,
    Salt: { type: 'string', description: 'hashed as Salt:instanceId; absent on rows that hash the bare id' },
    RollbackOf: { type: 'string', description: 'the wtime of the revision a rollback republished' },
    Archived: { description: 'true on an archive revision: evaluations answer "no flag data"' },
    ScheduleID: { type: 'string', description: 'the scheduled revision (sch_…) or ramp step that wrote it' },
    RampID: { type: 'string', description: 'the ramp (rmp_…) whose step or abort wrote it' },
    ProposalID: { type: 'string', description: 'the approved proposal (prp_…) that wrote it' },
    ...flagModelFields,
  },
} as const;

export const revisionViewSchema = {
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

export const flagViewSchema = {
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

export const evaluationViewSchema = {
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

export const contextEvaluationViewSchema = {
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

export const segmentRevisionSchema = {
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
    OwnerID: { type: 'string', description: "who made the change: the token's owner (API) or the OS user (CLI)" },
    OnBehalfOf: { type: 'string', description: 'the owner the caller named, when not the actor' },
    ActorAddress: { type: 'string', description: "the caller's address (API)" },
    TokenID: { type: 'string', description: 'the API token that made the change' },
    CreatedTime: { type: 'string' },
    RollbackOf: { type: 'string' },
    Archived: { description: 'true on an archive revision: the segment has no members' },
  },
} as const;

export const segmentRevisionViewSchema = {
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

export const segmentViewSchema = {
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

export const ownerComment = {
  OwnerID: {
    type: 'string',
    description:
      "on whose behalf the change is made: kept as OnBehalfOf; the change's OwnerID is always the token's owner",
  },
  Comment: { type: 'string', description: 'why' },
} as const;

/** Optimistic concurrency on every revision write (FlagAdmin's ExpectedLatestInput). */
export const expectedLatestField = {
  expectedLatest: {
    type: ['string', 'null'],
    description:
      'the WTIME of the revision this change is based on (null: the flag had none): when another revision was written since, the answer is 409 RevisionConflict and nothing is written. Left out, the write is unconditional',
    examples: ['2024-09-25 18:42:51.493000'],
  },
} as const;

/** Rollback and archive record the caller, never the owner of the revision they copy. */
export const callerOwnerComment = {
  ...ownerComment,
  OwnerID: {
    type: 'string',
    description:
      "on whose behalf the change is made (OnBehalfOf); the change's OwnerID is the token's owner, never the copied revision's",
  },
} as const;

export const addFlagBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type'],
  properties: {
    name: nameParam,
    type: typeParam,
    description: { type: 'string', description: 'what the flag is for' },
  },
} as const;

export const updateFlagBody = {
  type: 'object',
  additionalProperties: false,
  required: ['description'],
  properties: { description: { type: 'string', description: 'the new description' } },
} as const;

export const revisionBody = {
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
    ...expectedLatestField,
  },
} as const;

export const rollbackBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    to: {
      type: 'string',
      description: `the revision to republish (${wtimeDescription}); by default the one before the newest`,
    },
    ...callerOwnerComment,
    ...expectedLatestField,
  },
} as const;

export const archiveBody = {
  type: 'object',
  additionalProperties: false,
  properties: { ...callerOwnerComment, ...expectedLatestField },
} as const;

export const metadataBody = {
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
    ...expectedLatestField,
  },
} as const;

export const contextBody = {
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

export const segmentParts = {
  Included: { description: 'targeting keys always in the segment (unless excluded); [] clears the list' },
  Excluded: { description: 'targeting keys never in the segment; [] clears the list' },
  Conditions: {
    description: `for everyone else, conditions that must all hold; [] clears them. ${conditionsDescription} Segment operators are not allowed.`,
    examples: [[{ Attribute: 'email', Operator: 'ends_with', Values: ['@example.com'] }]],
  },
} as const;

export const addSegmentBody = {
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

export const segmentRevisionBody = {
  type: 'object',
  additionalProperties: false,
  properties: { ...segmentParts, ...ownerComment },
} as const;

export const applyBody = {
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

export const applyResponse = {
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
export function answer<S extends object>(schema: S, description: string): S & { description: string } {
  return { ...schema, description };
}

// ---------------------------------------------------------------- request types

export interface ProjectParams {
  project: string;
}
export interface FlagParams extends ProjectParams {
  type: string;
  name: string;
}
export interface RevisionParams extends FlagParams {
  wtime: string;
}
export interface SegmentParams extends ProjectParams {
  name: string;
}
export interface SegmentRevisionParams extends SegmentParams {
  wtime: string;
}
