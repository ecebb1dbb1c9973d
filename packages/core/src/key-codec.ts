import { InvalidInputError } from './errors.js';
import type { FlagRef, FlagType } from './types.js';

/**
 * Row keys in the runbook system's layout, so its Bigtable tables and Bigtable Studio
 * `LIKE 'PROJECT#…'` queries keep working:
 *
 *   PROJECT#{project}#ROWTYPE#{FLAG|REVISION}#FLAGTYPE#{type}#FLAGNAME#{name}#WTIME#{time}
 *   PROJECT#{project}#FLAGTYPE#{type}#FLAGNAME#{name}#INSTANCEID#{id}#REQUESTID#{rid}#TIME#{time}
 *
 * Project and flag names are validated to never hold `#`. Instance and request ids
 * may hold anything, so `%`, `#` and control characters are percent-encoded; every
 * other character (the ids the runbook system saw) is written unchanged.
 */
export type RowKind = 'FLAG' | 'REVISION';

export interface FlagRowKey {
  kind: RowKind;
  ref: FlagRef;
  wtime: string;
}

export interface LogRowKey {
  project: string;
  flagType: string;
  flagName: string;
  instanceId: string;
  requestId: string;
  time: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be escaped
const NEEDS_ENCODING = /[%#\u0000-\u001f\u007f]/g;

/** The same characters, tested once: most ids hold none, and a test costs less than a replace. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be escaped
const HAS_ENCODED_CHARACTER = /[%#\u0000-\u001f\u007f]/;

export function encodeKeyPart(value: string): string {
  if (!HAS_ENCODED_CHARACTER.test(value)) return value;
  return value.replace(NEEDS_ENCODING, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function decodeKeyPart(value: string): string {
  return value.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Everything before the time: scanning this prefix yields one flag's rows of one kind in time order. */
export function flagRowPrefix(kind: RowKind, ref: FlagRef): string {
  return `PROJECT#${ref.project}#ROWTYPE#${kind}#FLAGTYPE#${ref.flagType}#FLAGNAME#${ref.name}#WTIME#`;
}

/** Scanning this prefix yields every row of one kind in a project. */
export function projectRowPrefix(kind: RowKind, project: string): string {
  return `PROJECT#${project}#ROWTYPE#${kind}#`;
}

export function flagRowKey(kind: RowKind, ref: FlagRef, wtime: string): string {
  return flagRowPrefix(kind, ref) + wtime;
}

const FLAG_ROW_KEY = /^PROJECT#([^#]+)#ROWTYPE#(FLAG|REVISION)#FLAGTYPE#([^#]+)#FLAGNAME#([^#]+)#WTIME#([^#]+)$/;

export function parseFlagRowKey(key: string): FlagRowKey {
  const match = FLAG_ROW_KEY.exec(key);
  if (!match) {
    throw new InvalidInputError(
      `row key ${JSON.stringify(key)} is not PROJECT#{project}#ROWTYPE#{FLAG|REVISION}#FLAGTYPE#{type}#FLAGNAME#{name}#WTIME#{time}`,
      { field: 'row_key' },
    );
  }
  const [, project, kind, flagType, name, wtime] = match as unknown as [
    string,
    string,
    RowKind,
    string,
    string,
    string,
  ];
  return { kind, ref: { project, flagType: flagType as FlagType, name }, wtime };
}

export function logRowKey(entry: LogRowKey): string {
  return (
    `PROJECT#${entry.project}#FLAGTYPE#${entry.flagType}#FLAGNAME#${entry.flagName}` +
    `#INSTANCEID#${encodeKeyPart(entry.instanceId)}#REQUESTID#${encodeKeyPart(entry.requestId)}#TIME#${entry.time}`
  );
}

/** Scanning this prefix yields one flag's evaluation log, grouped by instance id. */
export function logRowPrefix(project: string, flagType?: string, flagName?: string): string {
  let prefix = `PROJECT#${project}#FLAGTYPE#`;
  if (flagType !== undefined) {
    prefix += `${flagType}#FLAGNAME#`;
    if (flagName !== undefined) prefix += `${flagName}#INSTANCEID#`;
  }
  return prefix;
}

const LOG_ROW_KEY =
  /^PROJECT#([^#]+)#FLAGTYPE#([^#]+)#FLAGNAME#([^#]+)#INSTANCEID#([^#]*)#REQUESTID#([^#]*)#TIME#([^#]+)$/;

export function parseLogRowKey(key: string): LogRowKey {
  const match = LOG_ROW_KEY.exec(key);
  if (!match) {
    throw new InvalidInputError(
      `row key ${JSON.stringify(key)} is not PROJECT#{project}#FLAGTYPE#{type}#FLAGNAME#{name}#INSTANCEID#{id}#REQUESTID#{rid}#TIME#{time}`,
      { field: 'row_key' },
    );
  }
  const [, project, flagType, flagName, instanceId, requestId, time] = match as unknown as string[] as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    project,
    flagType,
    flagName,
    instanceId: decodeKeyPart(instanceId),
    requestId: decodeKeyPart(requestId),
    time,
  };
}
