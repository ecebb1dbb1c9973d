import type { ValueFlagType } from '@vexil/core';
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { Activity } from '../api/types.js';
import { usePoll } from '../hooks.js';
import { ActivityChart, groupsOf } from './activity-chart.js';
import { ErrorNote } from './error-note.js';
import { TimeAgo } from './time-ago.js';

/** How often the open page asks again: live enough for an incident, light on the server. */
export const REFRESH_MS = 3000;

const pct = (fraction: number) => `${(fraction * 100).toFixed(1)} %`;

/** The flag's evaluations from the log, refreshed while the page is open. */
export function Monitoring(props: { project: string; flagType: ValueFlagType; name: string }) {
  const { project, flagType, name } = props;
  const [minutes, setMinutes] = useState(60);
  const [activity, setActivity] = useState<Activity | undefined>();
  const [error, setError] = useState<unknown>();
  usePoll(
    () => {
      api.activity(project, flagType, name, minutes).then(
        (a) => {
          setActivity(a);
          setError(undefined);
        },
        (e: unknown) => setError(e),
      );
    },
    REFRESH_MS,
    [project, flagType, name, minutes],
  );
  const total =
    activity?.perMinute.reduce((sum, m) => sum + Object.values(m.groups).reduce((a, b) => a + b, 0), 0) ?? 0;
  const groups = activity === undefined ? [] : groupsOf(activity);

  return (
    <section aria-labelledby="monitoring-title" class="panel">
      <div class="title-row">
        <h2 id="monitoring-title">Monitoring</h2>
        <label>
          <span>Last</span>
          <select
            value={String(minutes)}
            onChange={(e) => setMinutes(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {[15, 60, 180, 720, 1440].map((m) => (
              <option key={m} value={m}>
                {m < 60 ? `${m} minutes` : `${m / 60} h`}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNote error={error} />
      {activity === undefined ? (
        error === undefined && <p class="loading">Loading the evaluation log…</p>
      ) : (
        <>
          <p class="stats">
            <span data-testid="evaluation-total">
              <strong>{total}</strong> evaluations
            </span>
            {' · '}
            <span>
              cache hits {activity.cacheHitRate === null ? '—' : <strong>{pct(activity.cacheHitRate)}</strong>}
            </span>
          </p>
          <ActivityChart activity={activity} />
          <details>
            <summary>Evaluations per minute as a table</summary>
            <table class="compact">
              <thead>
                <tr>
                  <th scope="col">Minute</th>
                  {groups.map((g) => (
                    <th scope="col" key={g}>
                      {g}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {activity.perMinute
                  .filter((m) => Object.keys(m.groups).length > 0)
                  .map((m) => (
                    <tr key={m.minute}>
                      <th scope="row">{m.minute.slice(11, 16)}</th>
                      {groups.map((g) => (
                        <td key={g}>{m.groups[g] ?? 0}</td>
                      ))}
                    </tr>
                  ))}
              </tbody>
            </table>
          </details>
          <table class="compact shares">
            <caption>Observed share beside the configured percentage</caption>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Observed</th>
                <th scope="col">Configured</th>
              </tr>
            </thead>
            <tbody>
              {activity.shares.map((s) => (
                <tr key={s.group}>
                  <th scope="row">{s.group}</th>
                  <td>{pct(s.observed)}</td>
                  <td>{s.configured === null ? '—' : `${s.configured} %`}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <table class="compact recent">
            <caption>Recent evaluations</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Request</th>
                <th scope="col">Instance id</th>
                <th scope="col">Value</th>
                <th scope="col">Group</th>
              </tr>
            </thead>
            <tbody>
              {activity.recent.map((r, i) => (
                <tr key={i}>
                  <td>
                    <TimeAgo time={r.time} />
                  </td>
                  <td class="mono">{r.requestId ?? '—'}</td>
                  <td class="mono">{r.instanceId ?? '—'}</td>
                  <td class="mono">{JSON.stringify(r.value)}</td>
                  <td>{r.group ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
