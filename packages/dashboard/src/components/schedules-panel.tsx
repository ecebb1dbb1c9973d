import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { Schedule } from '../api/types.js';
import { describeSchedule } from '../words/describe-change.js';
import { ErrorNote } from './error-note.js';

/** A flag's pending scheduled revisions (a ramp's next step too), each cancellable by a writer. */
export function SchedulesPanel(props: {
  project: string;
  schedules: Schedule[];
  canWrite: boolean;
  onChanged: () => void;
}) {
  const [error, setError] = useState<unknown>();
  const pending = props.schedules.filter((s) => s.status === 'pending');
  const cancel = async (id: string) => {
    setError(undefined);
    try {
      await api.cancelSchedule(props.project, id);
      props.onChanged();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="panel" aria-labelledby="schedules-title">
      <h2 id="schedules-title">Scheduled</h2>
      <ErrorNote error={error} />
      {pending.length === 0 ? (
        <p class="muted">Nothing scheduled. “Schedule this revision” in the revision editor sets a time.</p>
      ) : (
        <table class="history" data-testid="pending-schedules">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What changes</th>
              <th scope="col">By</th>
              {props.canWrite && <th scope="col">Action</th>}
            </tr>
          </thead>
          <tbody>
            {pending.map((s) => (
              <tr key={s.id} data-schedule={s.id}>
                <td class="mono">
                  <time dateTime={new Date(s.atMs).toISOString()}>{s.at}</time>
                  <div class="small muted">{new Date(s.atMs).toLocaleString()} here</div>
                </td>
                <td>{describeSchedule(s)}</td>
                <td>
                  {s.createdBy.owner}
                  {s.proposal !== undefined && <div class="small muted">approved proposal {s.proposal}</div>}
                </td>
                {props.canWrite && (
                  <td>
                    <button type="button" class="secondary" onClick={() => void cancel(s.id)}>
                      Cancel {s.rampStep === undefined ? 'schedule' : 'step'} {s.id}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
