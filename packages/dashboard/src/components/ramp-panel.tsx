import { useState } from 'preact/hooks';
import { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { Ramp, Schedule } from '../api/types.js';
import { describePlan, describeRampState } from '../words/describe-change.js';
import { formatPercent } from '../words/format-value.js';
import { Dialog } from './dialog.js';
import { ErrorNote } from './error-note.js';
import { Field, type FormErrors } from './field.js';

/**
 * A feature flag's progressive ramp: its state (current step, the next step's time) with
 * pause / resume / abort, or a form to start one. Where the project requires approvals,
 * starting one proposes it.
 */
export function RampPanel(props: {
  project: string;
  name: string;
  ramp: Ramp | undefined;
  schedules: Schedule[];
  canWrite: boolean;
  proposeOnly: boolean;
  onChanged: (done: string) => void;
  onApprovalsRequired: () => void;
}) {
  const { project, name, ramp } = props;
  const [steps, setSteps] = useState('1, 5, 25, 100');
  const [every, setEvery] = useState('6');
  const [value, setValue] = useState(true);
  const [formError, setFormError] = useState<ApiError | undefined>();
  const [error, setError] = useState<unknown>();
  const [confirmAbort, setConfirmAbort] = useState(false);
  const active = ramp !== undefined && (ramp.status === 'running' || ramp.status === 'paused');
  const next = ramp?.nextSchedule === undefined ? undefined : props.schedules.find((s) => s.id === ramp.nextSchedule);
  const errors: FormErrors = { error: formError, fields: ['steps', 'everyHours', 'value'] };

  const act = async (what: 'pause' | 'resume' | 'abort') => {
    setError(undefined);
    try {
      await api.rampAction(project, ramp!.id, what);
      setConfirmAbort(false);
      props.onChanged(what === 'pause' ? 'Ramp paused.' : what === 'resume' ? 'Ramp resumed.' : 'Ramp aborted.');
    } catch (e) {
      setError(e);
    }
  };

  const start = async () => {
    setFormError(undefined);
    setError(undefined);
    // Numbers as typed go to the API, which names the step it refuses (steps[1] …).
    const plan = {
      steps: steps
        .split(/[\s,→>]+/)
        .filter((s) => s !== '')
        .map((s) => Number(s.replace('%', ''))),
      everyHours: Number(every),
      value,
    };
    try {
      if (props.proposeOnly) {
        await api.propose(project, 'feature', name, { kind: 'ramp', ...plan });
        props.onChanged('Ramp proposed: it starts once another owner approves it (Proposals).');
      } else {
        await api.startRamp(project, name, plan);
        props.onChanged('Ramp started: its first step is in force.');
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 403 && /requires approvals/.test(e.message)) {
        props.onApprovalsRequired();
        setError(e);
      } else if (e instanceof ApiError && e.status === 400) setFormError(e);
      else setError(e);
    }
  };

  return (
    <section class="panel" aria-labelledby="ramp-title">
      <h2 id="ramp-title">Ramp</h2>
      <ErrorNote error={error} />
      {ramp !== undefined && (
        <div data-testid="ramp-status">
          <p class="words">
            {describePlan(ramp)} — <strong>{describeRampState(ramp)}</strong>
          </p>
          <dl class="facts">
            <dt>Step</dt>
            <dd>
              {ramp.applied.length} of {ramp.steps.length}
              {ramp.applied.length > 0 && <> ({formatPercent(ramp.applied.at(-1)!.percent)})</>}
            </dd>
            {ramp.status === 'running' && next !== undefined && (
              <>
                <dt>Next step</dt>
                <dd>
                  {formatPercent(ramp.steps[ramp.nextStep ?? 0] ?? 100)} at{' '}
                  <time dateTime={new Date(next.atMs).toISOString()}>{new Date(next.atMs).toLocaleString()}</time>
                </dd>
              </>
            )}
            <dt>Started by</dt>
            <dd>{ramp.createdBy.owner}</dd>
          </dl>
          {props.canWrite && active && (
            <div class="actions">
              {ramp.status === 'running' ? (
                <button type="button" class="secondary" onClick={() => void act('pause')}>
                  Pause ramp
                </button>
              ) : (
                <button type="button" class="secondary" onClick={() => void act('resume')}>
                  Resume ramp
                </button>
              )}
              <button type="button" class="danger" onClick={() => setConfirmAbort(true)}>
                Abort ramp…
              </button>
            </div>
          )}
        </div>
      )}
      {props.canWrite && !active && (
        <form
          class="form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void start();
          }}
        >
          {formError !== undefined && formError.field === undefined && <ErrorNote error={formError} />}
          <div class="row">
            <Field label="Steps (percent, in order)" field="steps" errors={errors}>
              {(attrs) => (
                <input
                  {...attrs}
                  value={steps}
                  onInput={(e) => setSteps((e.currentTarget as HTMLInputElement).value)}
                />
              )}
            </Field>
            <Field label="Hours between steps" field="everyHours" errors={errors}>
              {(attrs) => (
                <input
                  {...attrs}
                  inputMode="decimal"
                  value={every}
                  onInput={(e) => setEvery((e.currentTarget as HTMLInputElement).value)}
                />
              )}
            </Field>
            <Field label="Value rolled out" field="value" errors={errors}>
              {(attrs) => (
                <select
                  {...attrs}
                  value={String(value)}
                  onChange={(e) => setValue((e.currentTarget as HTMLSelectElement).value === 'true')}
                >
                  <option value="true">true</option>
                  <option value="false">false</option>
                </select>
              )}
            </Field>
          </div>
          <p class="small">
            Each step sets the flag's percentage (its first treatment); the first applies at once. Abort rolls back to
            the revision in force before the ramp.
          </p>
          <button type="submit">{props.proposeOnly ? 'Propose ramp (needs approval)' : 'Start ramp'}</button>
        </form>
      )}
      {confirmAbort && ramp !== undefined && (
        <Dialog title={`Abort the ramp of ${name}?`} onClose={() => setConfirmAbort(false)}>
          <p>
            The next step is cancelled and the flag is <strong>rolled back</strong> to the revision in force before the
            ramp ({ramp.baseWtime ?? 'none'}): everyone the ramp reached gets the old value again.
          </p>
          <ErrorNote error={error} />
          <div class="actions">
            <button type="button" class="danger" onClick={() => void act('abort')}>
              Abort and roll back
            </button>
            <button type="button" class="secondary" onClick={() => setConfirmAbort(false)}>
              Keep the ramp
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}
