import { createHmac } from 'node:crypto';
import { WEBHOOK_SIGNATURE_SCHEME } from '@vexil/core';

/**
 * The `Vexil-Signature` header of a delivery sent at `timestamp` (Unix seconds):
 * `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`. The timestamp is
 * signed with the body, so a receiver that refuses old timestamps refuses replays.
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},${WEBHOOK_SIGNATURE_SCHEME}=${mac}`;
}
