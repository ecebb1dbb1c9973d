import type { RevisionDiff } from '../words/revision-diff.js';

/** A revision diff: both revisions in words, then each changed field, before → after. */
export function DiffView({ diff, from, to }: { diff: RevisionDiff; from: string; to: string }) {
  return (
    <div class="diff">
      <dl>
        <dt>{from}</dt>
        <dd>{diff.before}</dd>
        <dt>{to}</dt>
        <dd>{diff.after}</dd>
      </dl>
      {diff.lines.length === 0 ? (
        <p>No difference in what the flag does.</p>
      ) : (
        <table class="compact">
          <caption>Changed fields</caption>
          <thead>
            <tr>
              <th scope="col">Where</th>
              <th scope="col">{from}</th>
              <th scope="col">{to}</th>
            </tr>
          </thead>
          <tbody>
            {diff.lines.map((line) => (
              <tr key={line.field} class={line.kind}>
                <th scope="row" title={line.field}>
                  {line.where}
                </th>
                {line.summary !== undefined ? (
                  <td colSpan={2}>{line.summary}</td>
                ) : (
                  <>
                    <td class="mono before">{line.before ?? <span class="muted">(none)</span>}</td>
                    <td class="mono after">{line.after ?? <span class="muted">(none)</span>}</td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
