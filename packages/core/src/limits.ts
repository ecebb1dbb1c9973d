/**
 * Input limits of the service's protocols (`/get-feature-flag`, OFREP, the SDK
 * protocol), checked alike by the service and the SDK clients.
 */

/** The longest instance id accepted (an empty one is refused too). */
export const MAX_INSTANCE_ID_LENGTH = 1000;

/** The longest flag name or project name. */
export const MAX_NAME_LENGTH = 200;

/** Evaluations in one report (`POST /sdk/v1/evaluations`), at most. */
export const MAX_REPORTED_EVALUATIONS = 1000;

/** The longest rollout group a report may carry. */
export const MAX_ROLLOUT_GROUP_LENGTH = 100;

/** The longest request id kept (`X-Request-Id`, a report's `requestId`). */
export const MAX_REQUEST_ID_LENGTH = 200;

/** Whether `value` is an instance id the service accepts: a string of 1 to MAX_INSTANCE_ID_LENGTH characters. */
export function isInstanceId(value: unknown): value is string {
  return typeof value === 'string' && value.length !== 0 && value.length <= MAX_INSTANCE_ID_LENGTH;
}
