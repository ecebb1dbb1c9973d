import { type FlagRef, UnavailableError } from '@vexil/core';
import { MemoryStore } from '@vexil/store';
import { afterEach, describe, expect, it } from 'vitest';
import { checkout, flagUrl, serviceWithFlags } from './service-harness.js';

/** A memory store whose `latest` can be made slow or failing, as a remote engine can be. */
class FaultyStore extends MemoryStore {
  fault: (() => Promise<never>) | undefined;
  delayMs = 0;

  override async latest(kind: 'FLAG' | 'REVISION', ref: FlagRef) {
    if (this.fault) return this.fault();
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return super.latest(kind, ref);
  }
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function service(env = {}) {
  const store = new FaultyStore();
  const s = await serviceWithFlags(env, store);
  close = () => s.app.close();
  return { ...s, store };
}

/** Writes a row as another tool might have, bypassing validation. */
async function storeRaw(store: MemoryStore, ref: FlagRef, fields: Record<string, unknown>) {
  await store.append([
    { kind: 'FLAG', ref, fields: { Name: ref.name, Type: ref.flagType === 'feature' ? 'FEATURE' : 'DATA' } },
  ]);
  await store.append([
    { kind: 'REVISION', ref, fields: { Name: ref.name, Type: 'FEATURE', FormatVersion: 1, ...fields } },
  ]);
}

function expectJsonError(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
) {
  expect(response.statusCode).toBe(status);
  expect(String(response.headers['content-type'])).toContain('application/json');
  expect(response.body).not.toMatch(/<html|\n\s+at /i);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body.status).toBe(status);
  expect(body.request_id).toEqual(expect.any(String));
  expect(body.detail).toBe(body.message);
  return body;
}

describe("the runbook system's exception table over HTTP", () => {
  it('400 InvalidFlagTypeException for an unknown flag type', async () => {
    const { app } = await service();
    const body = expectJsonError(
      await app.inject(flagUrl({ ...checkout, flagType: 'boolean' as 'feature' }, 'u')),
      400,
    );
    expect(body).toMatchObject({ error: 'InvalidFlagTypeException', field: 'flag_type' });
    expect(body.message).toMatch(/^Invalid flag type: "boolean"\./);
  });

  it('400 InvalidRolloutPercentageException for a stored revision with a bad percentage, for that flag only', async () => {
    const { app, store } = await service();
    const bad = { project: 'shop', flagType: 'feature' as const, name: 'bad_percent' };
    await storeRaw(store, bad, {
      ControlValue: false,
      Treatments: [{ OverrideList: [], PercentRollout: 150, Value: true }],
    });
    const body = expectJsonError(await app.inject(flagUrl(bad, 'u')), 400);
    expect(body.error).toBe('InvalidRolloutPercentageException');
    expect(body.message).toMatch(/^Rollout percentage: 150 is invalid/);
    expect(body.field).toBe('Treatments[0].PercentRollout');
    expect((await app.inject(flagUrl(checkout, 'u'))).statusCode).toBe(200);
  });

  it('400 InvalidHashAlgorithmException for a stored revision with an unknown hash', async () => {
    const { app, store } = await service();
    const bad = { project: 'shop', flagType: 'feature' as const, name: 'bad_hash' };
    await storeRaw(store, bad, { ControlValue: false, HashAlgorithm: 'crc32', Treatments: [] });
    const body = expectJsonError(await app.inject(flagUrl(bad, 'u')), 400);
    expect(body.error).toBe('InvalidHashAlgorithmException');
  });

  it('404 EmptyFlagDataException for a flag with no data', async () => {
    const { app } = await service();
    const body = expectJsonError(await app.inject(flagUrl({ ...checkout, name: 'no_such_flag' }, 'u')), 404);
    expect(body.error).toBe('EmptyFlagDataException');
    expect(body.message).toMatch(/^No Flag Data found: /);
  });

  it('500 ValidationError for a stored value of the wrong type', async () => {
    const { app, store } = await service();
    const bad = { project: 'shop', flagType: 'feature' as const, name: 'bad_value' };
    await storeRaw(store, bad, { ControlValue: 'False', Treatments: [] });
    const body = expectJsonError(await app.inject(flagUrl(bad, 'u')), 500);
    expect(body).toMatchObject({ error: 'ValidationError', field: 'ControlValue' });
  });

  it('504 when the store does not answer within VEXIL_STORE_TIMEOUT_MS', async () => {
    const { app, store } = await service({ VEXIL_STORE_TIMEOUT_MS: '50' });
    store.delayMs = 500;
    const body = expectJsonError(await app.inject(flagUrl(checkout, 'u')), 504);
    expect(body.error).toBe('TimeoutError');
    expect(body.message).toMatch(/^Timeout error occurred for : reading shop\/feature\/new_checkout/);
  });

  it("4xx client errors pass through in the service's words: a missing parameter, an unknown route, a body that is not JSON", async () => {
    const { app } = await service();
    const missing = expectJsonError(
      await app.inject('/get-feature-flag?project_name=shop&flag_type=feature&flag_name=x'),
      400,
    );
    expect(missing).toMatchObject({ error: 'InvalidInput', field: 'instance_id' });
    const twice = expectJsonError(await app.inject(`${flagUrl(checkout, 'a')}&instance_id=b`), 400);
    expect(twice.message).toMatch(/instance_id was given 2 times/);
    const empty = expectJsonError(await app.inject(flagUrl({ ...checkout, project: '' }, 'u')), 400);
    expect(empty.field).toBe('project_name');
    const badName = expectJsonError(await app.inject(flagUrl({ ...checkout, name: 'Bad Name' }, 'u')), 400);
    expect(badName).toMatchObject({ error: 'InvalidInput', field: 'flag_name' });
    const route = expectJsonError(await app.inject('/no/such/route'), 404);
    expect(route).toMatchObject({
      error: 'NotFound',
      message: 'no route GET /no/such/route; the API is described at /docs',
    });
    const notJson = expectJsonError(
      await app.inject({
        method: 'POST',
        url: '/admin/v1/apply',
        headers: { 'content-type': 'application/json' },
        body: '{nope',
      }),
      400,
    );
    expect(notJson).toMatchObject({
      error: 'InvalidInput',
      field: 'body',
      message: 'the request body is not valid JSON (Content-Type says application/json): send a JSON body',
    });
  });

  it('503 for an unhandled HTTP error from a dependency, and for a store that is unavailable', async () => {
    const { app, store } = await service();
    store.fault = async () => {
      throw Object.assign(new Error('upstream said 502 Bad Gateway'), { name: 'HTTPException', statusCode: 502 });
    };
    const http = expectJsonError(await app.inject(flagUrl(checkout, 'u')), 503);
    expect(http.message).toBe('An error of type HTTPException caught: upstream said 502 Bad Gateway.');
    store.fault = async () => {
      throw new UnavailableError('the store cannot be reached');
    };
    app.services.evaluator.invalidateAll();
    const down = expectJsonError(await app.inject(flagUrl({ ...checkout, name: 'other' }, 'u')), 503);
    expect(down.error).toBe('Unavailable');
  });

  it('500 for an unexpected error, without its stack', async () => {
    const { app, store } = await service();
    store.fault = async () => {
      throw new TypeError('boom');
    };
    const body = expectJsonError(await app.inject(flagUrl(checkout, 'u')), 500);
    expect(body).toMatchObject({
      error: 'UnexpectedError',
      message: 'An unexpected error of type TypeError caught: boom.',
    });
  });
});
