/**
 * What a webhook receiver relies on (docs/webhooks.md): the headers of a delivery, how
 * it is signed and what its body holds. Shared here so the service that sends and any
 * TypeScript receiver name them alike.
 */
export const WEBHOOK_HEADERS = {
  /** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the webhook's secret>`. */
  signature: 'vexil-signature',
  /** The event type, as the body's `event`. */
  event: 'vexil-event',
  /** The delivery's id, as the body's `id`: the same on every attempt, so a receiver can drop repeats. */
  delivery: 'vexil-delivery',
} as const;

/** The scheme of the signature's `v1=` part: HMAC-SHA256, hex, over `timestamp + "." + body`. */
export const WEBHOOK_SIGNATURE_SCHEME = 'v1';

/** How old (or how far ahead) a delivery's timestamp a receiver should accept, in seconds: replays past it are refused. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The event a ping (`vexil webhook ping`, POST …/webhooks/{id}/ping) sends: no flag changed. */
export const WEBHOOK_PING_EVENT = 'ping';

/** The JSON body of a delivery. */
export interface WebhookPayload {
  /** The delivery's id (`dlv_…`), as the `Vexil-Delivery` header. */
  id: string;
  /** What happened: `revision.created`, `flag.archived`, … or `ping`. */
  event: string;
  /** When the change was made, ISO 8601 UTC. */
  time: string;
  project: string;
  /** The flag's type; `segment` for a segment. */
  flagType: string;
  flag: string;
  /** The WTIME of the row written (UTC `YYYY-MM-DD HH:MM:SS.ffffff`); null when the change wrote none. */
  revision: string | null;
  /** Who made the change: a token's owner, an OS user (CLI), `scheduler`. */
  actor: string;
  /** The schedule, ramp or proposal concerned, when there is one. */
  subject?: string;
  /** The revision's comment, or a short reason. */
  detail?: string;
}
