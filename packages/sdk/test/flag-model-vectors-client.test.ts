import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type FlagValue, requiredFormatVersion, type ValueFlagType } from '@vexil/core';
import { SqliteStore } from '@vexil/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Tests only: the SDK's sources never import server code.
import {
  expectedError,
  expectedMetadata,
  layOut,
  type PlacedCase,
  VECTOR_CATEGORIES,
  type VectorAnswer,
  vectorSample,
} from '../../server/test/support/flag-model-vectors.js';
import { startVexil, type VexilProcess } from '../../server/test/support/vexil-process.js';
import { AsyncFeatureFlagClient, FeatureFlagClient, type FlagEvaluationDetails } from '../src/index.js';
import { VexilProvider } from '../src/openfeature.js';

// The reference evaluator's cases evaluated in process: a real `vexil serve` on a SQLite
// file holding each case's revision and segments as store rows, one FeatureFlagClient
// per project, local evaluation from the snapshot it streams (segments included), the
// OpenFeature provider over those clients, and AsyncFeatureFlagClient (the service's
// /get-feature-flag) for the cases asked by instance id alone.

const sample = vectorSample();
const layout = layOut(sample);
const dir = mkdtempSync(join(tmpdir(), 'vexil-sdk-vectors-'));
let service: VexilProcess;
const clients = new Map<string, FeatureFlagClient>();

beforeAll(async () => {
  const file = join(dir, 'vectors.db');
  const store = new SqliteStore(file);
  await layout.seed(store);
  await store.close();
  service = await startVexil({ VEXIL_STORE: `sqlite:${file}` });
  for (const project of layout.projects) {
    clients.set(
      project,
      new FeatureFlagClient({ projectName: project, baseUrl: service.url, reportEvaluations: false }),
    );
  }
  const ready = await Promise.all([...clients.values()].map((client) => client.ready()));
  expect(ready.every(Boolean)).toBe(true);
}, 30_000);

afterAll(async () => {
  await Promise.all([...clients.values()].map((client) => client.close()));
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A default no case's flag gives, so an answered default is told apart from a value. */
const DEFAULTS: Readonly<Record<ValueFlagType, FlagValue>> = {
  feature: false,
  data: '\u0000the caller default',
  number: -1.5e300,
  json: { '\u0000the caller default': true },
};

function details(client: FeatureFlagClient, { vector, flag }: PlacedCase): FlagEvaluationDetails<FlagValue> {
  const context = structuredClone(vector.context);
  switch (flag.flagType) {
    case 'feature':
      return client.getFlagBooleanDetails(flag.name, context, false);
    case 'data':
      return client.getFlagStringDetails(flag.name, context, DEFAULTS.data as string);
    case 'number':
      return client.getFlagNumberDetails(flag.name, context, DEFAULTS.number as number);
    case 'json':
      return client.getFlagJsonDetails(flag.name, context, DEFAULTS.json as { [key: string]: boolean });
  }
}

function value(client: FeatureFlagClient, { vector, flag }: PlacedCase): FlagValue {
  const context = structuredClone(vector.context);
  switch (flag.flagType) {
    case 'feature':
      return client.getFlagBoolean(flag.name, context, false);
    case 'data':
      return client.getFlagString(flag.name, context, DEFAULTS.data as string);
    case 'number':
      return client.getFlagNumber(flag.name, context, DEFAULTS.number as number);
    case 'json':
      return client.getFlagJson(flag.name, context, DEFAULTS.json as { [key: string]: boolean });
  }
}

/** What AsyncFeatureFlagClient (the service's /get-feature-flag) answers for a case asked by instance id. */
function remoteValue(client: AsyncFeatureFlagClient, { vector, flag }: PlacedCase): Promise<FlagValue> {
  const id = String(vector.context.targetingKey);
  switch (flag.flagType) {
    case 'feature':
      return client.getFlagBoolean(flag.name, id, false);
    case 'data':
      return client.getFlagString(flag.name, id, DEFAULTS.data as string);
    case 'number':
      return client.getFlagNumber(flag.name, id, DEFAULTS.number as number);
    case 'json':
      return client.getFlagJson(flag.name, id, DEFAULTS.json as { [key: string]: boolean });
  }
}

/** What the OpenFeature provider resolves for a case, over the project's client. */
function resolve(provider: VexilProvider, { vector, flag }: PlacedCase) {
  const context = structuredClone(vector.context) as Parameters<VexilProvider['resolveBooleanEvaluation']>[2];
  switch (flag.flagType) {
    case 'feature':
      return provider.resolveBooleanEvaluation(flag.name, false, context);
    case 'data':
      return provider.resolveStringEvaluation(flag.name, DEFAULTS.data as string, context);
    case 'number':
      return provider.resolveNumberEvaluation(flag.name, DEFAULTS.number as number, context);
    case 'json':
      return provider.resolveObjectEvaluation(flag.name, DEFAULTS.json as { [key: string]: boolean }, context);
  }
}

/**
 * A client's details in the vectors' shape: the variant is the one named, else the
 * rollout group (details name a variant only where the revision names its values);
 * a value of null where the caller's default was answered for "no value".
 */
function asVector(answer: FlagEvaluationDetails<FlagValue>): VectorAnswer {
  if (answer.reason === 'ERROR') return { error: answer.errorCode as 'TARGETING_KEY_MISSING' | 'FLAG_NOT_FOUND' };
  return {
    value: answer.noValue === true ? null : answer.value,
    group: answer.group ?? '',
    reason: answer.reason,
    variant: answer.noValue === true ? null : (answer.variant ?? answer.group ?? null),
  };
}

describe('the flag-model vectors through the SDK: FeatureFlagClient, its OpenFeature provider, AsyncFeatureFlagClient', () => {
  it('samples every category, the project snapshots holding their segments', () => {
    expect(new Set(sample.map((c) => c.category)).size).toBe(VECTOR_CATEGORIES.length);
    expect(layout.cases.some(({ vector }) => Object.keys(vector.segments).length > 0)).toBe(true);
  });

  it('evaluates every sampled case locally as the reference does: value, group, reason, variant or the error', () => {
    const found = [];
    for (const placed of layout.cases) {
      const client = clients.get(placed.flag.project)!;
      const got = details(client, placed);
      if (!isDeepStrictEqual(asVector(got), placed.vector.expected)) {
        found.push({ id: placed.vector.id, expected: placed.vector.expected, got });
        continue;
      }
      // Details of a runbook-format revision are as before the flag model: no metadata.
      const metadata =
        requiredFormatVersion(placed.vector.revision) === 1 ? undefined : expectedMetadata(placed, got.revision);
      const gotMetadata = got.metadata === undefined ? undefined : { ...got.metadata };
      if (expectedError(placed.vector) === undefined && !isDeepStrictEqual(gotMetadata, metadata)) {
        found.push({ id: placed.vector.id, metadata, got });
      }
    }
    expect({ count: found.length, first: found.slice(0, 5) }).toEqual({ count: 0, first: [] });
  });

  it('answers every sampled case from the plain getters: the value, or the default where none is given', () => {
    const found = [];
    for (const placed of layout.cases) {
      const client = clients.get(placed.flag.project)!;
      const expected = placed.vector.expected;
      const want = 'error' in expected || expected.value === null ? DEFAULTS[placed.flag.flagType] : expected.value;
      const got = value(client, placed);
      if (!isDeepStrictEqual(got, want)) found.push({ id: placed.vector.id, want, got });
      if ('error' in expected && client.lastError?.code !== expected.error) {
        found.push({ id: placed.vector.id, wantError: expected.error, lastError: client.lastError?.code });
      }
    }
    expect({ count: found.length, first: found.slice(0, 5) }).toEqual({ count: 0, first: [] });
  });

  it('resolves every sampled case through the OpenFeature provider as OFREP answers it', async () => {
    const found = [];
    for (const placed of layout.cases) {
      const provider = new VexilProvider(clients.get(placed.flag.project)!);
      const got = await resolve(provider, placed);
      const expected = placed.vector.expected;
      const fallback = DEFAULTS[placed.flag.flagType];
      let want: Record<string, unknown>;
      if ('error' in expected) want = { value: fallback, reason: 'ERROR', errorCode: expected.error, flagMetadata: {} };
      else {
        // The caller's default for "no value" and for the kill switch, as OFREP leaves the value out.
        want = {
          value: expected.value === null || expected.reason === 'DISABLED' ? fallback : expected.value,
          reason: expected.reason,
          flagMetadata: expectedMetadata(placed, details(clients.get(placed.flag.project)!, placed).revision),
        };
        if (expected.variant !== null) want.variant = expected.variant;
      }
      // An error says what happened in words; the rest is compared whole (metadata as a plain object).
      const { errorMessage, flagMetadata, ...resolution } = got;
      if ('error' in expected && typeof errorMessage !== 'string') want.errorMessage = 'a message';
      if (!isDeepStrictEqual({ ...resolution, flagMetadata: { ...flagMetadata } }, want)) {
        found.push({ id: placed.vector.id, want, got });
      }
      await provider.onClose();
    }
    expect({ count: found.length, first: found.slice(0, 5) }).toEqual({ count: 0, first: [] });
  });

  it('answers every sampled case asked by instance id through AsyncFeatureFlagClient as the reference does', async () => {
    const byId = layout.cases.filter(({ vector }) => {
      const keys = Object.keys(vector.context);
      return keys.length === 1 && keys[0] === 'targetingKey';
    });
    expect(byId.length).toBeGreaterThan(50);
    const remotes = new Map(
      layout.projects.map((project) => [
        project,
        new AsyncFeatureFlagClient({ projectName: project, baseUrl: service.url }),
      ]),
    );
    const found = [];
    try {
      for (const placed of byId) {
        const client = remotes.get(placed.flag.project)!;
        const expected = placed.vector.expected;
        // /get-feature-flag answers a disabled flag's control value; "no value" and errors give the default.
        const want = 'error' in expected || expected.value === null ? DEFAULTS[placed.flag.flagType] : expected.value;
        const got = await remoteValue(client, placed);
        if (!isDeepStrictEqual(got, want)) found.push({ id: placed.vector.id, want, got });
        if ('error' in expected && client.lastError?.code !== expected.error) {
          found.push({ id: placed.vector.id, wantError: expected.error, lastError: client.lastError?.code });
        }
      }
    } finally {
      await Promise.all([...remotes.values()].map((client) => client.close()));
    }
    expect({ count: found.length, first: found.slice(0, 5) }).toEqual({ count: 0, first: [] });
  });
});
