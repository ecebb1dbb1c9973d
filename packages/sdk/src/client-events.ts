/**
 * A small typed event emitter for the clients. Not node:events: an `error` event
 * without a listener must not throw (clients never throw because something went
 * wrong), and a listener that throws must not break the client.
 */
export class ClientEvents<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  /** Calls `listener` on each `event` until `off`. */
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): this {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return this;
  }

  /** Calls `listener` on the next `event` only. */
  once<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): this {
    const wrapper = (payload: Events[K]) => {
      this.off(event, wrapper);
      listener(payload);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): this {
    this.listeners.get(event)?.delete(listener as (payload: never) => void);
    return this;
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch {
        // A listener's failure is its own; the client carries on.
      }
    }
  }
}
