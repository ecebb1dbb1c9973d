import { describeFlagTypes, FLAG_TYPES } from './flag-types.js';
import type { FlagType } from './types.js';

/**
 * One error hierarchy for all of Vexil. Each error carries a stable `code` (the
 * runbook system's exception names where it had one) and the HTTP status the
 * service answers with; only the HTTP layer turns them into responses.
 */
export interface VexilErrorJSON {
  error: string;
  status: number;
  message: string;
  field?: string;
  hint?: string;
  /** ProjectNotFound: the projects the store holds, so a caller can show them. */
  known_projects?: string[];
}

export interface VexilErrorOptions {
  /** The input or stored field at fault, as a path: `Treatments[0].PercentRollout`. */
  field?: string | undefined;
  /** What to do to fix it, when the message alone does not say. */
  hint?: string | undefined;
  /** When asking again may succeed, in seconds: the HTTP layer sends it as `Retry-After`. */
  retryAfterSeconds?: number | undefined;
  cause?: unknown;
}

export abstract class VexilError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  readonly field: string | undefined;
  readonly hint: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, options: VexilErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.field = options.field;
    this.hint = options.hint;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  toJSON(): VexilErrorJSON {
    const body: VexilErrorJSON = { error: this.code, status: this.status, message: this.message };
    if (this.field !== undefined) body.field = this.field;
    if (this.hint !== undefined) body.hint = this.hint;
    return body;
  }
}

/** 400 — the runbook system's InvalidFlagTypeException. */
export class InvalidFlagTypeException extends VexilError {
  readonly code = 'InvalidFlagTypeException';
  readonly status = 400;
  /** `allowed`: the types the field accepts (every flag type when absent). */
  constructor(flagType: unknown, options: VexilErrorOptions & { allowed?: readonly FlagType[] } = {}) {
    const { allowed = FLAG_TYPES, ...rest } = options;
    super(`Invalid flag type: ${formatValue(flagType)}. Use ${describeFlagTypes(allowed)}.`, {
      field: 'flag_type',
      ...rest,
    });
  }
}

/** 400 — the runbook system's InvalidRolloutPercentageException. */
export class InvalidRolloutPercentageException extends VexilError {
  readonly code = 'InvalidRolloutPercentageException';
  readonly status = 400;
  constructor(rolloutPercentage: unknown, reason: string, options: VexilErrorOptions = {}) {
    super(`Rollout percentage: ${formatValue(rolloutPercentage)} is invalid. ${reason}`, options);
  }
}

/** 404 — the runbook system's EmptyFlagDataException: no flag (or no revision) to answer from. */
export class EmptyFlagDataException extends VexilError {
  readonly code = 'EmptyFlagDataException';
  readonly status = 404;
  constructor(detail: string, options: VexilErrorOptions = {}) {
    super(`No Flag Data found: ${detail}`, options);
  }
}

/**
 * Why a flag asked for by one type exists only with the other type: one wording for the
 * CLI, the service and both SDK clients, each adding how to ask on its side.
 */
export function flagTypeMismatchMessage(name: string, asked: FlagType, actual: FlagType): string {
  return `flag ${name} is a ${actual} flag, not a ${asked} flag`;
}

/** The SDK clients' getter for each flag type (a segment has none: rules use it). */
const SDK_GETTERS: Readonly<Record<FlagType, string>> = {
  feature: 'getFlagBoolean',
  data: 'getFlagString',
  number: 'getFlagNumber',
  json: 'getFlagJson',
  segment: 'no getter: a segment is used by rules, not read',
};

/** How each side asks for a flag of a given type, for the hint of a type mismatch. */
export const ASK_BY_TYPE = {
  cli: (type: FlagType) => `pass -t ${type} (or leave -t out: the type is found by name)`,
  http: (type: FlagType) => `ask for it as a ${type} flag: flag_type=${type}`,
  sdk: (type: FlagType) => `read it with ${SDK_GETTERS[type]}`,
} as const;

/**
 * 404 — the runbook system's EmptyFlagDataException for a flag that exists only with
 * the other type; `field` is `flag_type`, the input to fix, and the hint says how.
 */
export class FlagTypeMismatchError extends EmptyFlagDataException {
  readonly actualType: FlagType;
  constructor(name: string, asked: FlagType, actual: FlagType, side: keyof typeof ASK_BY_TYPE) {
    super(flagTypeMismatchMessage(name, asked, actual), { field: 'flag_type', hint: ASK_BY_TYPE[side](actual) });
    this.actualType = actual;
  }
}

/**
 * 404 — a project with no flags in the store: said so, with the projects that do
 * exist, instead of answering like an empty project.
 */
export class ProjectNotFoundError extends VexilError {
  readonly code = 'ProjectNotFound';
  readonly status = 404;
  readonly project: string;
  readonly knownProjects: readonly string[];
  /** `where` names the store or service, e.g. `sqlite:./vexil.db` or `on http://vexil:8080`. */
  constructor(project: string, knownProjects: readonly string[], where?: string) {
    super(projectNotFoundMessage(project, knownProjects, where), {
      field: 'project_name',
      hint: `check the name, or create the project by adding its first flag: vexil add-flag NAME -p ${project} -t feature`,
    });
    this.project = project;
    this.knownProjects = knownProjects;
  }

  override toJSON(): VexilErrorJSON {
    return { ...super.toJSON(), known_projects: [...this.knownProjects] };
  }
}

/** Projects named in a ProjectNotFound message, at most (the rest are counted). */
const MAX_NAMED_PROJECTS = 20;

/** The one wording of "no such project", for the CLI, the service and the SDK client. */
export function projectNotFoundMessage(project: string, knownProjects: readonly string[], where?: string): string {
  const place = where === undefined ? '' : ` ${where}`;
  if (knownProjects.length === 0) return `project ${project} does not exist${place}; there are no projects yet`;
  const named = knownProjects.slice(0, MAX_NAMED_PROJECTS).join(', ');
  const more =
    knownProjects.length > MAX_NAMED_PROJECTS ? ` and ${knownProjects.length - MAX_NAMED_PROJECTS} more` : '';
  return `project ${project} does not exist${place}; known projects: ${named}${more}`;
}

/** 400 — a `HashAlgorithm` outside md5, sha1, sha256. */
export class InvalidHashAlgorithmException extends VexilError {
  readonly code = 'InvalidHashAlgorithmException';
  readonly status = 400;
  constructor(algorithm: unknown, options: VexilErrorOptions = {}) {
    super(`Invalid hash algorithm: ${formatValue(algorithm)}. Use one of md5 (default), sha1, sha256.`, {
      field: 'HashAlgorithm',
      ...options,
    });
  }
}

/**
 * 500 — stored data that does not fit the schema (the runbook system answered its
 * pydantic ValidationError with 500): somebody has to fix the row, not the caller.
 */
export class ValidationError extends VexilError {
  readonly code = 'ValidationError';
  readonly status = 500;
}

/** 400 — input from a caller (CLI argument, API body, config file) that cannot be accepted. */
export class InvalidInputError extends VexilError {
  readonly code = 'InvalidInput';
  readonly status = 400;
}

/**
 * 400 — OpenFeature's TARGETING_KEY_MISSING: the revision needs a targeting key for this
 * context (an override list or a percentage would decide) and the context has none.
 */
export class TargetingKeyMissingError extends VexilError {
  readonly code = 'TARGETING_KEY_MISSING';
  readonly status = 400;
  constructor(message: string, options: VexilErrorOptions = {}) {
    super(message, { field: 'targetingKey', ...options });
  }
}

/** 404 — a named revision (by its WTIME) that does not exist. */
export class RevisionNotFoundError extends VexilError {
  readonly code = 'RevisionNotFound';
  readonly status = 404;
}

/**
 * 401 — no API token, or one the service does not know (never issued, or revoked).
 * The HTTP layer adds `WWW-Authenticate: Bearer`.
 */
export class UnauthorizedError extends VexilError {
  readonly code = 'Unauthorized';
  readonly status = 401;
}

/** 403 — a known API token whose scope or projects do not cover what was asked. */
export class ForbiddenError extends VexilError {
  readonly code = 'Forbidden';
  readonly status = 403;
}

/** 404 — an API token id that names no token. */
export class TokenNotFoundError extends VexilError {
  readonly code = 'TokenNotFound';
  readonly status = 404;
}

/** 404 — a webhook id that names no webhook. */
export class WebhookNotFoundError extends VexilError {
  readonly code = 'WebhookNotFound';
  readonly status = 404;
}

/** 409 — adding a flag that already exists (update it instead). */
export class FlagExistsError extends VexilError {
  readonly code = 'FlagExists';
  readonly status = 409;
}

/**
 * 409 — a write based on a revision (`expectedLatest`) when another one was written
 * since: someone else changed the flag first, and nothing was written.
 */
export class RevisionConflictError extends VexilError {
  readonly code = 'RevisionConflict';
  readonly status = 409;
}

/** 504 — a backend call took longer than allowed. */
export class TimeoutError extends VexilError {
  readonly code = 'TimeoutError';
  readonly status = 504;
}

/** 429 — a caller asked more often, or holds more at once, than the service allows one caller. */
export class TooManyRequestsError extends VexilError {
  readonly code = 'TooManyRequests';
  readonly status = 429;
}

/** 503 — the store (or another dependency) cannot be reached, or the service is at a limit it sets for everyone. */
export class UnavailableError extends VexilError {
  readonly code = 'Unavailable';
  readonly status = 503;
}

export function isVexilError(value: unknown): value is VexilError {
  return value instanceof VexilError;
}

/** Renders a bad value for a message: strings quoted, everything else as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
