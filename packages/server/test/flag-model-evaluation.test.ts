import type { FlagRef } from '@vexil/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Env } from '../src/config.js';
import {
  appendRevision,
  betaTesters,
  booleanFlag,
  DISCOUNT_METADATA,
  discount,
  greeting,
  killed,
  layout,
  modelService,
  segmentRevision,
  sqliteFiles,
} from './flag-model-harness.js';
import { checkout, flagUrl, flushLog } from './service-harness.js';

const files = sqliteFiles();
afterAll(files.cleanup);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function service(env: Env = {}) {
  const built = await modelService(files.file(), env);
  cleanups.push(
    () => built.store.close(),
    () => built.app.close(),
  );
  return built;
}

function ofrep(app: FastifyInstance, key: string, context: unknown) {
  return app.inject({
    method: 'POST',
    url: `/ofrep/v1/evaluate/flags/${key}`,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ context }),
  });
}

function bulk(app: FastifyInstance, context: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/ofrep/v1/evaluate/flags',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ context }),
  });
}

async function getFeatureFlag(app: FastifyInstance, flag: FlagRef, id: string) {
  const response = await app.inject(flagUrl(flag, id));
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ flag_value: unknown; rollout_group: string }>();
}

/** Polls until `check` holds (the change feed polls every 50 ms here); fails after 5 s. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const shop = { project_name: 'shop' };

describe('OFREP answers of the flag model', () => {
  it('answers a number flag by its rules on the context, with the variant name and the revision metadata', async () => {
    const { app } = await service();
    const pro = await ofrep(app, discount.name, { ...shop, plan: 'pro' });
    expect(pro.statusCode, pro.body).toBe(200);
    expect(pro.json()).toEqual({
      key: 'discount.rate',
      value: 0.1,
      reason: 'TARGETING_MATCH',
      variant: 'some',
      metadata: DISCOUNT_METADATA,
    });
    const member = await ofrep(app, discount.name, { ...shop, targetingKey: 'beta-1', plan: 'pro' });
    expect(member.json()).toMatchObject({ value: 0.25, variant: 'lots', reason: 'TARGETING_MATCH' });
    const byEmail = await ofrep(app, discount.name, { ...shop, email: 'ann@vexil.dev' });
    expect(byEmail.json()).toMatchObject({ value: 0.25, variant: 'lots' });
    const nobody = await ofrep(app, discount.name, { ...shop, plan: 'free' });
    expect(nobody.json()).toMatchObject({ value: 0, variant: 'none', reason: 'DEFAULT' });
  });

  it('gives Vexil its facts in headers, and in metadata for a runbook-format revision as before the flag model', async () => {
    const { app, admin } = await service();
    const response = await ofrep(app, checkout.name, { ...shop, targetingKey: 'qa-1' });
    const wtime = (await admin.latestRevision(checkout)).wtime;
    expect(response.json()).toEqual({
      key: 'new_checkout',
      value: true,
      reason: 'TARGETING_MATCH',
      variant: 'override',
      metadata: { project: 'shop', flagType: 'feature', revision: wtime },
    });
    expect(response.headers['x-vexil-project']).toBe('shop');
    expect(response.headers['x-vexil-flag-type']).toBe('feature');
    expect(response.headers['x-vexil-revision']).toBe(wtime);
  });

  it('answers a flag that needs no targeting key without one, and TARGETING_KEY_MISSING where the revision needs one', async () => {
    const { app } = await service();
    const fixed = await ofrep(app, booleanFlag.name, shop);
    expect(fixed.json()).toEqual({
      key: 'boolean-flag',
      value: true,
      reason: 'STATIC',
      variant: 'control',
      metadata: {},
    });
    const rollout = await ofrep(app, layout.name, { ...shop, plan: 'pro' });
    expect(rollout.statusCode).toBe(400);
    expect(rollout.json()).toMatchObject({ key: 'checkout-layout', errorCode: 'TARGETING_KEY_MISSING' });
    expect(rollout.json().errorDetails).toContain('targetingKey');
    // It says what needs the key: here the rollout's percentage, not the override lists.
    expect(rollout.json().errorDetails).toContain('its treatments roll out to a percentage of targeting keys');
    // An empty or null key is no key.
    expect((await ofrep(app, layout.name, { ...shop, targetingKey: '' })).json().errorCode).toBe(
      'TARGETING_KEY_MISSING',
    );
    expect((await ofrep(app, booleanFlag.name, { ...shop, targetingKey: null })).json().value).toBe(true);
  });

  it('answers a json flag with its object, for the split and the control value', async () => {
    const { app } = await service();
    const values = new Map<string, unknown>();
    for (let i = 0; i < 40; i++) {
      const body = (await ofrep(app, layout.name, { ...shop, targetingKey: `user-${i}` })).json();
      values.set(body.variant, body.value);
      expect(body.reason).toBe(body.variant === 'treatment' ? 'SPLIT' : 'DEFAULT');
    }
    expect(Object.fromEntries(values)).toEqual({ treatment: { columns: 2, theme: 'dark' }, control: { columns: 1 } });
  });

  it('answers a disabled flag and a "no value" without a value (the caller\'s default)', async () => {
    const { app } = await service();
    const disabled = await ofrep(app, killed.name, { ...shop, targetingKey: 'qa-1' });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toEqual({ key: 'kill-me', reason: 'DISABLED', variant: 'off', metadata: {} });
    const noValue = await ofrep(app, greeting.name, { ...shop, lang: 'de' });
    expect(noValue.json()).toEqual({ key: 'greeting', reason: 'DEFAULT', metadata: {} });
    const french = await ofrep(app, greeting.name, { ...shop, lang: 'fr' });
    expect(french.json()).toEqual({
      key: 'greeting',
      value: 'bonjour',
      reason: 'TARGETING_MATCH',
      variant: 'rule-1',
      metadata: {},
    });
  });

  it('answers FLAG_NOT_FOUND for a missing flag before checking the rest of the context', async () => {
    const { app } = await service();
    for (const context of [shop, { ...shop, targetingKey: 42 }, { ...shop, flag_type: 'bool' }]) {
      const response = await ofrep(app, 'no-such.flag', context);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ key: 'no-such.flag', errorCode: 'FLAG_NOT_FOUND' });
    }
    // The same context for a flag that exists is refused for what is wrong with it.
    expect((await ofrep(app, booleanFlag.name, { ...shop, targetingKey: 42 })).json().errorCode).toBe(
      'INVALID_CONTEXT',
    );
  });

  it('answers FLAG_NOT_FOUND for a segment, saying it is one, and leaves segments out of the bulk answer', async () => {
    const { app } = await service();
    const response = await ofrep(app, betaTesters.name, { ...shop, targetingKey: 'qa-1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ key: 'beta-testers', errorCode: 'FLAG_NOT_FOUND' });
    expect(response.json().errorDetails).toContain('segment');
    const { flags } = (await bulk(app, { ...shop, targetingKey: 'qa-1' })).json<{ flags: { key: string }[] }>();
    expect(flags.map((flag) => flag.key)).not.toContain('beta-testers');
  });

  it('picks a flag whose name exists with several types by flag_type, listing the types otherwise', async () => {
    const { app, store } = await service();
    const twin: FlagRef = { project: 'shop', flagType: 'number', name: booleanFlag.name };
    await store.append([{ kind: 'FLAG', ref: twin, fields: { Name: twin.name, Type: 'NUMBER' } }]);
    await appendRevision(store, twin, { ControlValue: 7, Treatments: [] });
    await eventually(async () => (await ofrep(app, booleanFlag.name, shop)).statusCode === 400, 'the twin');
    const ambiguous = (await ofrep(app, booleanFlag.name, shop)).json();
    expect(ambiguous).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
    expect(ambiguous.errorDetails).toContain('"feature" or "number"');
    expect((await ofrep(app, booleanFlag.name, { ...shop, flag_type: 'number' })).json()).toMatchObject({ value: 7 });
    expect((await ofrep(app, booleanFlag.name, { ...shop, flag_type: 'feature' })).json()).toMatchObject({
      value: true,
    });
  });
});

describe('OFREP bulk evaluation of the flag model', () => {
  it('answers what the single evaluation answers for every flag, with whole-context ETags', async () => {
    const { app } = await service();
    const context = { ...shop, targetingKey: 'user-3', plan: 'pro', lang: 'fr' };
    const response = await bulk(app, context);
    expect(response.statusCode).toBe(200);
    const { flags } = response.json<{ flags: { key: string }[] }>();
    expect(flags.map((flag) => flag.key)).toEqual([
      'greeting',
      'llm_provider',
      'boolean-flag',
      'kill-me',
      'new_checkout',
      'spring-sale',
      'checkout-layout',
      'discount.rate',
    ]);
    for (const flag of flags) expect(flag).toEqual((await ofrep(app, flag.key, context)).json());
    const etag = response.headers.etag as string;
    expect((await bulk(app, context, { 'if-none-match': etag })).statusCode).toBe(304);
    // Another attribute is another answer.
    expect((await bulk(app, { ...context, plan: 'free' }, { 'if-none-match': etag })).statusCode).toBe(200);
  });

  it('lists TARGETING_KEY_MISSING for the flags that need a key the context lacks, and answers the others', async () => {
    const { app } = await service();
    const response = await bulk(app, { ...shop, plan: 'pro' });
    expect(response.statusCode).toBe(200);
    const byKey = new Map(response.json().flags.map((flag: { key: string }) => [flag.key, flag]));
    expect(byKey.get('discount.rate')).toMatchObject({ value: 0.1, reason: 'TARGETING_MATCH' });
    expect(byKey.get('boolean-flag')).toMatchObject({ value: true, reason: 'STATIC' });
    for (const key of ['checkout-layout', 'new_checkout', 'llm_provider']) {
      expect(byKey.get(key)).toMatchObject({ key, errorCode: 'TARGETING_KEY_MISSING' });
    }
  });
});

describe('/get-feature-flag answers of the flag model', () => {
  it('answers number and json values, null for "no value", and the control value of a disabled flag', async () => {
    const { app } = await service();
    expect(await getFeatureFlag(app, discount, 'beta-1')).toMatchObject({ flag_value: 0.25, rollout_group: 'rule-1' });
    expect(await getFeatureFlag(app, discount, 'someone')).toMatchObject({ flag_value: 0, rollout_group: 'control' });
    const groups = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const answer = await getFeatureFlag(app, layout, `user-${i}`);
      const ofrepAnswer = (await ofrep(app, layout.name, { ...shop, targetingKey: `user-${i}` })).json();
      expect(answer.flag_value).toEqual(ofrepAnswer.value);
      groups.add(answer.rollout_group);
    }
    expect([...groups].sort()).toEqual(['control', 'treatment']);
    const noValue = (await app.inject(flagUrl(greeting, 'A1'))).json();
    expect(noValue).toMatchObject({ flag_value: null, rollout_group: 'control' });
    expect(Object.keys(noValue)).toContain('flag_value');
    expect(await getFeatureFlag(app, killed, 'qa-1')).toMatchObject({ flag_value: false, rollout_group: 'disabled' });
  });

  it('answers a json flag whose value is an array as that array, not as text', async () => {
    const { app, store } = await service();
    const menu: FlagRef = { project: 'shop', flagType: 'json', name: 'menu' };
    await store.append([{ kind: 'FLAG', ref: menu, fields: { Name: menu.name, Type: 'JSON' } }]);
    await appendRevision(store, menu, { ControlValue: [1, { a: null }, 'x', [true]], Treatments: [] });
    expect(await getFeatureFlag(app, menu, 'A1')).toMatchObject({ flag_value: [1, { a: null }, 'x', [true]] });
  });

  it('documents the answers for every flag type in the OpenAPI document', async () => {
    const { app } = await service();
    const doc = (await app.inject('/docs/json')).json();
    const operation = doc.paths['/get-feature-flag'].get;
    const flagType = operation.parameters.find((p: { name: string }) => p.name === 'flag_type');
    expect(flagType.schema.enum).toEqual(['feature', 'data', 'number', 'json']);
    const value = operation.responses['200'].content['application/json'].schema.properties.flag_value;
    // OpenAPI 3.0 has no type lists: the document says anyOf, null as a nullable branch.
    const types = value.anyOf.map((branch: { type: string; nullable?: boolean }) =>
      branch.nullable === true ? 'null' : branch.type,
    );
    expect(types).toEqual(['boolean', 'array', 'string', 'number', 'object', 'null']);
    expect(value.description).toContain('null');
  });

  it('refuses flag_type=segment as an invalid flag type', async () => {
    const { app } = await service();
    const response = await app.inject(flagUrl(betaTesters, 'qa-1'));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'InvalidFlagTypeException', field: 'flag_type' });
  });

  it('says which type a flag has when asked for it with another', async () => {
    const { app } = await service();
    const response = await app.inject(flagUrl({ ...discount, flagType: 'feature' }, 'A1'));
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ field: 'flag_type' });
    expect(response.json().message).toContain('is a number flag, not a feature flag');
  });

  it('logs the new types and groups: numbers and objects as JSON, null for "no value", disabled', async () => {
    const { app, store } = await service();
    await getFeatureFlag(app, discount, 'beta-1');
    await getFeatureFlag(app, greeting, 'A1');
    await getFeatureFlag(app, killed, 'qa-1');
    await ofrep(app, layout.name, { ...shop, targetingKey: 'qa-1' });
    await ofrep(app, booleanFlag.name, shop);
    await flushLog(app);
    const rows = await store.readLogs({ project: 'shop' });
    const row = (name: string) => rows.find((r) => r.flagName === name);
    expect(row('discount.rate')).toMatchObject({
      flagType: 'number',
      instanceId: 'beta-1',
      value: 0.25,
      group: 'rule-1',
    });
    expect(row('greeting')).toMatchObject({ flagType: 'data', value: null, group: 'control' });
    expect(row('kill-me')).toMatchObject({ flagType: 'feature', value: false, group: 'disabled' });
    expect(row('checkout-layout')?.value).toEqual(
      (await ofrep(app, layout.name, { ...shop, targetingKey: 'qa-1' })).json().value,
    );
    // An evaluation without a targeting key is logged with an empty instance id.
    expect(row('boolean-flag')).toMatchObject({ instanceId: '', value: true, group: 'control' });
  });
});

describe('segment changes', () => {
  it('take effect for /get-feature-flag and OFREP through the change feed, like a flag change', async () => {
    // Flag data is cached for 5 minutes (the default): only the change feed brings the new segment.
    const { app, store } = await service({ FEATURE_FLAG_CACHE_TTL_MINUTES: '5' });
    expect((await getFeatureFlag(app, discount, 'newcomer')).flag_value).toBe(0);
    expect((await ofrep(app, discount.name, { ...shop, targetingKey: 'newcomer' })).json().value).toBe(0);
    await appendRevision(store, betaTesters, segmentRevision(['qa-1', 'newcomer']));
    await eventually(async () => (await getFeatureFlag(app, discount, 'newcomer')).flag_value === 0.25, 'the segment');
    await eventually(
      async () => (await ofrep(app, discount.name, { ...shop, targetingKey: 'newcomer' })).json().value === 0.25,
      'the segment in OFREP',
    );
    expect((await getFeatureFlag(app, discount, 'beta-1')).flag_value).toBe(0);
  });

  it('reach the snapshot and the change stream as segment entries', async () => {
    const { app, store } = await service();
    const snapshot = (await app.inject('/sdk/v1/projects/shop/snapshot')).json();
    const segment = snapshot.flags.find((flag: { name: string }) => flag.name === betaTesters.name);
    expect(segment).toMatchObject({ flagType: 'segment', revision: { Type: 'SEGMENT', Included: ['qa-1', 'beta-1'] } });

    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const controller = new AbortController();
    cleanups.push(async () => controller.abort());
    const response = await fetch(`${url}/sdk/v1/projects/shop/stream`, {
      headers: { 'last-event-id': snapshot.version },
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil('event: ready');
    await appendRevision(store, betaTesters, segmentRevision(['later']));
    await readUntil('event: change');
    await readUntil('\n\n');
    const data = text
      .slice(text.indexOf('event: change'))
      .split('\n')
      .find((line) => line.startsWith('data: '))!;
    expect(JSON.parse(data.slice('data: '.length))).toMatchObject({
      project: 'shop',
      flagType: 'segment',
      name: 'beta-testers',
      revision: { Included: ['later'] },
    });
  });
});

describe('evaluation reports of the flag model', () => {
  it('takes numbers, JSON values and null, and an evaluation without an instance id', async () => {
    const { app, store } = await service();
    const response = await app.inject({
      method: 'POST',
      url: '/sdk/v1/evaluations',
      payload: {
        project: 'shop',
        evaluations: [
          { flagType: 'number', flagName: 'discount.rate', instanceId: 'A1', value: 0.1, group: 'rule-2' },
          {
            flagType: 'json',
            flagName: 'checkout-layout',
            instanceId: 'A2',
            value: { columns: 2, theme: 'dark' },
            group: 'treatment',
          },
          { flagType: 'data', flagName: 'greeting', instanceId: 'A3', value: null, group: 'control' },
          { flagType: 'feature', flagName: 'boolean-flag', value: true, group: 'control' },
        ],
      },
    });
    expect(response.statusCode, response.body).toBe(202);
    await flushLog(app);
    const rows = await store.readLogs({ project: 'shop' });
    expect(rows.map((row) => [row.flagName, row.instanceId, row.value])).toEqual([
      ['greeting', 'A3', null],
      ['boolean-flag', '', true],
      ['checkout-layout', 'A2', { columns: 2, theme: 'dark' }],
      ['discount.rate', 'A1', 0.1],
    ]);
  });

  it.each([
    ['a string for a number flag', { flagType: 'number', value: '0.1' }, 'evaluations[0].value'],
    ['a string for a json flag', { flagType: 'json', value: 'x' }, 'evaluations[0].value'],
    ['a segment', { flagType: 'segment', value: true }, 'evaluations[0].flagType'],
  ])('refuses %s, naming the field', async (_what, fields, field) => {
    const { app } = await service();
    const response = await app.inject({
      method: 'POST',
      url: '/sdk/v1/evaluations',
      payload: { project: 'shop', evaluations: [{ flagName: 'x', instanceId: 'A1', group: 'control', ...fields }] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ field });
  });
});
