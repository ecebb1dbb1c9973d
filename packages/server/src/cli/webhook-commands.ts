import type { StoreEngine } from '@vexil/store';
import { type Command, Option } from 'commander';
import type { ChangeEvents } from '../change-events.js';
import { SERVICE_VARIABLES } from '../config-variables.js';
import type { FlagAdmin } from '../flag-admin.js';
import { parseWebhooksVariable, type WebhookView } from '../webhooks/webhook-config.js';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.js';
import {
  DELIVERIES_KEPT,
  DELIVERY_STATUSES,
  type DeliveryStatus,
  type WebhookDelivery,
  WebhookRecords,
} from '../webhooks/webhook-records.js';
import { parseLimit } from './arguments.js';
import { callerName } from './caller.js';
import type { CliIO } from './program.js';

/** What the webhook commands share with the rest of the program. */
export interface WebhookCommandContext {
  withStore: <T>(command: Command, work: (admin: FlagAdmin, store: StoreEngine) => Promise<T>) => Promise<T>;
  print: <T>(command: Command, value: T, human: (value: T) => string) => void;
  collect: (value: string, all: string[]) => string[];
}

/** The webhooks of a store and of VEXIL_WEBHOOKS (checked as `vexil serve` checks them). */
export function webhookRecords(store: StoreEngine, env: NodeJS.ProcessEnv = process.env): WebhookRecords {
  const name = SERVICE_VARIABLES.webhooks.name;
  // Read when needed, so a bad VEXIL_WEBHOOKS stops only what uses it, not `vexil list`.
  return new WebhookRecords(store.access, () => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? [] : parseWebhooksVariable(raw, name);
  });
}

/**
 * A command that changes flags sends its webhooks itself before it exits: a few
 * attempts, close together, so a receiver that is down holds the command up for
 * seconds, not the service's 20 minutes (docs/webhooks.md says so).
 */
export const CLI_WEBHOOK_RETRIES = { maxAttempts: 3, firstRetryMs: 500, backoffFactor: 2, timeoutMs: 5000 } as const;

/**
 * Sends the changes `events` announces for the length of one command; `finish` waits
 * for the deliveries (retries included) and says on stderr which failed.
 */
export function sendCommandWebhooks(
  store: StoreEngine,
  events: ChangeEvents,
  io: Pick<CliIO, 'err'>,
): { finish: () => Promise<void> } {
  const failed: WebhookDelivery[] = [];
  const dispatcher = new WebhookDispatcher(webhookRecords(store), {
    ...CLI_WEBHOOK_RETRIES,
    logger: {
      warn: () => {},
      error: (details, message) => {
        const cause = (details as { err?: unknown }).err;
        io.err(`warning: ${message}${cause instanceof Error ? `: ${cause.message}` : ''}`);
      },
    },
    onFinished: (delivery) => {
      if (delivery.status !== 'delivered') failed.push(delivery);
    },
  });
  const stop = dispatcher.subscribe(events);
  return {
    finish: async () => {
      stop();
      await dispatcher.drain({ retries: true });
      for (const delivery of failed) {
        const last = delivery.attempts.at(-1)?.error ?? 'not sent';
        io.err(
          `warning: webhook ${delivery.webhookId} (${delivery.url}) did not take ${delivery.event} of ${delivery.flag}: ${last} (${delivery.attempts.length} attempts; vexil webhook deliveries)`,
        );
      }
    },
  };
}

function formatWebhooks(hooks: WebhookView[]): string {
  if (hooks.length === 0) return 'no webhooks';
  return hooks
    .map((hook) => {
      const scope = hook.project === undefined ? 'every project' : `project ${hook.project}`;
      const events = hook.events === undefined ? 'every event' : hook.events.join(', ');
      const about = hook.description === undefined ? '' : `  — ${hook.description}`;
      return `${hook.id}  ${hook.url}  ${scope}, ${events}  (${hook.source === 'env' ? 'VEXIL_WEBHOOKS' : `added ${hook.createdTime} by ${hook.createdBy}`})${about}`;
    })
    .join('\n');
}

function formatDeliveries(deliveries: WebhookDelivery[]): string {
  if (deliveries.length === 0) return 'no deliveries';
  return deliveries
    .map((d) => {
      const last = d.attempts.at(-1);
      const outcome = last === undefined ? '' : (last.error ?? `HTTP ${last.status}`);
      const next = d.nextAttemptTime === undefined ? '' : `, next attempt ${d.nextAttemptTime}`;
      return `${d.createdTime}  ${d.status.padEnd(9)} ${d.id}  ${d.webhookId}  ${d.event} ${d.project}/${d.flag}  ${d.attempts.length} attempt(s), last: ${outcome}${next}`;
    })
    .join('\n');
}

/** `vexil webhook add|list|remove|ping|deliveries`: on the store directly, like the other commands. */
export function registerWebhookCommands(program: Command, context: WebhookCommandContext): void {
  const { withStore, print, collect } = context;
  const webhook = program
    .command('webhook')
    .description('webhooks: every change POSTed, signed, to a URL (docs/webhooks.md)');

  webhook
    .command('add')
    .description('add a webhook; its secret is printed this once (the service reads it from the store within a change)')
    .argument('<url>', 'http or https URL the changes are POSTed to')
    .addOption(new Option('-p, --project <project>', "only this project's changes (every project's by default)"))
    .option('--secret <secret>', 'the signing key, 16 to 200 characters (a random one by default)')
    .option('--event <type>', 'only this event type, repeatable (every type by default)', collect, [] as string[])
    .option('-d, --description <text>', 'what it is for')
    .action(
      async (
        url: string,
        opts: { project?: string; secret?: string; event: string[]; description?: string },
        command: Command,
      ) => {
        const added = await withStore(command, async (admin, store) => {
          if (opts.project !== undefined) await admin.requireProject(opts.project);
          return webhookRecords(store).add(
            {
              url,
              secret: opts.secret,
              project: opts.project,
              events: opts.event.length > 0 ? opts.event : undefined,
              description: opts.description,
            },
            { owner: callerName() },
          );
        });
        print(
          command,
          added,
          (a) =>
            `${formatWebhooks([a.webhook])}\nsecret: ${a.secret}\n(shown this once: give it to the receiver, see docs/webhooks.md)`,
        );
      },
    );

  webhook
    .command('list')
    .description('list the webhooks (those of VEXIL_WEBHOOKS too); never a secret')
    .addOption(new Option('-p, --project <project>', 'only the webhooks of this project'))
    .action(async (opts: { project?: string }, command: Command) => {
      const hooks = await withStore(command, (_admin, store) => webhookRecords(store).views(opts.project));
      print(command, hooks, formatWebhooks);
    });

  webhook
    .command('remove')
    .description('remove a webhook: nothing more is sent to it')
    .argument('<id>', 'its id (wh_…), from vexil webhook list')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const removed = await withStore(command, (_admin, store) =>
        webhookRecords(store).remove(id, { owner: callerName() }),
      );
      print(command, removed, (hook) => `removed ${hook.id} (${hook.url})`);
    });

  webhook
    .command('ping')
    .description('send a ping event to one webhook now, to check its receiver')
    .argument('<id>', 'its id, from vexil webhook list')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const delivery = await withStore(command, async (_admin, store) => {
        const records = webhookRecords(store);
        const dispatcher = new WebhookDispatcher(records, { ...CLI_WEBHOOK_RETRIES, maxAttempts: 1 });
        return dispatcher.ping(await records.find(id), callerName());
      });
      print(command, delivery, (d) => formatDeliveries([d]));
    });

  webhook
    .command('deliveries')
    .description(`the delivery log, newest first (the newest ${DELIVERIES_KEPT} are kept)`)
    .option('--webhook <id>', 'only this webhook’s')
    .addOption(new Option('-p, --project <project>', 'only this project’s'))
    .addOption(new Option('--status <status>', 'only deliveries in this state').choices([...DELIVERY_STATUSES]))
    .option('-n, --limit <n>', 'the newest this many (default 100)', parseLimit)
    .action(
      async (
        opts: { webhook?: string; project?: string; status?: DeliveryStatus; limit?: number },
        command: Command,
      ) => {
        const deliveries = await withStore(command, (_admin, store) => webhookRecords(store).deliveries(opts));
        print(command, deliveries, formatDeliveries);
      },
    );
}
