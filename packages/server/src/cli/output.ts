import type { Revision, Treatment } from '@vexil/core';
import type { DoctorReport } from '../doctor.js';
import type { EvaluationView, FlagView, RevisionView } from '../views.js';

/** Human-readable output; `--json` prints the views themselves instead. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function value(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function treatmentSummary(t: Treatment): string {
  const overrides =
    t.OverrideList.length === 0 ? '' : ` (+${t.OverrideList.length} override${t.OverrideList.length === 1 ? '' : 's'})`;
  return `${t.PercentRollout}% → ${value(t.Value)}${overrides}`;
}

export function rolloutSummary(revision: Revision): string {
  if (revision.Archived === true) return 'archived';
  const treatments = Array.isArray(revision.Treatments) ? revision.Treatments.map(treatmentSummary) : [];
  return [...treatments, `else ${value(revision.ControlValue)}`].join(', ');
}

export function formatFlags(flags: readonly FlagView[], withRevision: boolean): string {
  if (flags.length === 0) return 'No flags.';
  const header = withRevision ? ['TYPE', 'NAME', 'REVISION', 'ROLLOUT'] : ['TYPE', 'NAME', 'UPDATED', 'DESCRIPTION'];
  const rows = flags.map((f) =>
    withRevision
      ? [
          f.flagType,
          f.name,
          f.latestRevision?.wtime ?? '-',
          f.latestRevision ? rolloutSummary(f.latestRevision.revision) : 'no revision',
        ]
      : [f.flagType, f.name, f.wtime, f.metadata.Description ?? ''],
  );
  return formatTable(header, rows);
}

export function formatFlag(flag: FlagView): string {
  const lines = [
    `${flag.project}/${flag.flagType}/${flag.name}${flag.archived ? ' (archived)' : ''}`,
    `  description: ${flag.metadata.Description ?? ''}`,
    `  updated:     ${flag.wtime}`,
  ];
  if (flag.latestRevision) {
    lines.push(
      `  revision:    ${flag.latestRevision.wtime}`,
      `  rollout:     ${rolloutSummary(flag.latestRevision.revision)}`,
    );
  } else {
    lines.push('  revision:    none yet');
  }
  return lines.join('\n');
}

export function formatRevision(view: RevisionView): string {
  const r = view.revision;
  const lines = [`${view.project}/${view.flagType}/${view.name} revision ${view.wtime}`];
  lines.push(`  rollout:  ${rolloutSummary(r)}`);
  if (Array.isArray(r.Treatments)) {
    r.Treatments.forEach((t, i) => {
      if (t.OverrideList.length > 0)
        lines.push(`  overrides[${i + 1}]: ${t.OverrideList.join(', ')} → ${value(t.Value)}`);
    });
  }
  lines.push(
    `  hash:     ${r.HashAlgorithm ?? 'md5'}${r.Salt === undefined ? ' (no salt)' : ` salted with ${JSON.stringify(r.Salt)}`}`,
  );
  if (r.Comment !== undefined) lines.push(`  comment:  ${r.Comment}`);
  if (r.OwnerID !== undefined) lines.push(`  owner:    ${r.OwnerID}`);
  if (r.RollbackOf !== undefined) lines.push(`  rollback of ${r.RollbackOf}`);
  return lines.join('\n');
}

export function formatHistory(views: readonly RevisionView[]): string {
  if (views.length === 0) return 'No revisions.';
  return formatTable(
    ['REVISION', 'OWNER', 'ROLLOUT', 'COMMENT'],
    views.map((v) => [v.wtime, v.revision.OwnerID ?? '', rolloutSummary(v.revision), v.revision.Comment ?? '']),
  );
}

export function formatEvaluation(e: EvaluationView): string {
  return `${e.name} for ${e.instanceId}: ${value(e.value)} (${e.group}, revision ${e.revision})`;
}

export function formatDoctor(report: DoctorReport): string {
  const summary = `checked ${report.rowsChecked} rows of project ${report.project}: ${
    report.problems.length === 0 ? 'all valid' : `${report.problems.length} do not validate`
  }`;
  if (report.problems.length === 0) return summary;
  return `${summary}\n${formatTable(
    ['KEY', 'ERROR', 'FIELD', 'MESSAGE'],
    report.problems.map((p) => [p.key, `${p.status} ${p.error}`, p.field ?? '', p.message]),
  )}`;
}
