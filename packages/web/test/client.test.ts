import type { FlagRef } from '@vexil/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VexilClient, type VexilClientOptions } from '../src/index.js';
import { localEvaluation } from '../src/local.js';
import { addRevision, closeProject, next, ofrepBulk, PROJECT, type Service, until, webService } from './web-harness.js';

const checkout: FlagRef = { project: PROJECT, flagType: 'feature', name: 'new_checkout' };
const greeting: FlagRef = { project: PROJECT, flagType: 'data', name: 'greeting' };

const EVALUATIONS = [
  ['bulk OFREP', undefined],
  ['local evaluation', localEvaluation],
] as const;

let service: Service;
const clients: VexilClient[] = [];

function client(options: Partial<VexilClientOptions> = {}): VexilClient {
  const made = new VexilClient({ baseUrl: service.url, project: PROJECT, ...options });
  clients.push(made);
  return made;
}

beforeAll(async () => {
  service = await webService();
});
afterEach(() => {
  for (const made of clients.splice(0)) made.close();
});
afterAll(async () => {
  await service.stop();
});

describe.each(EVALUATIONS)('VexilClient over %s against a real service', (_name, evaluation) => {
  it("answers each flag type with the service's values for the context, and the default for what it cannot answer", async () => {
    const flags = client({ evaluation, context: { targetingKey: 'qa-1', lang: 'fr', plan: 'pro' } });
    expect(flags.getFlagBoolean('new_checkout', false)).toBe(false);
    expect(flags.getFlagDetails('new_checkout', false).errorCode).toBe('NOT_READY');
    expect(await flags.ready()).toBe(true);
    expect(flags.getFlagBoolean('new_checkout', false)).toBe(true);
    expect(flags.getFlagString('greeting', 'hello')).toBe('bonjour');
    expect(flags.getFlagNumber('discount.rate', -1)).toBe(0.25);
    expect(flags.getFlagDetails('discount.rate', -1)).toMatchObject({
      reason: 'TARGETING_MATCH',
      metadata: { owner: 'growth' },
    });
    expect(flags.getFlagJson('checkout-layout', { columns: 0 })).toHaveProperty('columns');
    // The kill switch answers the caller's default, with its reason.
    expect(flags.getFlagDetails('kill-me', true)).toMatchObject({ value: true, reason: 'DISABLED' });
    expect(flags.getFlagDetails('greeting', false)).toMatchObject({ value: false, errorCode: 'TYPE_MISMATCH' });
    expect(flags.getFlagDetails('beta-testers', false)).toMatchObject({ value: false, errorCode: 'FLAG_NOT_FOUND' });
    expect(flags.getFlagDetails('no_such_flag', 'x')).toMatchObject({ value: 'x', errorCode: 'FLAG_NOT_FOUND' });
  });

  it("gives the same answers as the service's bulk OFREP evaluation for every flag and context", async () => {
    const contexts = [
      { targetingKey: 'qa-1' },
      { targetingKey: 'A123456', lang: 'fr' },
      { targetingKey: 'someone', email: 'x@vexil.dev', now: '2026-05-01T00:00:00Z' },
      { plan: 'pro' },
      { targetingKey: 'u-42', plan: 'free', lang: 'de' },
    ];
    const flags = client({ evaluation, context: contexts[0] });
    expect(await flags.ready()).toBe(true);
    for (const context of contexts) {
      await flags.setContext(context);
      const served = await ofrepBulk(service, context);
      expect(served.size).toBeGreaterThan(5);
      for (const [key, answer] of served) {
        const details = flags.getFlagDetails(key, 'default-marker');
        const own = answer as { value?: unknown; reason?: string; variant?: string; errorCode?: string };
        if (own.errorCode !== undefined)
          expect(details.errorCode, `${key} for ${JSON.stringify(context)}`).toBe(own.errorCode);
        else {
          // Read as the answer's own type, so a typed get never answers the default for a mismatch.
          const value = own.value ?? null;
          const typed = value === null ? 'default-marker' : value;
          const got = flags.getFlagDetails(key, typed as never);
          expect(
            { value: got.value, reason: got.reason, variant: got.variant },
            `${key} for ${JSON.stringify(context)}`,
          ).toEqual({
            value: typed,
            reason: own.reason,
            variant: own.variant,
          });
        }
      }
    }
  });

  it('follows the change stream: a new revision changes the answer and emits change naming the flag', async () => {
    const flags = client({ evaluation, context: { targetingKey: 'u-7' } });
    expect(await flags.ready()).toBe(true);
    expect(flags.getFlagString('greeting', 'hello')).toBe('hello');
    const changed = next(flags, 'change');
    const started = performance.now();
    await addRevision(service, greeting, {
      ControlValue: 'hi',
      Treatments: [],
    });
    expect((await changed).flagsChanged).toEqual(['greeting']);
    console.log(`web client (${_name}): change seen ${(performance.now() - started).toFixed(0)} ms after the write`);
    expect(flags.getFlagString('greeting', 'hello')).toBe('hi');
    expect(flags.state).toBe('connected');
    await addRevision(service, greeting, {
      ControlValue: null,
      Treatments: [],
      Rules: [{ Conditions: [{ Attribute: 'lang', Operator: 'equals', Values: ['fr'] }], Value: 'bonjour' }],
    });
    await until(() => flags.getFlagString('greeting', 'hello') === 'hello', 'greeting back to no value');
  });

  it('answers for a new context after setContext, emitting change for the flags whose answer differs', async () => {
    const flags = client({ evaluation, context: { targetingKey: 'u-1' } });
    expect(await flags.ready()).toBe(true);
    expect(flags.getFlagString('greeting', 'hello')).toBe('hello');
    const changed = next(flags, 'change');
    await flags.setContext({ targetingKey: 'u-1', lang: 'fr' });
    expect(flags.getFlagString('greeting', 'hello')).toBe('bonjour');
    expect(flags.getContext()).toEqual({ targetingKey: 'u-1', lang: 'fr' });
    expect((await changed).flagsChanged).toEqual(['greeting']);
  });

  it('polls without streaming, and picks a change up at the next poll', async () => {
    const flags = client({ evaluation, streaming: false, pollIntervalMs: 100, context: { targetingKey: 'qa-1' } });
    expect(await flags.ready()).toBe(true);
    expect(flags.getFlagBoolean('new_checkout', false)).toBe(true);
    await addRevision(service, checkout, { ControlValue: false, Treatments: [] });
    await until(() => flags.getFlagBoolean('new_checkout', true) === false, 'the poll picks up the change');
    await addRevision(service, checkout, {
      ControlValue: false,
      Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 40, Value: true }],
    });
    await until(() => flags.getFlagBoolean('new_checkout', false), 'the override is back');
  });

  it('answers TARGETING_KEY_MISSING for the flags that need the targeting key a context lacks, the others as usual', async () => {
    const flags = client({ evaluation, context: { targetingKey: 'qa-1' } });
    expect(await flags.ready()).toBe(true);
    await flags.setContext({});
    // Some flags (rules, static values) answer without a key; those that need it say so.
    expect(flags.getFlagDetails('new_checkout', false)).toMatchObject({
      value: false,
      errorCode: 'TARGETING_KEY_MISSING',
    });
    expect(flags.getFlagBoolean('boolean-flag', false)).toBe(true);
  });
});

describe('VexilClient and access', () => {
  let closed: Service;
  let token: string;
  beforeAll(async () => {
    closed = await webService();
    token = await closeProject(closed, PROJECT);
  });
  afterAll(async () => {
    await closed.stop();
  });

  it.each(EVALUATIONS)(
    'sends the read token on every request (%s), the change stream included',
    async (_name, evaluation) => {
      const flags = new VexilClient({
        baseUrl: closed.url,
        project: PROJECT,
        token,
        evaluation,
        context: { targetingKey: 'qa-1' },
      });
      clients.push(flags);
      expect(await flags.ready()).toBe(true);
      expect(flags.getFlagBoolean('new_checkout', false)).toBe(true);
      await until(() => flags.state === 'connected', 'the stream is open');
      await addRevision(closed, checkout, { ControlValue: true, Treatments: [] });
      await until(
        () => flags.getFlagDetails('new_checkout', false).reason === 'STATIC',
        'the change arrives through the stream',
      );
      await addRevision(closed, checkout, {
        ControlValue: false,
        Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 40, Value: true }],
      });
    },
  );

  it.each(EVALUATIONS)(
    'without a token (%s): not ready at once, lastError says 401, gets answer defaults',
    async (_name, evaluation) => {
      const flags = new VexilClient({ baseUrl: closed.url, project: PROJECT, evaluation, readyTimeoutMs: 10_000 });
      clients.push(flags);
      const started = performance.now();
      expect(await flags.ready()).toBe(false);
      expect(performance.now() - started).toBeLessThan(9000);
      expect(flags.lastError?.code).toBe('UNAUTHORIZED');
      expect(flags.getFlagBoolean('new_checkout', true)).toBe(true);
    },
  );

  it('answers CORS preflights and streams for another origin with the Authorization header allowed', async () => {
    const origin = 'http://page.example';
    for (const path of ['/ofrep/v1/evaluate/flags', `/sdk/v1/projects/${PROJECT}/stream`]) {
      const preflight = await fetch(`${closed.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
      expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    }
    const controller = new AbortController();
    const stream = await fetch(`${closed.url}/sdk/v1/projects/${PROJECT}/stream`, {
      headers: { origin, authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('access-control-allow-origin')).toBe('*');
    controller.abort();
  });
});

describe('VexilClient when the service is lost', () => {
  it('keeps the last answers, goes stale, and catches up when the service is back', async () => {
    const own = await webService();
    const flags = new VexilClient({
      baseUrl: own.url,
      project: PROJECT,
      context: { targetingKey: 'qa-1' },
      pollIntervalMs: 100,
      reconnectDelayMs: 50,
      maxReconnectDelayMs: 200,
    });
    clients.push(flags);
    expect(await flags.ready()).toBe(true);
    const stale = next(flags, 'stale');
    await own.stop();
    await stale;
    expect(flags.state).toBe('stale');
    expect(flags.getFlagBoolean('new_checkout', false)).toBe(true);
    const { startService } = await import('../../sdk/test/service-harness.js');
    const again = await startService({ store: own.store, port: own.port });
    try {
      await addRevision(again, checkout, { ControlValue: true, Treatments: [] });
      await until(
        () => flags.getFlagDetails('new_checkout', false).reason === 'STATIC',
        'the change after the outage',
        10_000,
      );
      expect(flags.state).toBe('connected');
    } finally {
      await again.stop();
    }
  });
});
