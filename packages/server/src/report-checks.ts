import {
  type CompiledRevision,
  compileFlag,
  type FlagRef,
  parseWTime,
  type ResultValue,
  type ValueFlagType,
} from '@vexil/core';
import type { EvaluationLogEntry, FlagStore } from '@vexil/store';
import { LRUCache } from 'lru-cache';
import type { SnapshotEntry } from './flag-cache.js';
import type { ProjectSnapshots } from './project-snapshots.js';
import { refLabel } from './views.js';
import { withTimeout } from './with-timeout.js';

/** Why a reported evaluation was refused: the answer's `refused` counts and the metric's `outcome` label. */
export const REPORT_REFUSAL_REASONS = [
  /** The project has no flag of that type and name. */
  'unknown-flag',
  /** The named revision is not one of the flag's newest revisions (or none of its revisions validates). */
  'unknown-revision',
  /** The revision cannot answer with that group. */
  'impossible-group',
  /** The revision cannot answer that value with that group. */
  'impossible-value',
  /** The time is outside the window (VEXIL_REPORT_MAX_AGE_SECONDS back, VEXIL_REPORT_MAX_AHEAD_SECONDS ahead). */
  'time-outside-window',
] as const;

export type ReportRefusalReason = (typeof REPORT_REFUSAL_REASONS)[number];

/**
 * How many of a flag's newest revisions a report may name: a client evaluates the
 * revision its snapshot holds, which is the newest or was shortly before.
 */
export const REPORTABLE_REVISIONS = 20;

/** One reported evaluation as parsed: its log entry and the revision it names, if any. */
export interface ReportedEvaluation {
  readonly entry: EvaluationLogEntry & { flagType: ValueFlagType };
  /** The WTIME of the revision evaluated; the flag's newest revision when left out. */
  readonly revision: string | undefined;
}

/** One refused evaluation, for the answer (the first few only). */
export interface ReportRefusal {
  readonly index: number;
  readonly reason: ReportRefusalReason;
  readonly message: string;
}

export interface ReportVerdict {
  readonly accepted: EvaluationLogEntry[];
  readonly refused: Partial<Record<ReportRefusalReason, number>>;
  /** The first refusals, each with the index of its evaluation and what was wrong. */
  readonly refusals: ReportRefusal[];
  readonly refusedCount: number;
}

export interface ReportCheckOptions {
  /** Oldest accepted time, in seconds before now. */
  maxAgeSeconds: number;
  /** Latest accepted time, in seconds after now. */
  maxAheadSeconds: number;
  storeTimeoutMs: number;
  now?: () => number;
}

/** Refusals described one by one in an answer, at most. */
const REFUSALS_SHOWN = 10;
/** Flags whose newest revisions are kept compiled for reports naming an older one. */
const HISTORY_CACHE_SIZE = 1000;

/**
 * Decides which reported evaluations may enter the evaluation log (the log is the
 * record of who saw what, and a report is a client's claim): only for a flag the
 * project has, with a group and value that the revision evaluated (the one named, or
 * the newest) can answer, at a time within a window of now. Everything else is
 * refused and counted by reason. The newest revisions come from the project
 * snapshot (no store read); a named older revision is looked up among the flag's
 * REPORTABLE_REVISIONS newest, read once per flag and newest revision.
 */
export class ReportChecker {
  private readonly history = new LRUCache<string, Map<string, CompiledRevision | undefined>>({
    max: HISTORY_CACHE_SIZE,
  });
  private readonly now: () => number;

  constructor(
    private readonly store: FlagStore,
    private readonly snapshots: ProjectSnapshots,
    private readonly options: ReportCheckOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async check(project: string, reports: readonly ReportedEvaluation[]): Promise<ReportVerdict> {
    const accepted: EvaluationLogEntry[] = [];
    const refused: Partial<Record<ReportRefusalReason, number>> = {};
    const refusals: ReportRefusal[] = [];
    let refusedCount = 0;
    if (reports.length === 0) return { accepted, refused, refusals, refusedCount };

    const view = await this.snapshots.read(project);
    const flags = new Map<string, SnapshotEntry>();
    for (const entry of view.entries) flags.set(`${entry.flag.flagType}\u0000${entry.flag.name}`, entry);
    const nowMicros = this.now() * 1000;
    const earliest = nowMicros - this.options.maxAgeSeconds * 1e6;
    const latest = nowMicros + this.options.maxAheadSeconds * 1e6;

    const refuse = (index: number, reason: ReportRefusalReason, message: string) => {
      refusedCount++;
      refused[reason] = (refused[reason] ?? 0) + 1;
      if (refusals.length < REFUSALS_SHOWN) refusals.push({ index, reason, message });
    };

    for (const [index, { entry, revision }] of reports.entries()) {
      const micros = parseWTime(entry.time);
      if (micros < earliest || micros > latest) {
        refuse(
          index,
          'time-outside-window',
          `time ${entry.time} is more than ${micros < earliest ? `${this.options.maxAgeSeconds} s before` : `${this.options.maxAheadSeconds} s after`} the service's clock`,
        );
        continue;
      }
      const ref: FlagRef = { project, flagType: entry.flagType, name: entry.flagName };
      const flag = flags.get(`${entry.flagType}\u0000${entry.flagName}`);
      if (flag === undefined || flag.compiled.state === 'segment') {
        refuse(index, 'unknown-flag', `no ${entry.flagType} flag ${entry.flagName} in project ${project}`);
        continue;
      }
      const compiled = await this.revisionOf(ref, flag, revision);
      if (compiled === undefined) {
        refuse(
          index,
          'unknown-revision',
          revision === undefined
            ? `the newest revision of ${refLabel(ref)} does not validate`
            : `revision ${revision} is not one of the ${REPORTABLE_REVISIONS} newest of ${refLabel(ref)}`,
        );
        continue;
      }
      if (!compiled.groups.has(entry.group)) {
        refuse(index, 'impossible-group', `${refLabel(ref)} has no rollout group ${entry.group}`);
        continue;
      }
      if (!compiled.canAnswer(entry.group, entry.value)) {
        refuse(
          index,
          'impossible-value',
          `${refLabel(ref)} does not answer ${JSON.stringify(entry.value as ResultValue)} in group ${entry.group}`,
        );
        continue;
      }
      accepted.push(entry);
    }
    return { accepted, refused, refusals, refusedCount };
  }

  /** The compiled revision a report names (the newest when it names none), or undefined when there is none. */
  private async revisionOf(
    ref: FlagRef,
    newest: SnapshotEntry,
    wtime: string | undefined,
  ): Promise<CompiledRevision | undefined> {
    if (wtime === undefined || wtime === newest.wtime) {
      // An archived newest revision keeps what it could answer before: a client may report what it just evaluated.
      const compiled = newest.compiled;
      return compiled.state === 'compiled' || compiled.state === 'archived' ? compiled.compiled : undefined;
    }
    if (wtime > newest.wtime) return undefined;
    const key = `${newest.key}@${newest.wtime}`;
    let revisions = this.history.get(key);
    if (revisions === undefined) {
      const rows = await withTimeout(
        this.store.history('REVISION', ref, { limit: REPORTABLE_REVISIONS }),
        this.options.storeTimeoutMs,
        () => `reading the revisions of ${refLabel(ref)}`,
      );
      revisions = new Map();
      for (const row of rows) {
        const compiled = compileFlag({ name: ref.name, flagType: ref.flagType, revision: row.fields });
        revisions.set(
          row.wtime,
          compiled.state === 'compiled' || compiled.state === 'archived' ? compiled.compiled : undefined,
        );
      }
      this.history.set(key, revisions);
    }
    return revisions.get(wtime);
  }
}
