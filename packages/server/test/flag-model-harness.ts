import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FlagRef, type FlagType, storedFlagType } from '@vexil/core';
import { SqliteStore, type StoreEngine } from '@vexil/store';
import type { Env } from '../src/config.js';
import { serviceWithFlags } from './service-harness.js';

/**
 * Flags of the flag model (docs/flag-model.md) that the evaluation tests share, written
 * as stored rows (as any tool may write them) next to the runbook flags of
 * service-harness: every type, variants, rules on context attributes, a segment, the
 * kill switch, "no value" and metadata, with OpenFeature-style names.
 */
export const PROJECT = 'shop';

const ref = (flagType: FlagType, name: string): FlagRef => ({ project: PROJECT, flagType, name });

export const betaTesters = ref('segment', 'beta-testers');
/** Number flag: a rule on the segment, a rule on `plan`, named values, metadata; needs no targeting key. */
export const discount = ref('number', 'discount.rate');
/** Json flag: a 50 % rollout of an object (needs a targeting key). */
export const layout = ref('json', 'checkout-layout');
/** Feature flag that targets nobody (STATIC, no key needed), OpenFeature's `boolean-flag`. */
export const booleanFlag = ref('feature', 'boolean-flag');
/** Feature flag turned off by the kill switch: ControlValue false, variant `off`. */
export const killed = ref('feature', 'kill-me');
/** Data flag whose control value is "no value" (the caller's default); `bonjour` for `lang: fr`. */
export const greeting = ref('data', 'greeting');
/** Feature flag on for a `now` attribute after 2026-03-01 (a date rule; needs no key). */
export const springSale = ref('feature', 'spring-sale');

export const DISCOUNT_METADATA = { owner: 'growth', ticket: 'https://tickets.example/T-1', expires: '2027-01-31' };

/** The segment's revisions: members by list (`qa-1`, `beta-1`) and by condition (a vexil.dev email). */
export function segmentRevision(included: string[] = ['qa-1', 'beta-1']): Record<string, unknown> {
  return {
    Name: betaTesters.name,
    Type: 'SEGMENT',
    FormatVersion: 2,
    Included: included,
    Conditions: [{ Attribute: 'email', Operator: 'ends_with', Values: ['@vexil.dev'] }],
  };
}

const revisions: [FlagRef, Record<string, unknown>][] = [
  [betaTesters, segmentRevision()],
  [
    discount,
    {
      ControlValue: 0,
      Treatments: [],
      Variants: { none: 0, some: 0.1, lots: 0.25 },
      Rules: [
        {
          Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: [betaTesters.name] }],
          Value: 0.25,
        },
        { Conditions: [{ Attribute: 'plan', Operator: 'equals', Values: ['pro'] }], Value: 0.1 },
      ],
      Metadata: DISCOUNT_METADATA,
    },
  ],
  [
    layout,
    {
      ControlValue: { columns: 1 },
      Treatments: [{ OverrideList: [], PercentRollout: 50, Value: { columns: 2, theme: 'dark' } }],
    },
  ],
  [booleanFlag, { ControlValue: true, Treatments: [] }],
  [
    killed,
    {
      ControlValue: false,
      Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 100, Value: true }],
      Variants: { on: true, off: false },
      Disabled: true,
    },
  ],
  [
    greeting,
    {
      ControlValue: null,
      Treatments: [],
      Rules: [{ Conditions: [{ Attribute: 'lang', Operator: 'equals', Values: ['fr'] }], Value: 'bonjour' }],
    },
  ],
  [
    springSale,
    {
      ControlValue: false,
      Treatments: [],
      Rules: [{ Conditions: [{ Attribute: 'now', Operator: 'after', Values: ['2026-03-01T00:00:00Z'] }], Value: true }],
    },
  ],
];

/** A revision row's fields as Vexil's writers store them (FormatVersion 2, salted with the name). */
export function revisionFields(flag: FlagRef, fields: Record<string, unknown>): Record<string, unknown> {
  if (flag.flagType === 'segment') return fields;
  return { Name: flag.name, Type: storedFlagType(flag.flagType), FormatVersion: 2, Salt: flag.name, ...fields };
}

/** Appends a new revision of a flag or segment, as stored rows. */
export async function appendRevision(
  store: StoreEngine,
  flag: FlagRef,
  fields: Record<string, unknown>,
): Promise<void> {
  await store.append([{ kind: 'REVISION', ref: flag, fields: revisionFields(flag, fields) }]);
}

/** Writes the flag-model flags and the segment (a FLAG row and a revision each). */
export async function seedModelFlags(store: StoreEngine): Promise<void> {
  for (const [flag, fields] of revisions) {
    await store.append([
      { kind: 'FLAG', ref: flag, fields: { Name: flag.name, Type: storedFlagType(flag.flagType) } },
      { kind: 'REVISION', ref: flag, fields: revisionFields(flag, fields) },
    ]);
  }
}

/** Temporary SQLite files, removed by `cleanup`. */
export function sqliteFiles(): { file: () => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vexil-model-'));
  let n = 0;
  return { file: () => join(dir, `store-${++n}.db`), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The service of service-harness on a real SQLite file, with the runbook flags and the flag-model flags. */
export async function modelService(file: string, env: Env = {}) {
  const store = new SqliteStore(file);
  await seedModelFlags(store);
  return serviceWithFlags({ VEXIL_STORE: `sqlite:${file}`, VEXIL_CHANGE_POLL_MS: '50', ...env }, store);
}
