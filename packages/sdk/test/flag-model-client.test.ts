import { NOOP_PROVIDER, OpenFeature } from '@openfeature/server-sdk';
import type { ProjectSnapshot } from '@vexil/core';
import { SqliteStore } from '@vexil/store';
import { afterAll, describe, expect, it } from 'vitest';
// Tests only: the SDK's sources never import server code.
import { FlagAdmin } from '../../server/src/flag-admin.js';
import {
  appendRevision,
  betaTesters,
  booleanFlag,
  DISCOUNT_METADATA,
  discount,
  greeting,
  killed,
  layout,
  PROJECT,
  seedModelFlags,
  segmentRevision,
  springSale,
  sqliteFiles,
} from '../../server/test/flag-model-harness.js';
import { TEST_ADMIN_TOKEN } from '../../server/test/support/test-token.js';
import { AsyncFeatureFlagClient, FeatureFlagClient, FeatureFlags, flagsFromSnapshot } from '../src/index.js';
import { VexilProvider } from '../src/openfeature.js';
import { checkout, nextEvent, seedFlags, testResources } from './service-harness.js';

const files = sqliteFiles();
afterAll(files.cleanup);
const { cleanups, service } = testResources();

/** A served Vexil on a SQLite file with the runbook flags and the flag-model flags (rules, a segment, …). */
async function modelService() {
  const store = new SqliteStore(files.file());
  await seedFlags(new FlagAdmin(store));
  await seedModelFlags(store);
  const svc = await service({ store, env: { VEXIL_CHANGE_POLL_MS: '50' } });
  cleanups.unshift(() => store.close());
  return svc;
}

function client(baseUrl: string, extra: Partial<ConstructorParameters<typeof FeatureFlagClient>[0]> = {}) {
  const flags = new FeatureFlagClient({ projectName: PROJECT, baseUrl, reportEvaluations: false, ...extra });
  cleanups.push(() => flags.close());
  return flags;
}

/** What the service's OFREP endpoint answers for a flag and context. */
async function ofrep(baseUrl: string, key: string, context: Record<string, unknown>) {
  const response = await fetch(`${baseUrl}/ofrep/v1/evaluate/flags/${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ context: { project_name: PROJECT, ...context } }),
  });
  return (await response.json()) as Record<string, unknown>;
}

/** Contexts that exercise every rule: segment members by list and by email, plans, no key. */
const contexts: Record<string, unknown>[] = [
  { targetingKey: 'qa-1' },
  { targetingKey: 'beta-1', plan: 'pro' },
  { targetingKey: 'user-1', plan: 'pro' },
  { targetingKey: 'user-2', email: 'ann@vexil.dev' },
  { targetingKey: 'user-3', email: 'ann@example.com', plan: 'free' },
  { plan: 'pro' },
  { lang: 'fr', targetingKey: 'user-4' },
  ...Array.from({ length: 30 }, (_, i) => ({ targetingKey: `user-${10 + i}` })),
];

describe('FeatureFlagClient evaluates the flag model in process as the service does', () => {
  it('answers every type for instance ids and contexts, with rules and segments, as OFREP answers', async () => {
    const svc = await modelService();
    const flags = client(svc.url);
    expect(await flags.ready()).toBe(true);
    for (const context of contexts) {
      const discountAnswer = await ofrep(svc.url, discount.name, context);
      const details = flags.getFlagNumberDetails(discount.name, context, -1);
      expect(details).toMatchObject({
        value: discountAnswer.value,
        reason: discountAnswer.reason,
        variant: discountAnswer.variant,
        metadata: DISCOUNT_METADATA,
      });
      expect(flags.getFlagNumber(discount.name, context, -1)).toBe(discountAnswer.value);
      const greetingAnswer = await ofrep(svc.url, greeting.name, context);
      expect(flags.getFlagString(greeting.name, context, 'hello')).toBe(greetingAnswer.value ?? 'hello');
      if (typeof context.targetingKey === 'string') {
        const layoutAnswer = await ofrep(svc.url, layout.name, context);
        expect(flags.getFlagJson(layout.name, context, { columns: 0 })).toEqual(layoutAnswer.value);
        // The instance-id form is the context {targetingKey: id}.
        expect(flags.getFlagJson(layout.name, context.targetingKey, { columns: 0 })).toEqual(layoutAnswer.value);
      }
    }
    expect(flags.getFlagNumber(discount.name, 'beta-1', -1)).toBe(0.25);
    expect(flags.getFlagBoolean(booleanFlag.name, {}, false)).toBe(true);
  });

  it('answers the control value of a disabled flag, the default for "no value" and for a missing targeting key', async () => {
    const svc = await modelService();
    const flags = client(svc.url);
    await flags.ready();
    expect(flags.getFlagBooleanDetails(killed.name, 'qa-1', true)).toMatchObject({
      value: false,
      reason: 'DISABLED',
      group: 'disabled',
      variant: 'off',
    });
    expect(flags.getFlagStringDetails(greeting.name, { lang: 'de' }, 'hello')).toMatchObject({
      value: 'hello',
      reason: 'DEFAULT',
      noValue: true,
    });
    expect(flags.getFlagJson(layout.name, { plan: 'pro' }, { columns: 9 })).toEqual({ columns: 9 });
    expect(flags.lastError?.code).toBe('TARGETING_KEY_MISSING');
    expect(flags.getFlagNumber(betaTesters.name, 'qa-1', 5)).toBe(5);
    expect(flags.lastError?.code).toBe('FLAG_NOT_FOUND');
    expect(flags.lastError?.message).toContain('segment');
    expect(flags.getFlagBoolean(discount.name, 'A1', false)).toBe(false);
    expect(flags.lastError?.message).toBe(
      'flag discount.rate is a number flag, not a feature flag: read it with getFlagNumber',
    );
  });

  it('takes a new segment revision from the change stream, announcing the flags that use it', async () => {
    const svc = await modelService();
    const flags = client(svc.url);
    await flags.ready();
    expect(flags.getFlagNumber(discount.name, 'newcomer', -1)).toBe(0);
    const changed = nextEvent<{ flagsChanged: string[] }>(flags, 'change');
    await appendRevision(svc.store, betaTesters, segmentRevision(['newcomer']));
    expect((await changed).flagsChanged).toEqual([discount.name]);
    expect(flags.getFlagNumber(discount.name, 'newcomer', -1)).toBe(0.25);
    expect(flags.getFlagNumber(discount.name, 'beta-1', -1)).toBe(0);
    expect(flags.snapshot()?.flags.find((flag) => flag.name === betaTesters.name)?.flagType).toBe('segment');
  });

  it('reports evaluations of every type, and of contexts without a targeting key', async () => {
    const svc = await modelService();
    // Reports need a read token for the project (an admin token covers it).
    const flags = client(svc.url, { reportEvaluations: { flushIntervalMs: 20 }, token: TEST_ADMIN_TOKEN });
    await flags.ready();
    flags.getFlagNumber(discount.name, 'beta-1', -1);
    flags.getFlagJson(layout.name, 'qa-1', {});
    flags.getFlagString(greeting.name, { lang: 'de' }, 'hello');
    await flags.flushReports();
    await Promise.all([svc.app.services.evaluationLog?.flush(), svc.app.services.reportLog?.flush()]);
    const rows = await svc.store.readLogs({ project: PROJECT });
    expect(rows.map((row) => [row.flagName, row.instanceId, row.group])).toEqual([
      ['greeting', '', 'control'],
      ['checkout-layout', 'qa-1', expect.stringMatching(/^(control|treatment)$/)],
      ['discount.rate', 'beta-1', 'rule-1'],
    ]);
    expect(rows.map((row) => row.value)).toEqual([null, flags.getFlagJson(layout.name, 'qa-1', {}), 0.25]);
  });
});

describe('Merino-style FeatureFlags from a snapshot with segments', () => {
  it("evaluates rules that name the snapshot's segments, with the session id as the targeting key", async () => {
    const svc = await modelService();
    const ruled = { project: PROJECT, flagType: 'feature' as const, name: 'beta-ui' };
    await svc.store.append([{ kind: 'FLAG', ref: ruled, fields: { Name: ruled.name, Type: 'FEATURE' } }]);
    await appendRevision(svc.store, ruled, {
      ControlValue: false,
      Treatments: [],
      Rules: [
        {
          Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: [betaTesters.name] }],
          Value: true,
        },
      ],
    });
    const snapshot = (await (await fetch(`${svc.url}/sdk/v1/projects/${PROJECT}/snapshot`)).json()) as ProjectSnapshot;
    const flags = flagsFromSnapshot(snapshot);
    expect(new FeatureFlags(flags, { sessionId: 'beta-1' }).isEnabled('beta-ui')).toBe(true);
    expect(new FeatureFlags(flags, { sessionId: 'someone' }).isEnabled('beta-ui')).toBe(false);
    expect(Object.keys(flags)).not.toContain(betaTesters.name);
  });
});

describe('VexilProvider resolves the flag model', () => {
  let domains = 0;
  async function openFeature(baseUrl: string) {
    const domain = `vexil-model-${++domains}`;
    const vexil = new VexilProvider({ projectName: PROJECT, baseUrl, reportEvaluations: false });
    cleanups.push(async () => {
      await OpenFeature.setProviderAndWait(domain, NOOP_PROVIDER);
      await vexil.onClose();
    });
    await OpenFeature.setProviderAndWait(domain, vexil);
    return OpenFeature.getClient(domain);
  }

  it('resolves boolean, string, number and object flags with variant, reason and metadata', async () => {
    const svc = await modelService();
    const of = await openFeature(svc.url);
    expect(await of.getNumberDetails(discount.name, -1, { targetingKey: 'u', plan: 'pro' })).toMatchObject({
      value: 0.1,
      reason: 'TARGETING_MATCH',
      variant: 'some',
      flagMetadata: DISCOUNT_METADATA,
    });
    const layoutDetails = await of.getObjectDetails(layout.name, {}, { targetingKey: 'qa-1' });
    expect(layoutDetails.value).toEqual((await ofrep(svc.url, layout.name, { targetingKey: 'qa-1' })).value);
    expect(layoutDetails.flagMetadata).toEqual({});
    expect(await of.getBooleanDetails(booleanFlag.name, false)).toMatchObject({
      value: true,
      reason: 'STATIC',
      variant: 'control',
    });
    expect(await of.getStringDetails(greeting.name, 'hello', { lang: 'fr' })).toMatchObject({
      value: 'bonjour',
      reason: 'TARGETING_MATCH',
      variant: 'rule-1',
    });
    expect(await of.getBooleanDetails(checkout.name, false, { targetingKey: 'qa-1' })).toMatchObject({
      value: true,
      variant: 'override',
      flagMetadata: {},
    });
  });

  it("answers the caller's default for DISABLED and for no value, and TARGETING_KEY_MISSING where a key is needed", async () => {
    const svc = await modelService();
    const of = await openFeature(svc.url);
    const disabled = await of.getBooleanDetails(killed.name, true, { targetingKey: 'qa-1' });
    expect(disabled).toMatchObject({ value: true, reason: 'DISABLED' });
    expect(disabled.errorCode).toBeUndefined();
    const noValue = await of.getStringDetails(greeting.name, 'hello', { lang: 'de' });
    expect(noValue).toMatchObject({ value: 'hello', reason: 'DEFAULT' });
    expect(noValue.variant).toBeUndefined();
    const missing = await of.getObjectDetails(layout.name, { columns: 9 }, { plan: 'pro' });
    expect(missing).toMatchObject({ value: { columns: 9 }, reason: 'ERROR', errorCode: 'TARGETING_KEY_MISSING' });
    const wrongType = await of.getNumberDetails(greeting.name, 3, { lang: 'fr' });
    expect(wrongType).toMatchObject({ value: 3, errorCode: 'TYPE_MISMATCH' });
    // Date attributes are compared as instants.
    const after = await of.getBooleanDetails(springSale.name, false, { now: new Date('2026-03-02T00:00:00Z') });
    expect(after).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    expect(await of.getBooleanValue(springSale.name, true, { now: new Date('2026-02-27T00:00:00Z') })).toBe(false);
  });
});

describe('AsyncFeatureFlagClient reads the flag model through /get-feature-flag', () => {
  it('answers number and json flags, and the default where the revision gives no value', async () => {
    const svc = await modelService();
    const remote = new AsyncFeatureFlagClient({ projectName: PROJECT, baseUrl: svc.url });
    cleanups.push(() => remote.close());
    expect(await remote.getFlagNumber(discount.name, 'beta-1', -1)).toBe(0.25);
    expect(await remote.getFlagJson(layout.name, 'qa-1', {})).toEqual(
      (await ofrep(svc.url, layout.name, { targetingKey: 'qa-1' })).value,
    );
    expect(await remote.getFlagString(greeting.name, 'A1', 'hello')).toBe('hello');
    expect(await remote.getFlagString(greeting.name, 'A1', 'hello')).toBe('hello'); // from the cache
    expect(await remote.getFlagBoolean(killed.name, 'qa-1', true)).toBe(false);
    expect(await remote.getFlagBoolean(discount.name, 'A1', false)).toBe(false);
    expect(remote.lastError?.code).toBe('TYPE_MISMATCH');
    expect(remote.lastError?.message).toBe(
      'flag discount.rate is a number flag, not a feature flag: read it with getFlagNumber',
    );
  });
});
