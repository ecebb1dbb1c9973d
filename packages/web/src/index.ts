export type { EvaluationContext, FlagValue, JsonObject, JsonValue } from '@vexil/core';
export type { Evaluation, EvaluationFactory, StreamEvent } from './evaluation.js';
export type { FlagAnswer, FlagAnswers, FlagDetails, JsonFlagValue } from './flag-answers.js';
export { ofrepEvaluation } from './ofrep-evaluation.js';
export type { Transport } from './transport.js';
export {
  VexilClient,
  type VexilClientEvents,
  type VexilClientOptions,
  type VexilClientState,
} from './vexil-client.js';
export { VexilWebError, type VexilWebErrorCode } from './web-error.js';
