import type { ValueFlagType } from '@vexil/core';

/**
 * What to do about a stale flag, in one sentence with the commands to run: shared by
 * the admin API's stale hints (and so the dashboard) and `vexil stale`.
 */
export interface StaleCleanup {
  /** `make-permanent`: one value is all it serves, keep that value in code; `remove`: nobody reads it; `decide`: past its expiry with several values. */
  action: 'make-permanent' | 'remove' | 'decide';
  /** The steps in words, naming the commands. */
  message: string;
}

export interface StaleFacts {
  project: string;
  flagType: ValueFlagType;
  name: string;
  /** The one value the revision in force can answer, when it can answer only one (null: the caller's default). */
  oneValue?: { value: unknown } | undefined;
  /** Not evaluated for the days asked (or never). */
  notEvaluated: boolean;
  expired: boolean;
}

export function staleCleanup(facts: StaleFacts): StaleCleanup {
  const { project, name } = facts;
  const refs = `vexil refs . -p ${project}`;
  const archive = `vexil archive ${name} -p ${project}`;
  if (facts.oneValue !== undefined) {
    const { value } = facts.oneValue;
    const keep =
      value === null
        ? 'every caller gets its own default: keep the defaults your code passes'
        : `make ${JSON.stringify(value)} permanent: replace the reads of ${name} in code with it`;
    return {
      action: 'make-permanent',
      message: `${keep} (${refs} finds them), ship that, then archive the flag (${archive})`,
    };
  }
  if (facts.notEvaluated) {
    return {
      action: 'remove',
      message: `nobody evaluates it: remove what is left of ${name} in code (${refs}), then archive it (${archive})`,
    };
  }
  return {
    action: 'decide',
    message: `past its expiry and still serving several values: choose the value to keep, make it permanent in code (${refs}) and archive the flag (${archive}); or, if it must stay, move its date (vexil metadata ${name} -p ${project} --set expires=YYYY-MM-DD)`,
  };
}
