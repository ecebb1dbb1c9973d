import type { EvaluationContext } from '@vexil/core';
import type { FlagAnswers } from './flag-answers.js';
import type { Transport } from './transport.js';

/** A change-stream event (docs/sdk-protocol.md): `snapshot`, `ready` or `change`, with its data and id. */
export interface StreamEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

/**
 * How the client gets its answers: from the service (bulk OFREP) or in the browser
 * from the project snapshot (`@vexil/web/local`). The client drives it: the change
 * stream's events, polls while the stream is down, and context changes.
 */
export interface Evaluation {
  /** The version of the flags the answers come from, sent when the stream reconnects (undefined: none). */
  version(): string | undefined;
  /**
   * Takes a stream event; true when the answers may have changed (the client then calls
   * `answers`). Throws when the event cannot be applied (a missed change): the client
   * reconnects, resuming from `version()`, and gets a full snapshot.
   */
  streamEvent(event: StreamEvent): boolean;
  /**
   * The answers for `context` (which holds `project_name`): fetched or computed;
   * undefined when unchanged since the last call for the same context. `fresh`: fetch
   * what the stream would have sent (a poll while it is down).
   */
  answers(context: EvaluationContext, fresh: boolean, signal: AbortSignal): Promise<FlagAnswers | undefined>;
}

/** Makes an Evaluation for a client's transport; pass it as the client's `evaluation` option. */
export type EvaluationFactory = (transport: Transport) => Evaluation;
