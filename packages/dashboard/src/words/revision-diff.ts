import type { Revision, TargetingRule } from '@vexil/core';
import diff from 'microdiff';
import { describeRevision, describeRule } from './describe-revision.js';
import { formatValue } from './format-value.js';

/** One readable difference between two revisions. */
export interface DiffLine {
  /** Where, in words: "treatment 1: percentage", "rule 2: condition 1", "metadata: owner". */
  where: string;
  /** The field path as the API names it: `Treatments[0].PercentRollout`. */
  field: string;
  kind: 'added' | 'removed' | 'changed';
  before?: string;
  after?: string;
  /** For id lists, what was added and removed instead of both whole lists. */
  summary?: string;
}

export interface RevisionDiff {
  /** Both revisions in words (describeRevision). */
  before: string;
  after: string;
  lines: DiffLine[];
}

/**
 * Fields that record who made a revision and when: every revision has its own, so they
 * are not a difference in what the flag does.
 */
const BOOKKEEPING = new Set([
  'CreatedTime',
  'OwnerID',
  'OnBehalfOf',
  'ActorAddress',
  'TokenID',
  'RollbackOf',
  // Set by Vexil's writers from the fields used: it changes nothing by itself.
  'FormatVersion',
]);

/** Lists compared as sets of ids, one line each: "added A1, B2; removed C3". */
const ID_LISTS = new Set(['OverrideList', 'Included', 'Excluded']);

type Path = (string | number)[];

/**
 * What changed from `older` to `newer`, field by field, in words. Id lists are compared
 * as sets and a condition is shown whole, so a long override list or a reordered
 * condition reads as one line rather than one per index.
 */
export function diffRevisions(older: Revision, newer: Revision): RevisionDiff {
  const a = strip(older);
  const b = strip(newer);
  const seen = new Set<string>();
  const lines: DiffLine[] = [];
  for (const change of diff(a, b)) {
    const path = grouped(change.path);
    const field = fieldOf(path);
    if (seen.has(field)) continue;
    seen.add(field);
    const before = valueAt(a, path);
    const after = valueAt(b, path);
    const kind = before === undefined ? 'added' : after === undefined ? 'removed' : 'changed';
    const line: DiffLine = { where: whereOf(path), field, kind };
    const last = path[path.length - 1];
    if (typeof last === 'string' && ID_LISTS.has(last) && Array.isArray(before) && Array.isArray(after)) {
      line.summary = listChange(before, after);
    } else {
      if (before !== undefined) line.before = show(before, path);
      if (after !== undefined) line.after = show(after, path);
    }
    lines.push(line);
  }
  return { before: describeRevision(older), after: describeRevision(newer), lines };
}

function strip(revision: Revision): Record<string, unknown> {
  return Object.fromEntries(Object.entries(revision).filter(([key]) => !BOOKKEEPING.has(key)));
}

/** The path of the unit a change is shown as: an id list or a condition whole, a value whole. */
function grouped(path: Path): Path {
  for (let i = 0; i < path.length; i++) {
    const part = path[i];
    if (typeof part === 'string' && ID_LISTS.has(part)) return path.slice(0, i + 1);
    if (part === 'Conditions' && typeof path[i + 1] === 'number') return path.slice(0, i + 2);
    if (part === 'Value' || part === 'ControlValue' || part === 'Values') return path.slice(0, i + 1);
    if (part === 'Variants' || part === 'Metadata') return path.slice(0, i + 2);
  }
  return path;
}

function fieldOf(path: Path): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

const WORDS: Record<string, string> = {
  ControlValue: 'otherwise (control value)',
  PercentRollout: 'percentage',
  OverrideList: 'overrides',
  Value: 'value',
  Percent: 'percentage',
  Disabled: 'disabled',
  Archived: 'archived',
  Comment: 'comment',
  HashAlgorithm: 'hash',
  Salt: 'salt',
  FormatVersion: 'format version',
  Included: 'included ids',
  Rules: 'rules',
  Excluded: 'excluded ids',
};

const ITEMS: Record<string, string> = {
  Treatments: 'treatment',
  Rules: 'rule',
  Conditions: 'condition',
  Split: 'split bucket',
};

function whereOf(path: Path): string {
  const words: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    const next = path[i + 1];
    if (typeof part === 'string' && ITEMS[part] !== undefined && typeof next === 'number') {
      words.push(`${ITEMS[part]} ${next + 1}`);
      i++;
    } else if ((part === 'Variants' || part === 'Metadata') && next !== undefined) {
      words.push(`${part === 'Variants' ? 'variant' : 'metadata'} ${String(next)}`);
      i++;
    } else {
      words.push(typeof part === 'string' ? (WORDS[part] ?? part) : String(part));
    }
  }
  return words.join(': ');
}

function valueAt(root: unknown, path: Path): unknown {
  let at: unknown = root;
  for (const part of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[part];
  }
  return at;
}

function isRule(value: unknown): value is TargetingRule {
  return value !== null && typeof value === 'object' && Array.isArray((value as TargetingRule).Conditions);
}

function show(value: unknown, path: Path): string {
  // Rules added or removed whole read as the flag page says them.
  if (path[0] === 'Rules' && path.length <= 2) {
    if (Array.isArray(value) && value.every(isRule)) return value.map((rule) => describeRule(rule)).join('; ');
    if (isRule(value)) return describeRule(value);
  }
  if (value !== null && typeof value === 'object' && 'Attribute' in value && 'Operator' in value) {
    const c = value as { Attribute: string; Operator: string; Values: unknown };
    return `${c.Attribute} ${c.Operator} ${JSON.stringify(c.Values)}`;
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null (default)';
  if (typeof value === 'object') return JSON.stringify(value);
  return formatValue(value);
}

function listChange(before: unknown[], after: unknown[]): string {
  const added = after.filter((id) => !before.includes(id)).map(String);
  const removed = before.filter((id) => !after.includes(id)).map(String);
  const parts: string[] = [];
  if (added.length > 0) parts.push(`added ${added.join(', ')}`);
  if (removed.length > 0) parts.push(`removed ${removed.join(', ')}`);
  return parts.length === 0 ? 'same ids, reordered' : parts.join('; ');
}
