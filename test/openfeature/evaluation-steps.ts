import { setImmediate as nextTurn } from 'node:timers/promises';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import {
  type Client,
  type EvaluationContext,
  type EvaluationDetails,
  type FlagValue,
  type Hook,
  type JsonValue,
  OpenFeature,
  type Provider,
} from '@openfeature/web-sdk';
import { expect } from 'vitest';
import { StepRegistry } from './step-registry.js';
import { detailValue, type FlagKind, flagKind, metadataValue, typedValue } from './step-values.js';

/**
 * The steps of evaluation_v2.feature, evaluation.feature, metadata.feature and
 * hooks.feature, run through the OFREP web provider on the web SDK (see the test's
 * header for why that provider). The static-context paradigm: a scenario's context is
 * the SDK's context for its domain, set before evaluating, which makes the provider
 * evaluate every flag for it (OFREP bulk); each evaluation then reads that answer.
 */
export interface EvaluationWorld {
  readonly baseUrl: string;
  /** One domain per scenario, so no provider, context or hook outlives it. */
  readonly domain: string;
  flag?: { key: string; kind: FlagKind; fallback: FlagValue };
  context: EvaluationContext;
  details?: EvaluationDetails<FlagValue>;
  hookCalls: { stage: string; details: EvaluationDetails<FlagValue> | undefined }[];
  optionHooks?: Hook[];
  optionCalls: string[];
  contextBefore?: EvaluationContext;
  turnsWhileEvaluating?: number;
  /** The deprecated evaluation.feature's value-only evaluations. */
  value?: FlagValue;
}

// `getClient` makes a new client on every call, and hooks added to a client stay on that
// one: a scenario keeps its client.
const clients = new WeakMap<EvaluationWorld, Client>();
function client(world: EvaluationWorld): Client {
  let found = clients.get(world);
  if (found === undefined) {
    found = OpenFeature.getClient(world.domain);
    clients.set(world, found);
  }
  return found;
}

/**
 * The provider keeps no persisted cache (`cacheMode: 'disabled'`): its persisted cache is
 * keyed by targeting key, and the suite's contexts change without one, so a context
 * change would be answered from the previous context's evaluation.
 */
async function registerProvider(world: EvaluationWorld): Promise<void> {
  // The provider's declared `hooks?: Hook[]` misses `| undefined` for exactOptionalPropertyTypes.
  const provider = new OFREPWebProvider({ baseUrl: world.baseUrl, cacheMode: 'disabled' }) as Provider;
  await OpenFeature.setProviderAndWait(world.domain, provider);
}

/** Sets the scenario's context (the provider evaluates every flag for it) and evaluates the flag with details. */
async function evaluate(
  world: EvaluationWorld,
  flag = world.flag!,
  options: { hooks?: Hook[] } = {},
): Promise<EvaluationDetails<FlagValue>> {
  await OpenFeature.setContext(world.domain, world.context);
  const c = client(world);
  switch (flag.kind) {
    case 'boolean':
      return c.getBooleanDetails(flag.key, flag.fallback as boolean, options);
    case 'string':
      return c.getStringDetails(flag.key, flag.fallback as string, options);
    case 'integer':
    case 'float':
      return c.getNumberDetails(flag.key, flag.fallback as number, options);
    case 'object':
      return c.getObjectDetails(flag.key, flag.fallback as JsonValue, options);
  }
}

function recordingHook(calls: (stage: string, details?: EvaluationDetails<FlagValue>) => void): Hook {
  return {
    before: () => calls('before'),
    after: (_context, details) => calls('after', details),
    error: () => calls('error'),
    finally: (_context, details) => calls('finally', details),
  };
}

const DETAIL_FIELDS: Readonly<Record<string, keyof EvaluationDetails<FlagValue>>> = {
  flag_key: 'flagKey',
  value: 'value',
  variant: 'variant',
  reason: 'reason',
  error_code: 'errorCode',
};

export const evaluationSteps = new StepRegistry<EvaluationWorld>()
  .define(/a stable provider/, registerProvider)
  .define(
    /a (Boolean|boolean|String|string|Integer|Float|Object)-flag with key "(.*)" and a fallback value "(.*)"/,
    (w, [type, key, fallback]) => {
      const kind = flagKind(type!);
      w.flag = { key: key!, kind, fallback: typedValue(kind, fallback!) as FlagValue };
    },
  )
  .define(/a context containing a key "(.*)", with type "(.*)" and with value "(.*)"/, (w, [key, type, value]) => {
    w.context = { ...w.context, [key!]: typedValue(flagKind(type!), value!) as FlagValue };
  })
  .define(/a context containing a key "(.*)" with null value/, (w, [key]) => {
    w.context = { ...w.context, [key!]: null };
  })
  .define(/the flag was evaluated with details/, async (w) => {
    w.details = await evaluate(w);
  })
  .define(/the resolved details value should be "(.*)"/, (w, [value]) => {
    expect(w.details!.value).toEqual(typedValue(w.flag!.kind, value!));
  })
  .define(/the reason should be "([^"]*)"/, (w, [reason]) => {
    expect(w.details!.reason).toBe(reason);
  })
  .define(/the error-code should be "(.*)"/, (w, [code]) => {
    expect(w.details!.errorCode).toBe(code);
  })
  .define(/the flag key should be "(.*)"/, (w, [key]) => {
    expect(w.details!.flagKey).toBe(key);
  })
  .define(/the variant should be "([^"]*)"/, (w, [variant]) => {
    expect(w.details!.variant).toBe(variant);
  })
  .define(/the resolved metadata should contain/, (w, _args, table) => {
    const [header, ...rows] = table!;
    expect(header).toEqual(['key', 'metadata_type', 'value']);
    for (const [key, type, value] of rows) {
      expect(w.details!.flagMetadata[key!], key).toEqual(metadataValue(type!, value!));
    }
  })
  .define(/the resolved metadata is empty/, (w) => {
    expect(w.details!.flagMetadata).toEqual({});
  })
  .define(/the provider status should be "(.*)"/, (w, [status]) => {
    expect(client(w).providerStatus).toBe(status);
  })
  // Hooks (hooks.feature; evaluation options in evaluation_v2.feature).
  .define(/a client with added hook/, (w) => {
    client(w).addHooks(recordingHook((stage, details) => w.hookCalls.push({ stage, details })));
  })
  .define(/the "(.*)" hook should have been executed/, (w, [stage]) => {
    expect(w.hookCalls.map((call) => call.stage)).toContain(stage);
  })
  .define(/the "(.*)" hooks should be called with evaluation details/, (w, [stages], table) => {
    const [header, ...rows] = table!;
    expect(header).toEqual(['data_type', 'key', 'value']);
    for (const stage of stages!.split(',').map((s) => s.trim())) {
      const call = w.hookCalls.find((c) => c.stage === stage);
      expect(call, `${stage} hook`).toBeDefined();
      for (const [type, key, value] of rows) {
        const field = DETAIL_FIELDS[key!];
        expect(field, `unknown evaluation detail ${key}`).toBeDefined();
        expect(call!.details![field!], `${stage}: ${key}`).toEqual(detailValue(type!, value!));
      }
    }
  })
  .define(/evaluation options containing specific hooks/, (w) => {
    w.optionHooks = ['first', 'second'].map((name) => recordingHook((stage) => w.optionCalls.push(`${name} ${stage}`)));
  })
  .define(/the flag was evaluated with details using the evaluation options/, async (w) => {
    w.details = await evaluate(w, w.flag, { hooks: w.optionHooks! });
  })
  .define(/the specified hooks should execute during evaluation/, (w) => {
    for (const name of ['first', 'second']) {
      for (const stage of ['before', 'after', 'finally']) expect(w.optionCalls).toContain(`${name} ${stage}`);
    }
    expect(w.optionCalls.some((call) => call.endsWith('error'))).toBe(false);
  })
  .define(/the hook order should be maintained/, (w) => {
    // Spec 4.4.2: "before" hooks run in the order given, "after" and "finally" in reverse.
    expect(w.optionCalls).toEqual([
      'first before',
      'second before',
      'second after',
      'first after',
      'second finally',
      'first finally',
    ]);
  })
  // Immutability (spec 1.4.15.1).
  .define(/an evaluation context with modifiable data/, (w) => {
    w.context = { email: 'someone@example.com', tags: ['a', 'b'], profile: { age: 40 } };
    w.contextBefore = structuredClone(w.context);
  })
  .define(/the original evaluation context should remain unmodified/, (w) => {
    expect(w.context).toEqual(w.contextBefore);
  })
  .define(/the evaluation details should be immutable/, (w) => {
    // What spec 1.4.15.1 asks for: the details' flag metadata cannot be changed.
    const metadata = w.details!.flagMetadata as Record<string, unknown>;
    expect(Object.isFrozen(metadata)).toBe(true);
    expect(() => {
      metadata.added = true;
    }).toThrow(TypeError);
  })
  // Asynchronous evaluation (spec 1.4.12): the provider fetches for the new context over
  // the network while the event loop keeps turning; the evaluation then reads the answer.
  .define(/the flag was evaluated with details asynchronously/, async (w) => {
    let done = false;
    let turns = 0;
    const spinning = (async () => {
      while (!done) {
        await nextTurn();
        turns++;
      }
    })();
    w.context = { ...w.context, asyncEvaluation: true };
    w.details = await evaluate(w);
    done = true;
    await spinning;
    w.turnsWhileEvaluating = turns;
  })
  .define(/the evaluation should complete without blocking/, (w) => {
    expect(w.turnsWhileEvaluating).toBeGreaterThan(0);
  })
  // The deprecated evaluation.feature.
  .define(
    /an? (boolean|string|integer|float) flag with key "(.*)" is evaluated with default value "?([^"]*)"?/,
    async (w, [type, key, fallback]) => {
      const kind = flagKind(type!);
      w.flag = { key: key!, kind, fallback: typedValue(kind, fallback!) as FlagValue };
      w.value = (await evaluate(w)).value;
    },
  )
  .define(/the resolved (boolean|string|integer|float) value should be "?([^"]*)"?/, (w, [type, value]) => {
    expect(w.value).toEqual(typedValue(flagKind(type!), value!));
  })
  .define(/an object flag with key "(.*)" is evaluated with a null default value/, async (w, [key]) => {
    w.flag = { key: key!, kind: 'object', fallback: {} };
    w.value = (await evaluate(w)).value;
  })
  .define(
    /the resolved object value should be contain fields "(.*)", "(.*)", and "(.*)", with values "(.*)", "(.*)" and (\d+), respectively/,
    (w, [f1, f2, f3, boolean, string, integer]) => {
      expect(w.value).toEqual({ [f1!]: boolean === 'true', [f2!]: string, [f3!]: Number.parseInt(integer!, 10) });
    },
  )
  .define(
    /an? (boolean|string|integer|float) flag with key "(.*)" is evaluated with details and default value "?([^"]*)"?/,
    async (w, [type, key, fallback]) => {
      const kind = flagKind(type!);
      w.flag = { key: key!, kind, fallback: typedValue(kind, fallback!) as FlagValue };
      w.details = await evaluate(w);
    },
  )
  .define(
    /the resolved (boolean|string|integer|float) details value should be "?([^"]*)"?, the variant should be "(.*)", and the reason should be "(.*)"/,
    (w, [type, value, variant, reason]) => {
      expect(w.details!.value).toEqual(typedValue(flagKind(type!), value!));
      expect(w.details!.variant).toBe(variant);
      expect(w.details!.reason).toBe(reason);
    },
  )
  .define(/an object flag with key "(.*)" is evaluated with details and a null default value/, async (w, [key]) => {
    w.flag = { key: key!, kind: 'object', fallback: {} };
    w.details = await evaluate(w);
  })
  .define(
    /the resolved object details value should be contain fields "(.*)", "(.*)", and "(.*)", with values "(.*)", "(.*)" and (\d+), respectively/,
    (w, [f1, f2, f3, boolean, string, integer]) => {
      expect(w.details!.value).toEqual({
        [f1!]: boolean === 'true',
        [f2!]: string,
        [f3!]: Number.parseInt(integer!, 10),
      });
    },
  )
  .define(/the variant should be "(.*)", and the reason should be "(.*)"/, (w, [variant, reason]) => {
    expect(w.details!.variant).toBe(variant);
    expect(w.details!.reason).toBe(reason);
  })
  .define(
    /context contains keys "(.*)", "(.*)", "(.*)", "(.*)" with values "(.*)", "(.*)", (\d+), "(.*)"/,
    (w, [k1, k2, k3, k4, v1, v2, v3, v4]) => {
      w.context = { [k1!]: v1!, [k2!]: v2!, [k3!]: Number.parseInt(v3!, 10), [k4!]: v4 === 'true' };
    },
  )
  .define(/a flag with key "(.*)" is evaluated with default value "(.*)"/, async (w, [key, fallback]) => {
    w.flag = { key: key!, kind: 'string', fallback: fallback! };
    w.value = (await evaluate(w)).value;
  })
  .define(/the resolved string response should be "(.*)"/, (w, [value]) => {
    expect(w.value).toBe(value);
  })
  .define(/the resolved flag value is "(.*)" when the context is empty/, async (w, [value]) => {
    w.context = {};
    expect((await evaluate(w, { ...w.flag!, fallback: 'nope' })).value).toBe(value);
  })
  .define(
    /a non-existent string flag with key "(.*)" is evaluated with details and a fallback value "(.*)"/,
    async (w, [key, fallback]) => {
      w.flag = { key: key!, kind: 'string', fallback: fallback! };
      w.details = await evaluate(w);
    },
  )
  .define(/the default (string|integer) value should be returned/, (w) => {
    expect(w.details!.value).toEqual(w.flag!.fallback);
  })
  .define(
    /the reason should indicate an error and the error code should indicate an? (?:missing flag|type mismatch) with "(.*)"/,
    (w, [code]) => {
      expect(w.details!.reason).toBe('ERROR');
      expect(w.details!.errorCode).toBe(code);
    },
  )
  .define(
    /a string flag with key "(.*)" is evaluated as an integer, with details and a fallback value (\d+)/,
    async (w, [key, fallback]) => {
      w.flag = { key: key!, kind: 'integer', fallback: Number.parseInt(fallback!, 10) };
      w.details = await evaluate(w);
    },
  );
