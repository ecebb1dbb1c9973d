import type { FlagStore, NewRow, StoredRow } from '@vexil/store';

/**
 * Who makes a change: over the API, the token's owner (with the token and the
 * caller's address); from the CLI, the OS user. It is what a change records as its
 * `OwnerID`; an owner a caller names is kept as `OnBehalfOf`, never taken as the actor.
 */
export interface Actor {
  owner: string;
  tokenId?: string | undefined;
  address?: string | undefined;
}

/** The revision and FLAG row fields that record who wrote the row (Bigtable: `metadata:` columns like the others). */
export const ACTOR_FIELDS = {
  owner: 'OwnerID',
  onBehalfOf: 'OnBehalfOf',
  address: 'ActorAddress',
  tokenId: 'TokenID',
} as const;

/** A row's fields with the actor recorded: a different OwnerID the caller gave becomes OnBehalfOf. */
export function stampRow(row: NewRow, actor: Actor): NewRow {
  const fields: Record<string, unknown> = { ...row.fields };
  const given = fields[ACTOR_FIELDS.owner];
  delete fields[ACTOR_FIELDS.onBehalfOf];
  delete fields[ACTOR_FIELDS.address];
  delete fields[ACTOR_FIELDS.tokenId];
  fields[ACTOR_FIELDS.owner] = actor.owner;
  if (typeof given === 'string' && given !== '' && given !== actor.owner) fields[ACTOR_FIELDS.onBehalfOf] = given;
  if (actor.address !== undefined) fields[ACTOR_FIELDS.address] = actor.address;
  if (actor.tokenId !== undefined) fields[ACTOR_FIELDS.tokenId] = actor.tokenId;
  return { ...row, fields };
}

/**
 * The store as one actor writes to it: every appended row records the actor. Every
 * write of FlagAdmin (the API, the CLI, apply, imports) goes through `append`, so this
 * is the one place it is done.
 */
export function storeWrittenBy<S extends FlagStore>(
  store: S,
  actor: Actor,
  beforeAppend?: (rows: readonly NewRow[]) => Promise<void>,
): S {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'append') {
        return async (rows: readonly NewRow[]): Promise<StoredRow[]> => {
          const stamped = rows.map((row) => stampRow(row, actor));
          await beforeAppend?.(stamped);
          return target.append(stamped);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
