import { OFREPProvider } from '@openfeature/ofrep-provider';
import {
  AsyncLocalStorageTransactionContextPropagator,
  type EvaluationContext,
  type Hook,
  type JsonValue,
  OpenFeature,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { expect } from 'vitest';
import { StepRegistry } from './step-registry.js';

/**
 * The steps of contextMerging.feature. Its levels (transaction, invocation, before
 * hooks) belong to the dynamic-context paradigm, which only the server SDK has, so it
 * runs on @openfeature/server-sdk with the official server OFREP provider. "A provider
 * with retrievable context" is that provider, wrapped to keep the context the SDK
 * passes it: the evaluation still goes to `vexil serve` over OFREP.
 */
export interface ContextMergingWorld {
  readonly baseUrl: string;
  readonly domain: string;
  provider?: ContextKeepingProvider;
  levels: Map<string, EvaluationContext>;
  precedence: string[];
}

const LEVELS = ['API', 'Transaction', 'Client', 'Invocation', 'Before Hooks'];

/** Delegates to the official OFREP provider and keeps the context of the last evaluation. */
class ContextKeepingProvider implements Provider {
  readonly runsOn = 'server';
  readonly metadata = { name: 'OFREP provider keeping the evaluation context' };
  lastContext: EvaluationContext | undefined;
  private readonly inner: OFREPProvider;

  constructor(baseUrl: string) {
    this.inner = new OFREPProvider({ baseUrl });
  }

  resolveBooleanEvaluation(key: string, fallback: boolean, context: EvaluationContext) {
    this.lastContext = context;
    return this.inner.resolveBooleanEvaluation(key, fallback, context) as Promise<ResolutionDetails<boolean>>;
  }
  resolveStringEvaluation(key: string, fallback: string, context: EvaluationContext) {
    this.lastContext = context;
    return this.inner.resolveStringEvaluation(key, fallback, context) as Promise<ResolutionDetails<string>>;
  }
  resolveNumberEvaluation(key: string, fallback: number, context: EvaluationContext) {
    this.lastContext = context;
    return this.inner.resolveNumberEvaluation(key, fallback, context) as Promise<ResolutionDetails<number>>;
  }
  resolveObjectEvaluation<T extends JsonValue>(key: string, fallback: T, context: EvaluationContext) {
    this.lastContext = context;
    return this.inner.resolveObjectEvaluation(key, fallback, context) as Promise<ResolutionDetails<T>>;
  }
}

function addEntry(world: ContextMergingWorld, level: string, key: string, value: string): void {
  if (!LEVELS.includes(level)) throw new Error(`unknown context level: ${level}`);
  world.levels.set(level, { ...world.levels.get(level), [key]: value });
}

export const contextMergingSteps = new StepRegistry<ContextMergingWorld>()
  .define(/a stable provider with retrievable context is registered/, async (w) => {
    OpenFeature.setTransactionContextPropagator(new AsyncLocalStorageTransactionContextPropagator());
    w.provider = new ContextKeepingProvider(w.baseUrl);
    await OpenFeature.setProviderAndWait(w.domain, w.provider);
  })
  .define(/A context entry with key "(.*)" and value "(.*)" is added to the "(.*)" level/, (w, [key, value, level]) => {
    addEntry(w, level!, key!, value!);
  })
  .define(/A table with levels of increasing precedence/, (w, _args, table) => {
    w.precedence = table!.map((row) => row[0]!);
  })
  .define(
    /Context entries for each level from API level down to the "(.*)" level, with key "(.*)" and value "(.*)"/,
    (w, [last, key, value]) => {
      // Each level before the last holds its own name under the key, so only precedence can make `value` win.
      for (const level of w.precedence) {
        addEntry(w, level, key!, level === last ? value! : level);
        if (level === last) return;
      }
      throw new Error(`level ${last} is not in the precedence table`);
    },
  )
  .define(/Some flag was evaluated/, async (w) => {
    const at = (level: string) => w.levels.get(level) ?? {};
    OpenFeature.setContext(at('API'));
    const client = OpenFeature.getClient(w.domain);
    client.setContext(at('Client'));
    const beforeHook: Hook = { before: () => at('Before Hooks') };
    const evaluate = () => client.getBooleanValue('boolean-flag', false, at('Invocation'), { hooks: [beforeHook] });
    if (!w.levels.has('Transaction')) {
      await evaluate();
      return;
    }
    // setTransactionContext runs the callback inside the transaction and returns nothing: await its promise.
    await new Promise<void>((resolve, reject) => {
      OpenFeature.setTransactionContext(at('Transaction'), () => evaluate().then(() => resolve(), reject));
    });
  })
  .define(/The merged context contains an entry with key "(.*)" and value "(.*)"/, (w, [key, value]) => {
    expect(w.provider!.lastContext).toBeDefined();
    expect(w.provider!.lastContext![key!]).toBe(value);
  });
