import { answerableValues, formatWTime, isVexilError, parseRevision, type Revision } from '@vexil/core';
import type { EvaluationLogSink, FlagStore } from '@vexil/store';
import { expiredFlagOf } from './expired-flags.js';
import { type FlagSummary, summarizeFlags } from './flag-summaries.js';
import { type StaleCleanup, staleCleanup } from './stale-cleanup.js';

/**
 * Stale-flag hints, in one module for the admin API (GET …/stale, the dashboard) and
 * the CLI (`vexil stale`, issue 18): flags that are probably done and could go.
 */

export const STALE_DEFAULT_DAYS = 30;
export const STALE_MAX_DAYS = 3650;

export type StaleKind = 'not-evaluated' | 'one-value' | 'expired';

export interface StaleHint {
  kind: StaleKind;
  /** The hint in words, for lists and the dashboard. */
  message: string;
}

export interface StaleFlag {
  flagType: FlagSummary['flagType'];
  name: string;
  /** The hints' messages, in the order of `hints`. */
  reasons: string[];
  hints: StaleHint[];
  lastEvaluated: string | null;
  /** The revision in force's time (UTC `YYYY-MM-DD HH:MM:SS.ffffff`), when it has one. */
  revision?: string;
  /** Metadata.owner, when set: who to ask. */
  owner?: string;
  /** What to do about it (stale-cleanup.ts). */
  cleanup: StaleCleanup;
}

const DAY_MICROS = 86_400_000_000;

function parsed(summary: FlagSummary): Revision | undefined {
  if (summary.latestRevision === undefined || summary.problem !== undefined) return undefined;
  try {
    return parseRevision(summary.latestRevision.revision, {
      mode: 'stored',
      flagType: summary.flagType,
      name: summary.name,
    });
  } catch (error) {
    if (isVexilError(error)) return undefined;
    throw error;
  }
}

/**
 * The flags of a project (archived ones are gone already) with a reason to think they
 * are stale, by type then name: not evaluated for `days` days (never, or its newest
 * log row older); one value for everybody for `days` days (the revision in force,
 * unchanged that long, can answer only one value: a kill switch, a 100 % rollout, no
 * targeting); past its `Metadata.expires` day (expired-flags.ts, as vexil doctor says).
 * From one scan of the project and one question to the log. Undefined when the project
 * has no rows.
 */
export async function findStaleFlags(
  store: FlagStore & EvaluationLogSink,
  project: string,
  options: { days?: number; now?: number } = {},
): Promise<StaleFlag[] | undefined> {
  const days = options.days ?? STALE_DEFAULT_DAYS;
  const now = options.now ?? Date.now();
  const summaries = await summarizeFlags(store, project);
  if (summaries === undefined) return undefined;
  const cutoff = formatWTime(now * 1000 - days * DAY_MICROS);
  const stale: StaleFlag[] = [];
  for (const summary of summaries) {
    if (summary.archived) continue;
    const hints: StaleHint[] = [];
    if (summary.lastEvaluated === null) {
      hints.push({ kind: 'not-evaluated', message: 'never evaluated (nothing in the evaluation log)' });
    } else if (summary.lastEvaluated < cutoff) {
      hints.push({
        kind: 'not-evaluated',
        message: `not evaluated for ${days} days (last ${summary.lastEvaluated} UTC)`,
      });
    }
    const revision = parsed(summary);
    const latest = summary.latestRevision;
    let oneValue: { value: unknown } | undefined;
    if (revision !== undefined && latest !== undefined && latest.wtime < cutoff) {
      const values = answerableValues(revision);
      if (values.length === 1) {
        oneValue = { value: values[0] };
        hints.push({
          kind: 'one-value',
          message: `one value for everybody for ${days} days: ${JSON.stringify(values[0])}${revision.Disabled === true ? ' (disabled)' : ''}, since ${latest.wtime} UTC`,
        });
      }
    }
    if (latest !== undefined) {
      const expired = expiredFlagOf(
        {
          kind: 'REVISION',
          ref: { project, flagType: summary.flagType, name: summary.name },
          wtime: latest.wtime,
          key: '',
          fields: latest.revision,
        },
        new Date(now),
      );
      if (expired !== undefined) {
        hints.push({
          kind: 'expired',
          message: `past its expiry date ${expired.expires}${expired.ticket === undefined ? '' : ` (ticket ${expired.ticket})`}`,
        });
      }
    }
    if (hints.length === 0) continue;
    const flag: StaleFlag = {
      flagType: summary.flagType,
      name: summary.name,
      reasons: hints.map((hint) => hint.message),
      hints,
      lastEvaluated: summary.lastEvaluated,
      cleanup: staleCleanup({
        project,
        flagType: summary.flagType,
        name: summary.name,
        oneValue,
        notEvaluated: hints.some((hint) => hint.kind === 'not-evaluated'),
        expired: hints.some((hint) => hint.kind === 'expired'),
      }),
    };
    if (latest !== undefined) flag.revision = latest.wtime;
    const owner = summary.metadata.owner;
    if (owner !== undefined) flag.owner = String(owner);
    stale.push(flag);
  }
  return stale;
}
