import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '@vexil/core';
import {
  type AccessEvent,
  type AccessEventQuery,
  type AccessStore,
  type FeatureRecord,
  type ProjectSettings,
  RECORD_KINDS,
  type RecordKind,
  type TokenRecord,
} from '../access-store.js';
import { checkLimit } from '../rows.js';

/**
 * The access store written once over what each engine provides: records of a few
 * kinds (`token` by hash, `project` by name, `event` by time, and the features'
 * RECORD_KINDS), each a JSON document under a key, listed in key order. Internal to the package.
 */
export type AccessRecordKind = 'token' | 'project' | 'event' | RecordKind;

export interface AccessRecords {
  get(kind: AccessRecordKind, key: string): Promise<string | undefined>;
  /** Inserts or replaces. */
  put(kind: AccessRecordKind, key: string, json: string): Promise<void>;
  /** Every record of a kind whose key is at least `from`, in key order. */
  list(kind: AccessRecordKind, from?: string): Promise<{ key: string; json: string }[]>;
  /** Removes a record; true when there was one. */
  delete(kind: AccessRecordKind, key: string): Promise<boolean>;
  /** Writes `json` only if the record's JSON is still `expected` (`null`: absent), atomically; true when written. */
  replace(kind: AccessRecordKind, key: string, expected: string | null, json: string): Promise<boolean>;
}

function checkRecord(kind: RecordKind, key: string): void {
  if (!(RECORD_KINDS as readonly string[]).includes(kind)) {
    throw new InvalidInputError(`unknown record kind ${JSON.stringify(kind)}: one of ${RECORD_KINDS.join(', ')}`, {
      field: 'kind',
    });
  }
  if (key === '' || key.length > 1000) {
    throw new InvalidInputError('a record key is 1 to 1000 characters', { field: 'key' });
  }
}

export class RecordAccessStore implements AccessStore {
  constructor(private readonly records: AccessRecords) {}

  async putToken(token: TokenRecord): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(token.hash)) {
      throw new InvalidInputError('a token hash is 64 hex digits (SHA-256)', { field: 'hash' });
    }
    await this.records.put('token', token.hash, JSON.stringify(token));
  }

  async findToken(hash: string): Promise<TokenRecord | undefined> {
    const json = await this.records.get('token', hash);
    return json === undefined ? undefined : (JSON.parse(json) as TokenRecord);
  }

  async listTokens(): Promise<TokenRecord[]> {
    const tokens = (await this.records.list('token')).map(({ json }) => JSON.parse(json) as TokenRecord);
    return tokens.sort((a, b) => a.createdTime.localeCompare(b.createdTime) || a.id.localeCompare(b.id));
  }

  async revokeToken(id: string, time: string): Promise<TokenRecord | undefined> {
    // Tokens are few (people and services, not requests): a scan finds one by id.
    const token = (await this.listTokens()).find((t) => t.id === id);
    if (token === undefined) return undefined;
    if (token.revokedTime !== undefined) return token;
    const revoked = { ...token, revokedTime: time };
    await this.records.put('token', token.hash, JSON.stringify(revoked));
    return revoked;
  }

  async projectSettings(project: string): Promise<ProjectSettings | undefined> {
    const json = await this.records.get('project', project);
    return json === undefined ? undefined : (JSON.parse(json) as ProjectSettings);
  }

  async putProjectSettings(settings: ProjectSettings): Promise<void> {
    await this.records.put('project', settings.project, JSON.stringify(settings));
  }

  async appendAccessEvent(event: AccessEvent): Promise<void> {
    // Time first, so key order is time order; the random part keeps events of one instant apart.
    await this.records.put('event', `${event.time}#${randomUUID()}`, JSON.stringify(event));
  }

  async readAccessEvents(query: AccessEventQuery = {}): Promise<AccessEvent[]> {
    const limit = checkLimit(query.limit);
    let events = (await this.records.list('event', query.since)).map(({ json }) => JSON.parse(json) as AccessEvent);
    if (query.project !== undefined) events = events.filter((event) => event.projects.includes(query.project!));
    return limit === undefined ? events : events.slice(Math.max(0, events.length - limit));
  }

  async putRecord(kind: RecordKind, key: string, value: object): Promise<void> {
    checkRecord(kind, key);
    await this.records.put(kind, key, JSON.stringify(value));
  }

  async getRecord<T extends object>(kind: RecordKind, key: string): Promise<T | undefined> {
    checkRecord(kind, key);
    const json = await this.records.get(kind, key);
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }

  async listRecords<T extends object>(kind: RecordKind, from?: string): Promise<FeatureRecord<T>[]> {
    checkRecord(kind, 'list');
    return (await this.records.list(kind, from)).map(({ key, json }) => ({ key, value: JSON.parse(json) as T }));
  }

  async deleteRecord(kind: RecordKind, key: string): Promise<boolean> {
    checkRecord(kind, key);
    return this.records.delete(kind, key);
  }

  async replaceRecord(kind: RecordKind, key: string, expected: object | null, value: object): Promise<boolean> {
    checkRecord(kind, key);
    // A record read back is JSON.parse of what putRecord wrote, so stringifying it gives the stored text again.
    return this.records.replace(kind, key, expected === null ? null : JSON.stringify(expected), JSON.stringify(value));
  }
}
