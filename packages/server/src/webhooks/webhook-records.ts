import { randomBytes } from 'node:crypto';
import { InvalidInputError, WebhookNotFoundError } from '@vexil/core';
import type { AccessStore } from '@vexil/store';
import type { Actor } from '../access/actor.js';
import type { ChangeEventType } from '../change-events.js';
import { type Webhook, type WebhookInput, type WebhookView, webhookFrom, webhookView } from './webhook-config.js';

/** One try at a delivery. */
export interface DeliveryAttempt {
  /** When it was sent, ISO 8601 UTC. */
  time: string;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why it failed, when it did: `HTTP 500`, `timed out after 10000 ms`, `connect ECONNREFUSED …`. */
  error?: string;
  durationMs: number;
}

/**
 * `pending`: a retry is due at `nextAttemptTime` (one left pending long past that time
 * was dropped by a process that stopped); `delivered`: a 2xx answer; `failed`: every
 * attempt failed; `abandoned`: the service stopped before the retries were done.
 */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'abandoned'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event sent to one webhook, with its attempts (record kind `webhook-delivery`, keyed by time then id). */
export interface WebhookDelivery {
  /** `dlv_…`, as the `Vexil-Delivery` header and the body's `id`. */
  id: string;
  webhookId: string;
  url: string;
  event: ChangeEventType | 'ping';
  project: string;
  flagType: string;
  flag: string;
  revision: string | null;
  /** When the delivery was made (the change's event), ISO 8601 UTC. */
  createdTime: string;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  nextAttemptTime?: string;
}

export interface DeliveryQuery {
  webhook?: string | undefined;
  project?: string | undefined;
  status?: DeliveryStatus | undefined;
  /** The newest this many (100 by default, at most 1000). */
  limit?: number | undefined;
}

/** Deliveries kept: the oldest beyond this many are removed as new ones are made. */
export const DELIVERIES_KEPT = 1000;

export function deliveryKey(delivery: Pick<WebhookDelivery, 'createdTime' | 'id'>): string {
  return `${delivery.createdTime}#${delivery.id}`;
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

export function newDeliveryId(): string {
  return newId('dlv');
}

/**
 * Webhooks and their delivery log over the store's feature records (every engine),
 * beside those of VEXIL_WEBHOOKS, which live in the environment only.
 */
export class WebhookRecords {
  /** Counts the webhooks added and removed through this object, so what caches the list knows when to read it again. */
  changes = 0;

  constructor(
    private readonly access: AccessStore,
    /** VEXIL_WEBHOOKS's, or how to read them when first needed (a CLI command that changes nothing never reads them). */
    private readonly env: readonly Webhook[] | (() => readonly Webhook[]) = [],
  ) {}

  private get fromEnv(): readonly Webhook[] {
    return typeof this.env === 'function' ? this.env() : this.env;
  }

  /** Every webhook: those of the environment first, then the store's by id. */
  async list(): Promise<Webhook[]> {
    const stored = await this.access.listRecords<Webhook>('webhook');
    return [...this.fromEnv, ...stored.map((record) => record.value)];
  }

  async views(project?: string): Promise<WebhookView[]> {
    const hooks = await this.list();
    return hooks.filter((hook) => project === undefined || hook.project === project).map(webhookView);
  }

  async find(id: string): Promise<Webhook> {
    const hook = this.fromEnv.find((h) => h.id === id) ?? (await this.access.getRecord<Webhook>('webhook', id));
    if (hook === undefined) {
      throw new WebhookNotFoundError(`no webhook ${id}`, { field: 'id', hint: 'vexil webhook list shows them' });
    }
    return hook;
  }

  /** Adds a webhook; its secret (given, or made here) is in this answer only. */
  async add(input: WebhookInput, actor: Actor, now = Date.now()): Promise<{ webhook: WebhookView; secret: string }> {
    const hook = webhookFrom(input, {
      id: newId('wh'),
      createdTime: new Date(now).toISOString(),
      createdBy: actor.owner,
    });
    await this.access.putRecord('webhook', hook.id, hook);
    this.changes++;
    await this.audit('webhook-add', hook, actor, hook.createdTime);
    return { webhook: webhookView(hook), secret: hook.secret };
  }

  async remove(id: string, actor: Actor, now = Date.now()): Promise<WebhookView> {
    if (id.startsWith('env-')) {
      throw new InvalidInputError(`webhook ${id} comes from VEXIL_WEBHOOKS: change the environment to remove it`, {
        field: 'id',
      });
    }
    const hook = await this.find(id);
    await this.access.deleteRecord('webhook', id);
    this.changes++;
    await this.audit('webhook-remove', hook, actor, new Date(now).toISOString());
    return webhookView(hook);
  }

  /** Who added or removed a webhook, in the audit view (`vexil audit`): a URL the service will POST to is worth knowing about. */
  private async audit(action: 'webhook-add' | 'webhook-remove', hook: Webhook, actor: Actor, time: string) {
    await this.access.appendAccessEvent({
      time,
      action,
      actor: actor.owner,
      tokenId: actor.tokenId,
      address: actor.address,
      projects: hook.project === undefined ? [] : [hook.project],
      subject: hook.id,
      detail: `${hook.url}${hook.project === undefined ? '' : ` (project ${hook.project})`}`,
    });
  }

  async saveDelivery(delivery: WebhookDelivery): Promise<void> {
    await this.access.putRecord('webhook-delivery', deliveryKey(delivery), delivery);
  }

  /** Newest first. */
  async deliveries(query: DeliveryQuery = {}): Promise<WebhookDelivery[]> {
    const limit = query.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > DELIVERIES_KEPT) {
      throw new InvalidInputError(`limit must be a whole number from 1 to ${DELIVERIES_KEPT}`, { field: 'limit' });
    }
    const all = (await this.access.listRecords<WebhookDelivery>('webhook-delivery')).map((record) => record.value);
    return all
      .filter(
        (d) =>
          (query.webhook === undefined || d.webhookId === query.webhook) &&
          (query.project === undefined || d.project === query.project) &&
          (query.status === undefined || d.status === query.status),
      )
      .reverse()
      .slice(0, limit);
  }

  /** Removes the oldest deliveries beyond `keep`. */
  async pruneDeliveries(keep = DELIVERIES_KEPT): Promise<number> {
    const all = await this.access.listRecords<WebhookDelivery>('webhook-delivery');
    const old = all.slice(0, Math.max(0, all.length - keep));
    for (const record of old) await this.access.deleteRecord('webhook-delivery', record.key);
    return old.length;
  }
}
