/**
 * A small typed event emitter. Not EventTarget: its events carry no typed payloads,
 * and a listener that throws must not break the client. `on` answers the function that
 * removes the listener (what React's useSyncExternalStore wants of a subscribe).
 */
export class ClientEvents<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const entry = listener as (payload: never) => void;
    set.add(entry);
    return () => set.delete(entry);
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch {
        // A listener's failure is its own; the client carries on.
      }
    }
  }
}
