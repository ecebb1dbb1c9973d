import type { Revision, SegmentRevision, Treatment } from '@vexil/core';
import type { DoctorReport } from '../doctor.js';
import type {
  ContextEvaluationView,
  EvaluationView,
  FlagView,
  RevisionView,
  SegmentRevisionView,
  SegmentView,
} from '../views.js';
import { formatConditions, formatRule, type VariantValues } from './rule-syntax.js';

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

/** A value as people read it: strings quoted, JSON as JSON, null as "default" (the caller's). */
function value(v: unknown): string {
  if (v === null) return 'default';
  if (typeof v === 'object') return JSON.stringify(v);
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function treatmentSummary(t: Treatment): string {
  const overrides =
    t.OverrideList.length === 0 ? '' : ` (+${t.OverrideList.length} override${t.OverrideList.length === 1 ? '' : 's'})`;
  return `${t.PercentRollout}% → ${value(t.Value)}${overrides}`;
}

function isSegment(revision: Revision | SegmentRevision): revision is SegmentRevision {
  return revision.Type === 'SEGMENT';
}

/** A segment's audience in a line: its ids and conditions. */
function segmentSummary(segment: SegmentRevision): string {
  if (segment.Archived === true) return 'archived';
  const parts: string[] = [];
  const ids = (list: unknown) => (Array.isArray(list) ? list.length : 0);
  if (ids(segment.Included) > 0) parts.push(`${ids(segment.Included)} included`);
  if (ids(segment.Excluded) > 0) parts.push(`${ids(segment.Excluded)} excluded`);
  if (Array.isArray(segment.Conditions) && segment.Conditions.length > 0) {
    parts.push(`when ${formatConditions(segment.Conditions)}`);
  }
  return parts.length === 0 ? 'nobody' : parts.join(', ');
}

export function rolloutSummary(revision: Revision | SegmentRevision): string {
  if (isSegment(revision)) return segmentSummary(revision);
  if (revision.Archived === true) return 'archived';
  const treatments = Array.isArray(revision.Treatments) ? revision.Treatments.map(treatmentSummary) : [];
  const rules =
    Array.isArray(revision.Rules) && revision.Rules.length > 0
      ? [`${revision.Rules.length} rule${revision.Rules.length === 1 ? '' : 's'}`]
      : [];
  const summary = [...rules, ...treatments, `else ${value(revision.ControlValue)}`].join(', ');
  return revision.Disabled === true ? `disabled (answers ${value(revision.ControlValue)}); ${summary}` : summary;
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

export function formatRevision(view: RevisionView | SegmentRevisionView): string {
  const r = view.revision;
  const lines = [`${view.project}/${view.flagType}/${view.name} revision ${view.wtime}`];
  if (isSegment(r)) {
    lines.push(`  audience: ${segmentSummary(r)}`);
    if (Array.isArray(r.Included) && r.Included.length > 0) lines.push(`  included: ${r.Included.join(', ')}`);
    if (Array.isArray(r.Excluded) && r.Excluded.length > 0) lines.push(`  excluded: ${r.Excluded.join(', ')}`);
  } else {
    lines.push(`  rollout:  ${rolloutSummary(r)}`);
    const variants: VariantValues = typeof r.Variants === 'object' && r.Variants !== null ? r.Variants : {};
    if (Object.keys(variants).length > 0) {
      lines.push(
        `  variants: ${Object.entries(variants)
          .map(([name, v]) => `${name}=${value(v)}`)
          .join(', ')}`,
      );
    }
    if (Array.isArray(r.Rules)) {
      r.Rules.forEach((rule, i) => {
        lines.push(`  rule ${i + 1}:   ${formatRule(rule, variants)}`);
      });
    }
    if (Array.isArray(r.Treatments)) {
      r.Treatments.forEach((t, i) => {
        if (t.OverrideList.length > 0)
          lines.push(`  overrides[${i + 1}]: ${t.OverrideList.join(', ')} → ${value(t.Value)}`);
      });
    }
    lines.push(
      `  hash:     ${r.HashAlgorithm ?? 'md5'}${r.Salt === undefined ? ' (no salt)' : ` salted with ${JSON.stringify(r.Salt)}`}`,
    );
    if (r.Disabled === true) lines.push('  disabled: yes (kill switch)');
    if (typeof r.Metadata === 'object' && r.Metadata !== null && Object.keys(r.Metadata).length > 0) {
      lines.push(
        `  metadata: ${Object.entries(r.Metadata)
          .map(([key, v]) => `${key}=${String(v)}`)
          .join(', ')}`,
      );
    }
  }
  if (r.Comment !== undefined) lines.push(`  comment:  ${r.Comment}`);
  if (r.OwnerID !== undefined) lines.push(`  owner:    ${r.OwnerID}`);
  if (r.RollbackOf !== undefined) lines.push(`  rollback of ${r.RollbackOf}`);
  return lines.join('\n');
}

export function formatHistory(views: readonly (RevisionView | SegmentRevisionView)[]): string {
  if (views.length === 0) return 'No revisions.';
  return formatTable(
    ['REVISION', 'OWNER', 'ROLLOUT', 'COMMENT'],
    views.map((v) => [v.wtime, v.revision.OwnerID ?? '', rolloutSummary(v.revision), v.revision.Comment ?? '']),
  );
}

export function formatEvaluation(e: EvaluationView): string {
  return `${e.name} for ${e.instanceId}: ${value(e.value)} (${e.group}, revision ${e.revision})`;
}

export function formatContextEvaluation(e: ContextEvaluationView): string {
  const variant = e.variant === undefined || e.variant === e.group ? '' : `, variant ${e.variant}`;
  return `${e.name} for ${JSON.stringify(e.context)}: ${value(e.value)} (${e.group}, ${e.reason}${variant}, revision ${e.revision})`;
}

export function formatSegments(segments: readonly SegmentView[]): string {
  if (segments.length === 0) return 'No segments.';
  return formatTable(
    ['NAME', 'REVISION', 'AUDIENCE', 'DESCRIPTION'],
    segments.map((s) => [
      s.name,
      s.latestRevision?.wtime ?? '-',
      s.latestRevision ? segmentSummary(s.latestRevision.revision) : 'no revision',
      s.description ?? '',
    ]),
  );
}

export function formatSegment(segment: SegmentView): string {
  const lines = [
    `${segment.project}/segment/${segment.name}${segment.archived ? ' (archived)' : ''}`,
    `  description: ${segment.description ?? ''}`,
    `  updated:     ${segment.wtime}`,
  ];
  const latest = segment.latestRevision;
  if (latest) {
    const r = latest.revision;
    lines.push(`  revision:    ${latest.wtime}`, `  audience:    ${segmentSummary(r)}`);
    if (Array.isArray(r.Included) && r.Included.length > 0) lines.push(`  included:    ${r.Included.join(', ')}`);
    if (Array.isArray(r.Excluded) && r.Excluded.length > 0) lines.push(`  excluded:    ${r.Excluded.join(', ')}`);
  } else {
    lines.push('  revision:    none yet');
  }
  return lines.join('\n');
}

export function formatDoctor(report: DoctorReport): string {
  const summary = `checked ${report.rowsChecked} rows of project ${report.project}: ${
    report.problems.length === 0 ? 'all valid' : `${report.problems.length} do not validate`
  }`;
  const sections = [summary];
  if (report.problems.length > 0) {
    sections.push(
      formatTable(
        ['KEY', 'ERROR', 'FIELD', 'MESSAGE'],
        report.problems.map((p) => [p.key, `${p.status} ${p.error}`, p.field ?? '', p.message]),
      ),
    );
  }
  const expired = report.expired ?? [];
  if (expired.length > 0) {
    sections.push(
      `${expired.length} flag${expired.length === 1 ? ' is' : 's are'} past ${expired.length === 1 ? 'its' : 'their'} expiry day (Metadata.expires): remove ${expired.length === 1 ? 'it' : 'them'}, or set a later day`,
      formatTable(
        ['TYPE', 'NAME', 'EXPIRES', 'OWNER', 'TICKET'],
        expired.map((e) => [e.flagType, e.name, e.expires, e.owner ?? '', e.ticket ?? '']),
      ),
    );
  }
  const references = report.segmentReferences ?? [];
  if (references.length > 0) {
    sections.push(
      `${references.length} rule condition${references.length === 1 ? ' names a segment' : 's name segments'} that cannot match anybody:`,
      formatTable(
        ['TYPE', 'NAME', 'SEGMENT', 'STATE', 'FIELD'],
        references.map((r) => [r.flagType, r.name, r.segment, r.state, r.field]),
      ),
    );
  }
  return sections.join('\n');
}
