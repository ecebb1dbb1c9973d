/**
 * Whether the store answers, as the service last found out: set by every store read
 * of the flag cache and the project snapshots and by `/readyz`'s ping. While it does
 * not answer, flags are served from the last data read (stale), and `/readyz` and
 * `/metrics` say so; the first read that succeeds ends it, without a restart.
 */
export class StoreHealth {
  private since: number | undefined;
  private reason: string | undefined;

  /** A store call failed. */
  failed(error: unknown): void {
    this.since ??= Date.now();
    this.reason = error instanceof Error ? error.message : String(error);
  }

  /** A store call succeeded. */
  answered(): void {
    this.since = undefined;
    this.reason = undefined;
  }

  /** The last store call failed: answers come from the last data read. */
  get stale(): boolean {
    return this.since !== undefined;
  }

  /** Seconds since the store stopped answering (0 while it answers). */
  get staleSeconds(): number {
    return this.since === undefined ? 0 : (Date.now() - this.since) / 1000;
  }

  /** Why the last store call failed (with the store's address hidden where the caller hid it). */
  get lastError(): string | undefined {
    return this.reason;
  }
}
