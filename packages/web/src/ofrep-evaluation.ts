import type { EvaluationContext } from '@vexil/core';
import type { Evaluation, EvaluationFactory, StreamEvent } from './evaluation.js';
import type { FlagAnswer, FlagAnswers } from './flag-answers.js';
import { send, type Transport } from './transport.js';
import { VexilWebError } from './web-error.js';

/**
 * Answers from the service's bulk OFREP evaluation (`POST /ofrep/v1/evaluate/flags`),
 * the default: the browser receives values only, not the rules. Fetched again (with
 * `If-None-Match`, so an unchanged answer is a 304) when the change stream says the
 * flags changed, on a poll, and when the context changes.
 */
export const ofrepEvaluation: EvaluationFactory = (transport) => new OfrepEvaluation(transport);

class OfrepEvaluation implements Evaluation {
  private readonly url: string;
  /** The stream's last event id: the version of the project's flags (a reconnect resumes from it). */
  private streamVersion: string | undefined;
  private etag: string | undefined;
  private etagContext: string | undefined;

  constructor(private readonly transport: Transport) {
    this.url = `${transport.baseUrl}/ofrep/v1/evaluate/flags`;
  }

  version(): string | undefined {
    return this.streamVersion;
  }

  streamEvent(event: StreamEvent): boolean {
    if (event.id !== undefined && event.id !== '') this.streamVersion = event.id;
    // `ready`: the version held is current; a snapshot or a change: the answers may differ.
    return event.event !== 'ready';
  }

  async answers(context: EvaluationContext, _fresh: boolean, signal: AbortSignal): Promise<FlagAnswers | undefined> {
    const body = JSON.stringify({ context });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.etag !== undefined && this.etagContext === body) headers['if-none-match'] = this.etag;
    const what = `OFREP evaluation of project ${this.transport.project}`;
    const response = await send(this.transport, this.url, { method: 'POST', headers, body }, what, signal);
    if (response.status === 304) return undefined;
    let flags: FlagAnswer[];
    try {
      flags = ((await response.json()) as { flags: FlagAnswer[] }).flags;
      if (!Array.isArray(flags)) throw new TypeError('no "flags" array');
    } catch (error) {
      throw new VexilWebError('PARSE_ERROR', `${what}: the answer cannot be read (${String(error)})`, 200, error);
    }
    this.etag = response.headers.get('etag') ?? undefined;
    this.etagContext = body;
    return new Map(flags.map((flag) => [flag.key, flag]));
  }
}
