import { resolve } from 'node:path';
import type { ServiceConfig } from './config.js';

/** Removes the store's whereabouts from a message. */
export type Redact = (message: string) => string;

/** What a removed address reads as. */
export const HIDDEN_ADDRESS = '[address hidden]';

// Addresses in any driver's words: URLs, IPv4 and IPv6 addresses (with a port or not), host names with a port.
const ADDRESS_PATTERNS: readonly RegExp[] = [
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi,
  /\[[0-9a-f.]*:[0-9a-f:.]*\](?::\d{1,5})?/gi,
  /(?<![\w:.])[0-9a-f]*::[0-9a-f:.]*(?![\w:])/gi,
  /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g,
  /\b(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+):\d{1,5}\b/gi,
];

/**
 * A redactor for messages that leave the service (HTTP answers): the configured
 * store's URL, host, port and file path, and anything shaped like a network
 * address, become `[address hidden]`. The log keeps the full message.
 */
export function storeAddressRedactor(config: Pick<ServiceConfig, 'store' | 'bigtableEmulatorHost'>): Redact {
  const known = knownParts(config)
    .filter((part) => part !== '')
    .sort((a, b) => b.length - a.length)
    // Whole names only: a host called `flags` leaves `flags_table` alone.
    .map((part) => new RegExp(`(?<![\\w.-])${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`, 'g'));
  return (message) => {
    let text = message;
    for (const pattern of [...known, ...ADDRESS_PATTERNS]) text = text.replace(pattern, HIDDEN_ADDRESS);
    return text;
  };
}

/** The configured store's location in the forms a message may quote it: spec, path, host with and without port. */
function knownParts(config: Pick<ServiceConfig, 'store' | 'bigtableEmulatorHost'>): string[] {
  const parts: string[] = [];
  const spec = config.store.trim();
  if (spec.startsWith('sqlite:') && spec !== 'sqlite::memory:') {
    const path = spec.slice('sqlite:'.length);
    if (path !== '') parts.push(spec, path, resolve(process.cwd(), path));
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    parts.push(spec);
    try {
      const url = new URL(spec);
      parts.push(url.host, url.hostname);
    } catch {
      // Not a URL after all: the patterns still apply.
    }
  }
  const emulator = config.bigtableEmulatorHost?.trim();
  if (emulator) parts.push(emulator, emulator.replace(/:\d+$/, ''));
  return parts;
}

/**
 * The store as the HTTP side uses it: the same engine, whose errors' messages and
 * hints are redacted. The error thrown is a copy of the engine's (same class, code,
 * status and field) with the original as its `cause`, so the log still says where.
 */
export function withStoreAddressHidden<S extends object>(store: S, redact: Redact): S {
  // Keyed by the method itself, not its name: a method replaced on the store later (a
  // test's spy, a re-bound function) is the one called.
  const wrapped = new WeakMap<object, unknown>();
  const hide = (error: unknown): unknown => hidden(error, redact);
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let wrapper = wrapped.get(value);
      if (wrapper === undefined) {
        wrapper = (...args: unknown[]) => {
          try {
            const result: unknown = Reflect.apply(value, target, args);
            return result instanceof Promise
              ? result.catch((error: unknown) => {
                  throw hide(error);
                })
              : result;
          } catch (error) {
            throw hide(error);
          }
        };
        wrapped.set(value, wrapper);
      }
      return wrapper;
    },
  });
}

function hidden(error: unknown, redact: Redact): unknown {
  if (!(error instanceof Error)) return error;
  const message = redact(error.message);
  const hint = (error as { hint?: unknown }).hint;
  const redactedHint = typeof hint === 'string' ? redact(hint) : hint;
  if (message === error.message && redactedHint === hint) return error;
  const copy = Object.create(Object.getPrototypeOf(error) as object, Object.getOwnPropertyDescriptors(error)) as Error;
  Object.defineProperty(copy, 'message', { value: message, writable: true, configurable: true });
  if (typeof hint === 'string') Object.defineProperty(copy, 'hint', { value: redactedHint });
  Object.defineProperty(copy, 'cause', { value: error, writable: true, configurable: true });
  return copy;
}
