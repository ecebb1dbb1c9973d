import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import type { FlagRef } from '@vexil/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localEvaluation } from '../src/local.js';
import { VexilWebProvider } from '../src/openfeature.js';
import { addRevision, PROJECT, type Service, until, webService } from './web-harness.js';

const greeting: FlagRef = { project: PROJECT, flagType: 'data', name: 'greeting' };

let service: Service;
beforeAll(async () => {
  service = await webService();
});
afterEach(async () => {
  await OpenFeature.close();
});
afterAll(async () => {
  await service.stop();
});

describe.each([
  ['bulk OFREP', undefined],
  ['local evaluation', localEvaluation],
] as const)('VexilWebProvider over %s with @openfeature/web-sdk', (name, evaluation) => {
  it('resolves for the static context, follows setContext, and emits ConfigurationChanged on a change', async () => {
    const domain = `vexil-${name}`;
    await OpenFeature.setProviderAndWait(
      domain,
      new VexilWebProvider({ baseUrl: service.url, project: PROJECT, evaluation }),
      { targetingKey: 'qa-1' },
    );
    const client = OpenFeature.getClient(domain);
    expect(client.getBooleanDetails('new_checkout', false)).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    expect(client.getNumberDetails('discount.rate', -1)).toMatchObject({
      value: 0.25,
      flagMetadata: { owner: 'growth' },
    });
    expect(client.getStringDetails('new_checkout', 'x')).toMatchObject({ value: 'x', errorCode: 'TYPE_MISMATCH' });
    expect(client.getStringDetails('nope', 'x')).toMatchObject({ value: 'x', errorCode: 'FLAG_NOT_FOUND' });

    await OpenFeature.setContext(domain, { targetingKey: 'u-9', lang: 'fr' });
    expect(client.getStringValue('greeting', 'hello')).toBe('bonjour');

    const changes: (string[] | undefined)[] = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (details) => changes.push(details?.flagsChanged));
    await addRevision(service, greeting, { ControlValue: 'salut', Treatments: [] });
    await until(() => changes.length > 0, 'ConfigurationChanged after the new revision');
    expect(changes[0]).toEqual(['greeting']);
    expect(client.getStringValue('greeting', 'hello')).toBe('salut');
    await addRevision(service, greeting, {
      ControlValue: null,
      Treatments: [],
      Rules: [{ Conditions: [{ Attribute: 'lang', Operator: 'equals', Values: ['fr'] }], Value: 'bonjour' }],
    });
  });
});

describe('VexilWebProvider without answers', () => {
  it('fails its initialization (the provider in ERROR) when the project does not exist', async () => {
    const provider = new VexilWebProvider({ baseUrl: service.url, project: 'nope', readyTimeoutMs: 2000 });
    await expect(OpenFeature.setProviderAndWait('missing', provider, {})).rejects.toThrow(
      /project nope does not exist/,
    );
    expect(OpenFeature.getClient('missing').getBooleanValue('new_checkout', true)).toBe(true);
  });
});
