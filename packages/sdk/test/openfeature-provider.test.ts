import { type EventDetails, NOOP_PROVIDER, OpenFeature, ProviderEvents, ProviderStatus } from '@openfeature/server-sdk';
import { describe, expect, it } from 'vitest';
import { FeatureFlagClient, type ProjectSnapshot } from '../src/index.js';
import { VexilProvider } from '../src/openfeature.js';
import {
  checkout,
  eventually,
  freePort,
  instanceIds,
  killSwitch,
  PROJECT,
  provider,
  serviceValue,
  testResources,
} from './service-harness.js';

const { cleanups, service } = testResources();

let domains = 0;

/** The official SDK with a VexilProvider for the project, in a domain of its own. */
async function openFeature(baseUrl: string, extra: Record<string, unknown> = {}) {
  const domain = `vexil-${++domains}`;
  const vexil = new VexilProvider({
    projectName: PROJECT,
    baseUrl,
    reportEvaluations: false,
    readyTimeoutMs: 500,
    reconnectDelayMs: 50,
    maxReconnectDelayMs: 200,
    ...extra,
  });
  cleanups.push(async () => {
    await OpenFeature.setProviderAndWait(domain, NOOP_PROVIDER);
    await vexil.onClose();
  });
  // Without flag data, initialization fails (the provider starts in ERROR); tests check the status.
  await OpenFeature.setProviderAndWait(domain, vexil).catch(() => undefined);
  return { client: OpenFeature.getClient(domain), vexil, domain };
}

describe('VexilProvider with the OpenFeature server SDK', () => {
  it('resolves boolean and string flags as the service evaluates them, with reason, variant and metadata', async () => {
    const svc = await service();
    const { client } = await openFeature(svc.url);
    const checkoutRevision = (await svc.admin.latestRevision(checkout)).wtime;
    for (const id of instanceIds(40)) {
      const details = await client.getBooleanDetails(checkout.name, false, { targetingKey: id });
      expect(details.value).toBe(await serviceValue(svc, checkout, id));
      expect(details.reason).toBe(details.value ? 'SPLIT' : 'DEFAULT');
      expect(details.variant).toBe(details.value ? 'treatment' : 'control');
      expect(details.flagMetadata).toEqual({ project: PROJECT, flagType: 'feature', revision: checkoutRevision });
      const data = await client.getStringDetails(provider.name, 'x', { targetingKey: id });
      expect(data.value).toBe(await serviceValue(svc, provider, id));
    }
    expect(await client.getBooleanDetails(checkout.name, false, { targetingKey: 'qa-1' })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
      variant: 'override',
    });
    expect(await client.getStringDetails(provider.name, 'x', { targetingKey: 'A123456' })).toMatchObject({
      value: 'claude',
      reason: 'TARGETING_MATCH',
      variant: 'override-1',
    });
    expect(await client.getBooleanDetails(killSwitch.name, false, { targetingKey: 'A1' })).toMatchObject({
      value: true,
      reason: 'STATIC',
      variant: 'control',
    });
    expect(await client.getBooleanValue(checkout.name, false, { targetingKey: 'qa-1' })).toBe(true);
  });

  it('answers the default with the error code for what it cannot resolve', async () => {
    const svc = await service();
    await svc.admin.addFlag({ project: PROJECT, flagType: 'feature', name: 'retired' }, {});
    await svc.admin.addRevision({ project: PROJECT, flagType: 'feature', name: 'retired' }, { ControlValue: true });
    await svc.admin.archive({ project: PROJECT, flagType: 'feature', name: 'retired' });
    const { client } = await openFeature(svc.url);
    const cases = [
      [await client.getBooleanDetails('no_such_flag', true, { targetingKey: 'A1' }), 'FLAG_NOT_FOUND'],
      [await client.getBooleanDetails('retired', false, { targetingKey: 'A1' }), 'FLAG_NOT_FOUND'],
      [await client.getStringDetails(checkout.name, 'd', { targetingKey: 'A1' }), 'TYPE_MISMATCH'],
      [await client.getNumberDetails(checkout.name, 7, { targetingKey: 'A1' }), 'TYPE_MISMATCH'],
      [await client.getObjectDetails(provider.name, { a: 1 }, { targetingKey: 'A1' }), 'TYPE_MISMATCH'],
      [await client.getBooleanDetails(checkout.name, true, {}), 'TARGETING_KEY_MISSING'],
    ] as const;
    for (const [details, code] of cases) {
      expect(details.reason).toBe('ERROR');
      expect(details.errorCode).toBe(code);
      expect(details.errorMessage).toBeTruthy();
    }
    expect(cases.map(([details]) => details.value)).toEqual([true, false, 'd', 7, { a: 1 }, true]);
  });

  it('answers PARSE_ERROR for a revision that does not validate', async () => {
    const svc = await service();
    const snapshot = (await (await fetch(`${svc.url}/sdk/v1/projects/${PROJECT}/snapshot`)).json()) as ProjectSnapshot;
    const broken: ProjectSnapshot = {
      ...snapshot,
      flags: snapshot.flags.map((flag) =>
        flag.name === checkout.name
          ? {
              ...flag,
              revision: { ...flag.revision, Treatments: [{ OverrideList: [], PercentRollout: 140, Value: true }] },
            }
          : flag,
      ),
    };
    const { client } = await openFeature(svc.url, { offline: true, bootstrap: broken });
    const details = await client.getBooleanDetails(checkout.name, false, { targetingKey: 'A1' });
    expect(details).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'PARSE_ERROR' });
    expect(details.errorMessage).toMatch(/PercentRollout/);
    expect((await client.getStringDetails(provider.name, 'x', { targetingKey: 'A123456' })).value).toBe('claude');
  });

  it('emits PROVIDER_CONFIGURATION_CHANGED with the flags changed when a revision arrives', async () => {
    const svc = await service();
    const { client } = await openFeature(svc.url);
    const changes: EventDetails[] = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
      if (details !== undefined) changes.push(details);
    });
    await svc.admin.addRevision(checkout, {
      ControlValue: false,
      Treatments: [{ OverrideList: ['probe-3'], PercentRollout: 40, Value: true }],
    });
    await eventually(() => changes.length > 0, 5000, 'a configuration-changed event');
    expect(changes[0]).toMatchObject({ flagsChanged: [checkout.name], providerName: 'Vexil' });
    expect(await client.getBooleanValue(checkout.name, false, { targetingKey: 'probe-3' })).toBe(true);
  });

  it('starts in ERROR without flag data, answers defaults, and becomes READY when the service comes up', async () => {
    const port = await freePort();
    const { client } = await openFeature(`http://127.0.0.1:${port}`, { readyTimeoutMs: 200 });
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    const details = await client.getBooleanDetails(checkout.name, true, { targetingKey: 'qa-1' });
    expect(details).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' });
    await service({ port });
    await eventually(() => client.providerStatus === ProviderStatus.READY, 10_000, 'READY');
    expect(await client.getBooleanValue(checkout.name, false, { targetingKey: 'qa-1' })).toBe(true);
  });

  it('goes STALE when the service is lost and READY when it is back', async () => {
    const first = await service();
    const { client } = await openFeature(first.url);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    await first.stop();
    await eventually(() => client.providerStatus === ProviderStatus.STALE, 5000, 'STALE');
    expect(await client.getBooleanValue(checkout.name, false, { targetingKey: 'qa-1' })).toBe(true); // last known
    await service({ store: first.store, port: first.port });
    await eventually(() => client.providerStatus === ProviderStatus.READY, 10_000, 'READY again');
  });

  it('uses a client it is given, and leaves it open when the provider closes', async () => {
    const svc = await service();
    const flags = new FeatureFlagClient({ projectName: PROJECT, baseUrl: svc.url, reportEvaluations: false });
    cleanups.push(() => flags.close());
    const vexil = new VexilProvider(flags);
    const domain = `vexil-${++domains}`;
    await OpenFeature.setProviderAndWait(domain, vexil);
    expect(await OpenFeature.getClient(domain).getBooleanValue(checkout.name, false, { targetingKey: 'qa-1' })).toBe(
      true,
    );
    await OpenFeature.setProviderAndWait(domain, NOOP_PROVIDER);
    await vexil.onClose();
    expect(flags.state).toBe('connected');
    expect(flags.getFlagBoolean(checkout.name, 'qa-1', false)).toBe(true);
  });
});
