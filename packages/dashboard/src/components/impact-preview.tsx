import type { Impact } from '../api/types.js';

/** What a draft would change for the instance ids seen lately, by from → to group. */
export function ImpactPreview({ impact }: { impact: Impact }) {
  const share = impact.instances === 0 ? 0 : impact.changed / impact.instances;
  return (
    <section class="impact" aria-labelledby="impact-title">
      <h3 id="impact-title">Change impact</h3>
      {impact.instances === 0 ? (
        <p>No instance id was evaluated since {impact.since}: nothing to compare.</p>
      ) : (
        <p>
          <strong>{impact.changed}</strong> of {impact.instances} instance ids seen since {impact.since} would get
          another value ({(share * 100).toFixed(1)} %); {impact.unchanged} keep theirs.
          {impact.truncated && ' Only the newest log rows were read: the figures are a sample.'}
        </p>
      )}
      {impact.transitions.length > 0 && (
        <table class="compact">
          <caption>Changes by rollout group</caption>
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col">Instance ids</th>
            </tr>
          </thead>
          <tbody>
            {impact.transitions.map((t) => (
              <tr key={`${t.from}→${t.to}`}>
                <td>{t.from}</td>
                <td>{t.to}</td>
                <td>{t.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
