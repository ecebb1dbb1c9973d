import {
  answerMetadata,
  CHANGE_STREAM_EVENTS,
  type CompiledFlag,
  type CompiledSegment,
  compileFlag,
  compileSegmentFlag,
  type EvaluationContext,
  type EvaluationDetails,
  invalidRevisionMessage,
  isValueFlagType,
  MAX_INSTANCE_ID_LENGTH,
  type ProjectSnapshotFlag,
  parseFlagUpdate,
  parseProjectSnapshot,
  snapshotETag,
  snapshotFlagOf,
  snapshotVersion,
  sortSnapshotFlags,
  TargetingKeyMissingError,
} from '@vexil/core';
import type { Evaluation, EvaluationFactory, StreamEvent } from './evaluation.js';
import type { FlagAnswer, FlagAnswers } from './flag-answers.js';
import { messageOf, projectUrl, send, type Transport } from './transport.js';
import { VexilWebError } from './web-error.js';

/**
 * Answers evaluated in the browser from the project snapshot, with `@vexil/core`'s
 * evaluation (the service's own code: rules, segments, rollouts), kept current by the
 * change stream's snapshot and change events. The answers are those of the service's
 * bulk OFREP evaluation for the same context; a change of context costs no request.
 * The browser then holds every flag's rules, override lists and segment members.
 */
export const localEvaluation: EvaluationFactory = (transport) => new LocalEvaluation(transport);

interface Entry {
  readonly flag: ProjectSnapshotFlag;
  /** A flag's compiled revision, or undefined for a segment. */
  readonly compiled: CompiledFlag | undefined;
  /** A valid segment's membership test. */
  readonly segment: CompiledSegment | undefined;
}

class LocalEvaluation implements Evaluation {
  /** The snapshot held, in the protocol's order (undefined: none yet). */
  private entries: Entry[] | undefined;
  private segments = new Map<string, CompiledSegment>();
  private held: string | undefined;
  /** The context of the last answers, and whether the flags changed since. */
  private answered: string | undefined;

  constructor(private readonly transport: Transport) {}

  version(): string | undefined {
    return this.held;
  }

  streamEvent(event: StreamEvent): boolean {
    if (event.event === CHANGE_STREAM_EVENTS.snapshot) {
      const snapshot = parseProjectSnapshot(JSON.parse(event.data));
      if (snapshot.project !== this.transport.project) {
        throw new VexilWebError(
          'PARSE_ERROR',
          `the stream sent project ${snapshot.project}, not ${this.transport.project}`,
        );
      }
      this.take(snapshot.flags);
      return true;
    }
    if (event.event !== CHANGE_STREAM_EVENTS.change) return false;
    const update = parseFlagUpdate(JSON.parse(event.data));
    const entries = this.entries ?? [];
    const old = entries.find((entry) => entry.flag.flagType === update.flagType && entry.flag.name === update.name);
    if (old === undefined || update.wtime > old.flag.wtime) {
      this.take([...entries.filter((entry) => entry !== old).map((entry) => entry.flag), snapshotFlagOf(update)]);
    }
    if (this.held !== update.version) {
      throw new VexilWebError(
        'PARSE_ERROR',
        `change stream of project ${this.transport.project}: a change was missed; resynchronizing`,
      );
    }
    return true;
  }

  async answers(context: EvaluationContext, fresh: boolean, signal: AbortSignal): Promise<FlagAnswers | undefined> {
    if (fresh) await this.fetchSnapshot(signal);
    const entries = this.entries;
    if (entries === undefined) return undefined;
    const key = JSON.stringify(context);
    if (key === this.answered) return undefined;
    const answers = evaluateAll(entries, this.segments, context, this.transport.project);
    this.answered = key;
    return answers;
  }

  /** A conditional GET of the snapshot (a poll while the stream is down, or without streaming). */
  private async fetchSnapshot(signal: AbortSignal): Promise<void> {
    const what = `snapshot of project ${this.transport.project}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.held !== undefined) headers['if-none-match'] = snapshotETag(this.held);
    const response = await send(this.transport, projectUrl(this.transport, 'snapshot'), { headers }, what, signal);
    if (response.status === 304) return;
    let flags: readonly ProjectSnapshotFlag[];
    try {
      flags = parseProjectSnapshot(await response.json()).flags;
    } catch (error) {
      throw new VexilWebError('PARSE_ERROR', `${what} cannot be read (${messageOf(error)})`, 200, error);
    }
    this.take(flags);
  }

  /** Holds `flags` (a whole snapshot), compiling the revisions that are new. */
  private take(flags: readonly ProjectSnapshotFlag[]): void {
    const previous = new Map(
      (this.entries ?? []).map((entry) => [`${entry.flag.flagType}\n${entry.flag.name}`, entry]),
    );
    const entries: Entry[] = [];
    const segments = new Map<string, CompiledSegment>();
    for (const flag of sortSnapshotFlags(flags)) {
      const old = previous.get(`${flag.flagType}\n${flag.name}`);
      // A revision never changes once written: the same time is the same revision, compiled already.
      const entry = old !== undefined && old.flag.wtime === flag.wtime ? old : compileEntry(flag);
      entries.push(entry);
      if (entry.segment !== undefined) segments.set(flag.name, entry.segment);
    }
    this.entries = entries;
    this.segments = segments;
    this.held = snapshotVersion(entries.map((entry) => entry.flag));
    this.answered = undefined;
  }
}

/** A snapshot entry checked as stored data and compiled: a flag's revision, or a segment's membership test. */
function compileEntry(flag: ProjectSnapshotFlag): Entry {
  if (flag.flagType !== 'segment') return { flag, compiled: compileFlag(flag), segment: undefined };
  // A segment that does not validate is unknown: conditions naming it do not hold.
  const compiled = compileSegmentFlag(flag);
  return { flag, compiled: undefined, segment: compiled.state === 'segment' ? compiled.segment : undefined };
}

/**
 * Every flag's answer for `context`, as the service's bulk OFREP evaluation gives it
 * (packages/server/src/http/ofrep-routes.ts): archived flags and segments left out; a
 * name with flags of several types answered only with `flag_type` in the context; a
 * revision that does not validate a PARSE_ERROR; a flag that needs the missing
 * targeting key TARGETING_KEY_MISSING — and when every flag does, the context is at fault.
 */
function evaluateAll(
  entries: readonly Entry[],
  segments: ReadonlyMap<string, CompiledSegment>,
  context: EvaluationContext,
  project: string,
): FlagAnswers {
  const targetingKey = context.targetingKey as unknown;
  let attributes = context;
  if (targetingKey === null || targetingKey === '') {
    const { targetingKey: _none, ...rest } = context;
    attributes = rest;
  } else if (
    targetingKey !== undefined &&
    (typeof targetingKey !== 'string' || targetingKey.length > MAX_INSTANCE_ID_LENGTH)
  ) {
    throw new VexilWebError(
      'INVALID_CONTEXT',
      `context.targetingKey must be a string of at most ${MAX_INSTANCE_ID_LENGTH} characters`,
    );
  }
  const flagType = context.flag_type;
  if (flagType !== undefined && !isValueFlagType(flagType)) {
    throw new VexilWebError('INVALID_CONTEXT', 'context.flag_type must be "feature", "data", "number" or "json"');
  }
  const types = new Map<string, number>();
  for (const { flag } of entries)
    if (flag.flagType !== 'segment') types.set(flag.name, (types.get(flag.name) ?? 0) + 1);
  const lookup = (name: string) => segments.get(name);
  const answers = new Map<string, FlagAnswer>();
  let keyMissing = 0;
  for (const { flag, compiled } of entries) {
    if (compiled === undefined || compiled.state === 'archived') continue;
    const key = flag.name;
    if (types.get(key)! > 1) {
      if (flagType === undefined) {
        answers.set(key, {
          key,
          errorCode: 'INVALID_CONTEXT',
          errorDetails: `project ${project} has flags of several types named ${key}; add "flag_type" to the context to pick one`,
        });
        continue;
      }
      if (flag.flagType !== flagType) continue;
    }
    if (compiled.state === 'invalid') {
      answers.set(key, { key, errorCode: 'PARSE_ERROR', errorDetails: invalidRevisionMessage(flag, compiled.error) });
      continue;
    }
    let result: EvaluationDetails;
    try {
      result = compiled.compiled.evaluateContext(attributes, lookup);
    } catch (error) {
      if (!(error instanceof TargetingKeyMissingError)) throw error;
      keyMissing++;
      answers.set(key, { key, errorCode: 'TARGETING_KEY_MISSING', errorDetails: error.message });
      continue;
    }
    const metadata = answerMetadata(compiled.compiled, { project, flagType: flag.flagType, revision: flag.wtime });
    answers.set(key, {
      key,
      reason: result.reason,
      metadata,
      ...(result.value !== null && result.reason !== 'DISABLED' ? { value: result.value } : {}),
      ...(result.variant !== undefined ? { variant: result.variant } : {}),
    });
  }
  if (keyMissing > 0 && keyMissing === answers.size) {
    throw new VexilWebError(
      'TARGETING_KEY_MISSING',
      'context.targetingKey is required: a percentage decides every flag of the project for this context',
    );
  }
  return answers;
}
