// The SDK protocol's types are core's, re-exported so applications need not depend on @vexil/core.
export type {
  EvaluationContext,
  FlagUpdate,
  FlagValue,
  JsonObject,
  JsonValue,
  ProjectSnapshot,
  ProjectSnapshotFlag,
} from '@vexil/core';
export {
  AsyncFeatureFlagClient,
  type AsyncFeatureFlagClientEventMap,
  type AsyncFeatureFlagClientOptions,
} from './async-feature-flag-client.js';
export { type ClientOperation, VexilClientError, type VexilClientErrorCode } from './client-errors.js';
export { ClientEvents } from './client-events.js';
export type { ReportOptions, ReportStats } from './evaluation-reporter.js';
export { type FeatureFlagsRequest, featureFlagsMiddleware } from './express-middleware.js';
export { featureFlagsPlugin } from './fastify-plugin.js';
export {
  type ClientState,
  type EvaluationReason,
  type EvaluationTarget,
  FeatureFlagClient,
  type FeatureFlagClientEventMap,
  type FeatureFlagClientOptions,
  type FlagEvaluationDetails,
  type SnapshotSource,
} from './feature-flag-client.js';
export { type BucketFor, FeatureFlags, type FeatureFlagsOptions } from './feature-flags.js';
export { FlagConfigError, type FlagConfigErrorDetails } from './flag-config-error.js';
export type { FlagConfig, FlagConfigs, MerinoFlagConfig, MerinoFlags, RevisionFlagConfig } from './flag-definitions.js';
export { type LoadFlagFilesOptions, loadFlagFiles } from './flag-files.js';
export { consoleLogger, type FeatureFlagsLogger } from './logger.js';
export { FEATURE_FLAG_TAG_PREFIX, featureFlagTags, type HasDecisions } from './metric-tags.js';
export {
  ATTR_FEATURE_FLAG_KEY,
  ATTR_FEATURE_FLAG_PROVIDER_NAME,
  ATTR_FEATURE_FLAG_RESULT_VALUE,
  ATTR_FEATURE_FLAG_RESULT_VARIANT,
  FEATURE_FLAG_EVALUATION_EVENT,
  type FeatureFlagEventOptions,
  recordFeatureFlagEvaluation,
  recordFeatureFlagEvaluations,
  type SpanLike,
} from './opentelemetry.js';
export { featureFlagLabelName, featureFlagLabelNames, featureFlagLabels } from './prometheus.js';
export type { FeatureFlagsMiddlewareOptions } from './request-flags.js';
export { sessionIdFromQueryString, sessionIdFromUrl } from './session-id.js';
export { flagsFromSnapshot, type SnapshotFlag } from './snapshot-flags.js';
export { type StatsDLike, type TaggedStatsDMethod, withFeatureFlagTags } from './statsd.js';
