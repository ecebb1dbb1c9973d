import type { FlagValue } from '@vexil/core';
import {
  createContext,
  createElement,
  type ReactNode,
  useCallback,
  useContext,
  useRef,
  useSyncExternalStore,
} from 'react';
import type { VexilClient } from './vexil-client.js';

const ClientContext = createContext<VexilClient | undefined>(undefined);

export interface VexilProviderProps {
  /** The client the components below read their flags from (create it once, outside rendering). */
  client: VexilClient;
  children?: ReactNode;
}

/** Makes `client` the one `useFlag` reads below it. */
export function VexilProvider({ client, children }: VexilProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The client of the nearest `<VexilProvider>`. */
export function useVexilClient(): VexilClient {
  const client = useContext(ClientContext);
  if (client === undefined) throw new Error('useFlag and useVexilClient need a <VexilProvider client={…}> above them');
  return client;
}

/**
 * The value of flag `name` for the client's context; `defaultValue` until the answers
 * arrive and whenever the flag cannot be answered. Its type picks the flag type read
 * (boolean: feature, string: data, number, object or array: json). The component
 * re-renders when the flag's answer changes (useSyncExternalStore over the client's
 * `ready` and `change` events), with no reload.
 */
export function useFlag<T extends FlagValue>(name: string, defaultValue: T): T {
  const client = useVexilClient();
  // The default given on this render: an object default made anew each render must not count as a change.
  const fallback = useRef(defaultValue);
  fallback.current = defaultValue;
  const subscribe = useCallback(
    (onChange: () => void) => {
      const off = [
        client.on('ready', onChange),
        client.on('change', ({ flagsChanged }) => {
          if (flagsChanged.includes(name)) onChange();
        }),
      ];
      return () => {
        for (const unsubscribe of off) unsubscribe();
      };
    },
    [client, name],
  );
  const read = () => client.getFlagDetails(name, fallback.current).value;
  return useSyncExternalStore(subscribe, read, read);
}
