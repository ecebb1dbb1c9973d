import type { FlagRef } from '@vexil/core';
import { MemoryStore, type StoreEngine } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { type Env, loadConfig } from '../src/config.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { buildTestApp } from './support/test-token.js';

export const checkout: FlagRef = { project: 'shop', flagType: 'feature', name: 'new_checkout' };
export const provider: FlagRef = { project: 'shop', flagType: 'data', name: 'llm_provider' };

/** The two flags server tests start from: a 40 % rollout with an override, and a data flag with two treatments. */
export async function seedFlags(admin: FlagAdmin): Promise<void> {
  await admin.addFlag(checkout, { description: 'checkout' });
  await admin.addRevision(checkout, {
    ControlValue: false,
    Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 40, Value: true }],
  });
  await admin.addFlag(provider, {});
  await admin.addRevision(provider, {
    ControlValue: 'openai',
    Treatments: [
      { OverrideList: ['A123456'], PercentRollout: 20, Value: 'claude' },
      { OverrideList: [], PercentRollout: 30, Value: 'llama' },
    ],
  });
}

/** A service on an in-memory store with two flags, built as `vexil serve` builds it. */
export async function serviceWithFlags(env: Env = {}, store: StoreEngine = new MemoryStore()) {
  const admin = new FlagAdmin(store);
  await seedFlags(admin);
  const app = await buildTestApp({
    config: loadConfig({ VEXIL_STORE: 'memory:', ...env }),
    store,
    defaultMetrics: false,
  });
  return { app, store, admin };
}

export function flagUrl(ref: FlagRef, instanceId: string, path = '/get-feature-flag'): string {
  const query = new URLSearchParams({
    project_name: ref.project,
    instance_id: instanceId,
    flag_type: ref.flagType,
    flag_name: ref.name,
  });
  return `${path}?${query}`;
}

/** Waits until the evaluation log has written everything queued, reported evaluations included. */
export async function flushLog(app: FastifyInstance): Promise<void> {
  await Promise.all([app.services.evaluationLog?.flush(), app.services.reportLog?.flush()]);
}
