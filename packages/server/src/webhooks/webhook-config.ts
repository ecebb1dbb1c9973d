import { randomBytes } from 'node:crypto';
import { assertProjectName, InvalidInputError, WEBHOOK_PING_EVENT } from '@vexil/core';
import { CHANGE_EVENT_TYPES, type ChangeEventType } from '../change-events.js';

/** A webhook as kept (record kind `webhook`, or from VEXIL_WEBHOOKS): where changes are POSTed, and the key that signs them. */
export interface Webhook {
  /** `wh_…` for one added over the API or CLI; `env-1`, `env-2`… for VEXIL_WEBHOOKS, in order. */
  id: string;
  url: string;
  /** The HMAC key. Kept in the store as given (it must be, to sign): never shown by lists. */
  secret: string;
  /** Only this project's changes; absent: every project's. */
  project?: string;
  /** Only these event types; absent: every type. */
  events?: ChangeEventType[];
  description?: string;
  /** ISO 8601, UTC. */
  createdTime: string;
  createdBy: string;
}

/** What a list shows: never the secret. */
export interface WebhookView extends Omit<Webhook, 'secret'> {
  /** `store` (API, CLI: can be removed) or `env` (VEXIL_WEBHOOKS: change the environment). */
  source: 'store' | 'env';
}

/** What adding a webhook takes (API body, CLI options, a VEXIL_WEBHOOKS entry). */
export interface WebhookInput {
  url: unknown;
  secret?: unknown;
  project?: unknown;
  events?: unknown;
  description?: unknown;
}

export const WEBHOOK_SECRET_MIN = 16;
const SECRET_MAX = 200;

export function webhookView(hook: Webhook): WebhookView {
  const { secret: _secret, ...rest } = hook;
  return { ...rest, source: hook.id.startsWith('env-') ? 'env' : 'store' };
}

/** A new random secret: 32 bytes, base64url, prefixed so it is recognisable in a config. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * The URL a webhook may have: http or https, absolute, without a user name or password
 * (it would be sent to every redirect and written in logs). Any host: which hosts are
 * reachable is the operator's call (docs/webhooks.md), and local receivers are legitimate.
 */
export function checkWebhookUrl(value: unknown, field = 'url'): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidInputError(`${field} must be an http or https URL, e.g. https://hooks.example.com/vexil`, {
      field,
    });
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InvalidInputError(
      `${field} is not a URL: ${JSON.stringify(value)}; give e.g. https://hooks.example.com/vexil`,
      {
        field,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInputError(`${field} must use http or https, not ${url.protocol.replace(/:$/, '')}`, { field });
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidInputError(
      `${field} must not hold a user name or password: the signature (secret) is how a receiver knows the sender`,
      { field },
    );
  }
  if (url.href.length > 2000) throw new InvalidInputError(`${field} is longer than 2000 characters`, { field });
  return url.href;
}

function checkEvents(value: unknown, field: string): ChangeEventType[] | undefined {
  if (value === undefined || value === null) return undefined;
  const known: readonly string[] = CHANGE_EVENT_TYPES;
  if (!Array.isArray(value) || value.length === 0 || value.some((type) => !known.includes(type as string))) {
    throw new InvalidInputError(
      `${field} must be a non-empty list of event types (${CHANGE_EVENT_TYPES.join(', ')}), or left out for every event`,
      { field },
    );
  }
  return [...new Set(value as ChangeEventType[])];
}

function checkSecret(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length < WEBHOOK_SECRET_MIN || value.length > SECRET_MAX || /\s/.test(value)) {
    throw new InvalidInputError(
      `${field} must be ${WEBHOOK_SECRET_MIN} to ${SECRET_MAX} characters without spaces, or left out for a random one`,
      { field },
    );
  }
  return value;
}

/**
 * A webhook from its input, checked whole before anything is kept: the first field at
 * fault throws, named (with `prefix` for a VEXIL_WEBHOOKS entry).
 */
export function webhookFrom(
  input: WebhookInput,
  made: { id: string; createdTime: string; createdBy: string; secretRequired?: boolean },
  prefix = '',
): Webhook {
  const url = checkWebhookUrl(input.url, `${prefix}url`);
  const secret = checkSecret(input.secret, `${prefix}secret`);
  if (secret === undefined && made.secretRequired === true) {
    throw new InvalidInputError(`${prefix}secret is required (at least ${WEBHOOK_SECRET_MIN} characters)`, {
      field: `${prefix}secret`,
    });
  }
  const hook: Webhook = {
    id: made.id,
    url,
    secret: secret ?? newWebhookSecret(),
    createdTime: made.createdTime,
    createdBy: made.createdBy,
  };
  if (input.project !== undefined && input.project !== null) {
    if (typeof input.project !== 'string') {
      throw new InvalidInputError(`${prefix}project must be a project name`, { field: `${prefix}project` });
    }
    assertProjectName(input.project, `${prefix}project`);
    hook.project = input.project;
  }
  const events = checkEvents(input.events, `${prefix}events`);
  if (events !== undefined) hook.events = events;
  if (input.description !== undefined && input.description !== null) {
    if (typeof input.description !== 'string' || input.description.length > 500) {
      throw new InvalidInputError(`${prefix}description must be text of at most 500 characters`, {
        field: `${prefix}description`,
      });
    }
    hook.description = input.description;
  }
  return hook;
}

/** Whether a webhook wants an event of `project` and `type` (a ping goes to the webhook pinged only). */
export function webhookWants(hook: Webhook, project: string, type: string): boolean {
  if (type === WEBHOOK_PING_EVENT) return false;
  if (hook.project !== undefined && hook.project !== project) return false;
  return hook.events === undefined || (hook.events as readonly string[]).includes(type);
}

/**
 * VEXIL_WEBHOOKS: a JSON list of `{url, secret, project?, events?, description?}`;
 * each needs its secret (nothing random can be shown for it). A bad entry stops
 * start-up with a message naming it.
 */
export function parseWebhooksVariable(raw: string, name: string): Webhook[] {
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch (error) {
    throw new InvalidInputError(
      `${name} must be a JSON list like [{"url":"https://hooks.example.com/vexil","secret":"…"}]: ${(error as Error).message}`,
      { field: name },
    );
  }
  if (!Array.isArray(list)) {
    throw new InvalidInputError(`${name} must be a JSON list of {url, secret, project?, events?}`, { field: name });
  }
  return list.map((entry, i) => {
    const prefix = `${name}[${i}].`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new InvalidInputError(`${name}[${i}] must be an object {url, secret, project?, events?}`, { field: name });
    }
    const unknown = Object.keys(entry).filter(
      (key) => !['url', 'secret', 'project', 'events', 'description'].includes(key),
    );
    if (unknown.length > 0) {
      throw new InvalidInputError(
        `${prefix}${unknown[0]} is not a webhook setting: url, secret, project, events, description`,
        {
          field: `${prefix}${unknown[0]}`,
        },
      );
    }
    return webhookFrom(
      entry as WebhookInput,
      {
        id: `env-${i + 1}`,
        createdTime: new Date(0).toISOString(),
        createdBy: name,
        secretRequired: true,
      },
      prefix,
    );
  });
}
