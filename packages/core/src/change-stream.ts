/**
 * The events of the SDK protocol's change stream (`GET /sdk/v1/projects/{project}/stream`,
 * server-sent events; docs/sdk-protocol.md).
 */
export const CHANGE_STREAM_EVENTS = {
  /** The full snapshot (id: its version), when the client's version is not the current one. */
  snapshot: 'snapshot',
  /** `{version}`: the client's version is current. */
  ready: 'ready',
  /** A FlagUpdate (id: the new version): one flag's new newest revision. */
  change: 'change',
} as const;

export type ChangeStreamEvent = (typeof CHANGE_STREAM_EVENTS)[keyof typeof CHANGE_STREAM_EVENTS];

/** The data of a `ready` event. */
export interface ChangeStreamReady {
  readonly version: string;
}

/** How often the service sends a `: keep-alive` comment on an open stream, by default (`VEXIL_SSE_HEARTBEAT_MS`). */
export const CHANGE_STREAM_KEEP_ALIVE_MS = 15_000;
