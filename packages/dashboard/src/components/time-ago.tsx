/** A stored time (UTC `YYYY-MM-DD HH:MM:SS.ffffff` or ISO) as a <time>, with how long ago. */
export function TimeAgo({ time }: { time: string | null | undefined }) {
  return timeAgo(time);
}

/** TimeAgo as a plain call, for long lists (no component instance per row). */
export function timeAgo(time: string | null | undefined) {
  if (time === null || time === undefined || time === '') return <span class="muted">never</span>;
  const iso = /^\d{4}-\d{2}-\d{2} /.test(time) ? `${time.replace(' ', 'T').slice(0, 23)}Z` : time;
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return <span>{time}</span>;
  return (
    <time dateTime={when.toISOString()} title={when.toISOString()}>
      {ago(Date.now() - when.getTime())}
    </time>
  );
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}
