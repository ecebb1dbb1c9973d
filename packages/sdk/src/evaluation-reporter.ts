import { type EvaluationResult, type FlagType, formatWTime, MAX_REPORTED_EVALUATIONS } from '@vexil/core';
import { requestError, statusError, type VexilClientError } from './client-errors.js';

/** How in-process evaluations are reported to the service (`POST /sdk/v1/evaluations`). */
export interface ReportOptions {
  /** How often queued evaluations are sent. Default 1000 ms. */
  flushIntervalMs?: number | undefined;
  /** Evaluations per request, at most 1,000 (the service's limit). Default 1000. */
  batchSize?: number | undefined;
  /**
   * Evaluations queued between two flushes, at most: the reporting budget, by default
   * 10,000 per second per client. Beyond it (a process evaluating faster than that, or
   * a service that is slow or down), evaluations are not queued but counted in
   * `dropped`, so a hot loop costs the service nothing and the process no memory.
   */
  maxQueue?: number | undefined;
}

export interface ReportStats {
  /** Evaluations the service accepted. */
  sent: number;
  /** Evaluations dropped because the queue was full. */
  dropped: number;
  /** Evaluations lost because their request failed (they are not retried). */
  failed: number;
  /** Evaluations waiting to be sent. */
  queued: number;
}

/** Whatever identifies a flag for a report; the client's compiled flag entries are passed as they are. */
export interface ReportedFlag {
  readonly flagType: FlagType;
  readonly name: string;
  /** The WTIME of the revision evaluated: the service checks the report against that revision. */
  readonly wtime?: string | undefined;
}

interface ReporterSetup {
  url: string;
  project: string;
  headers: Readonly<Record<string, string>>;
  fetch: typeof fetch;
  timeoutMs: number;
  onError: (error: VexilClientError) => void;
}

/**
 * The evaluation reports' queue. `add` is on the hot path of every get: it stores three
 * references and a timestamp in preallocated arrays (no object per evaluation), or
 * only counts the evaluation when the queue is full. Every `flushIntervalMs` an
 * unref'd timer serializes the queue (from fragments cached per flag and per result,
 * so an evaluation costs a few string concatenations) and sends it in batches, one
 * request at a time. Reporting never keeps a process alive, and its cost is bounded
 * by `maxQueue` per interval whatever the evaluation rate.
 */
export class EvaluationReporter {
  private readonly flags: (ReportedFlag | undefined)[];
  private readonly ids: (string | undefined)[];
  private readonly results: (EvaluationResult | undefined)[];
  private readonly times: Float64Array;
  private size = 0;
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly timer: NodeJS.Timeout;
  private readonly flagFragments = new WeakMap<ReportedFlag, string>();
  private readonly resultFragments = new WeakMap<EvaluationResult, string>();
  private readonly clock = new Clock();
  private sending: Promise<void> | undefined;
  private closed = false;
  private sent = 0;
  private dropped = 0;
  private failed = 0;

  constructor(
    private readonly setup: ReporterSetup,
    options: ReportOptions = {},
  ) {
    this.capacity = Math.max(1, Math.floor(options.maxQueue ?? 10_000));
    this.batchSize = Math.min(
      MAX_REPORTED_EVALUATIONS,
      Math.max(1, Math.floor(options.batchSize ?? MAX_REPORTED_EVALUATIONS)),
    );
    this.flags = new Array(this.capacity).fill(undefined);
    this.ids = new Array(this.capacity).fill(undefined);
    this.results = new Array(this.capacity).fill(undefined);
    this.times = new Float64Array(this.capacity);
    this.timer = setInterval(() => void this.flush(), Math.max(1, options.flushIntervalMs ?? 1000));
    this.timer.unref();
  }

  /** Queues one evaluation (the hot path); `instanceId` '' for a context without a targeting key. */
  add(flag: ReportedFlag, instanceId: string, result: EvaluationResult): void {
    const n = this.size;
    if (n === this.capacity) {
      this.dropped++;
      return;
    }
    this.flags[n] = flag;
    this.ids[n] = instanceId;
    this.results[n] = result;
    this.times[n] = Date.now();
    this.size = n + 1;
  }

  get stats(): ReportStats {
    return { sent: this.sent, dropped: this.dropped, failed: this.failed, queued: this.size };
  }

  /** Sends everything queued; resolves when the requests have ended (well or not). */
  async flush(): Promise<void> {
    while (this.sending !== undefined) await this.sending;
    if (this.size === 0) return;
    const bodies = this.drain();
    this.sending = this.send(bodies).finally(() => {
      this.sending = undefined;
    });
    await this.sending;
  }

  /** Stops the timer and sends what is queued. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }

  /** Takes everything queued out as request bodies of at most `batchSize` evaluations. */
  private drain(): { body: string; count: number }[] {
    const bodies: { body: string; count: number }[] = [];
    const n = this.size;
    const head = `{"project":${JSON.stringify(this.setup.project)},"evaluations":[`;
    for (let start = 0; start < n; start += this.batchSize) {
      const end = Math.min(n, start + this.batchSize);
      let body = head;
      for (let i = start; i < end; i++) {
        if (i > start) body += ',';
        const id = this.ids[i]!;
        // An evaluation without a targeting key is reported without an instance id.
        const instanceId = id === '' ? '' : `,"instanceId":${jsonString(id)}`;
        body += `${this.flagFragment(this.flags[i]!)}${instanceId}${this.resultFragment(this.results[i]!)}${this.clock.format(this.times[i]!)}"}`;
        this.flags[i] = undefined;
        this.ids[i] = undefined;
        this.results[i] = undefined;
      }
      bodies.push({ body: `${body}]}`, count: end - start });
    }
    this.size = 0;
    return bodies;
  }

  /** `{"flagType":…,"flagName":…` for a flag. */
  private flagFragment(flag: ReportedFlag): string {
    let fragment = this.flagFragments.get(flag);
    if (fragment === undefined) {
      fragment = `{"flagType":${JSON.stringify(flag.flagType)},"flagName":${JSON.stringify(flag.name)}`;
      if (flag.wtime !== undefined && flag.wtime !== '') fragment += `,"revision":${JSON.stringify(flag.wtime)}`;
      this.flagFragments.set(flag, fragment);
    }
    return fragment;
  }

  /** `,"value":…,"group":…,"time":"` for a result (compiled revisions share their result objects). */
  private resultFragment(result: EvaluationResult): string {
    let fragment = this.resultFragments.get(result);
    if (fragment === undefined) {
      fragment = `,"value":${JSON.stringify(result.value)},"group":${JSON.stringify(result.group)},"time":"`;
      this.resultFragments.set(result, fragment);
    }
    return fragment;
  }

  private async send(bodies: { body: string; count: number }[]): Promise<void> {
    let unreachable = false;
    for (const { body, count } of bodies) {
      if (unreachable) {
        // The service did not answer the batch before: the rest would fail the same way.
        this.failed += count;
        continue;
      }
      try {
        const response = await this.setup.fetch(this.setup.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.setup.headers },
          body,
          signal: AbortSignal.timeout(this.setup.timeoutMs),
        });
        if (response.ok) {
          await response.body?.cancel().catch(() => undefined);
          this.sent += count;
        } else {
          this.failed += count;
          this.setup.onError(await statusError(response, 'report', `reporting ${count} evaluations`));
        }
      } catch (error) {
        unreachable = true;
        this.failed += count;
        this.setup.onError(requestError(error, 'report', `reporting ${count} evaluations`, this.setup.timeoutMs));
      }
    }
  }
}

/** A JSON string literal; ids without quotes, backslashes or control characters skip JSON.stringify. */
function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/** Formats millisecond times as WTIMEs (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC), the date part once per second. */
class Clock {
  private second = -1;
  private prefix = '';

  format(ms: number): string {
    const whole = Math.floor(ms);
    const second = Math.floor(whole / 1000);
    if (second !== this.second) {
      this.second = second;
      this.prefix = formatWTime(second * 1_000_000).slice(0, 20); // `YYYY-MM-DD HH:MM:SS.`
    }
    const millis = whole - second * 1000;
    return `${this.prefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}000`;
  }
}
