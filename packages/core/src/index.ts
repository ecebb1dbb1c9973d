export * from './access.js';
export {
  type AnswerFacts,
  answerMetadata,
  runbookAnswerMetadata,
} from './answer-metadata.js';
export * from './change-stream.js';
export * from './compiled-flag.js';
export {
  CONDITION_OPERATORS,
  type ConditionOperator,
  type ConditionTest,
  compileCondition,
  isConditionOperator,
  SEGMENT_ATTRIBUTE,
  SEGMENT_OPERATORS,
} from './conditions.js';
export * from './errors.js';
export * from './evaluate.js';
export * from './evaluation-context.js';
export * from './evaluation-result.js';
export * from './flag-types.js';
export * from './format-version.js';
export { DIGEST_BITS, digest, digestHex, digestWords, utf8Bytes } from './hash/index.js';
export { calendarDateDays, compareInstants, type Instant, isCalendarDate, parseInstant } from './instants.js';
export { jsonEquals } from './json-equality.js';
export * from './key-codec.js';
export * from './limits.js';
export * from './names.js';
export * from './ofrep-reason.js';
export {
  expiryOf,
  isExpired,
  MAX_METADATA_KEY_LENGTH,
  MAX_METADATA_KEYS,
  MAX_METADATA_STRING_LENGTH,
  METADATA_KEYS,
} from './revision-metadata.js';
export { inRollout } from './rollout.js';
export { answerableValues, type ConfiguredShare, configuredShares } from './rollout-shares.js';
export * from './segments.js';
export { compareSemver, parseSemver, type SemanticVersion } from './semver.js';
export * from './snapshot.js';
export { parseRules, segmentNamesOf } from './targeting-rules.js';
export * from './types.js';
export * from './validation.js';
export { isVariantName, variantNameOf } from './variants.js';
export * from './webhook-protocol.js';
export * from './wtime.js';
