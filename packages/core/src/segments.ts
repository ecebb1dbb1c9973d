import { allHold, compileCondition, parseCondition } from './conditions.js';
import { formatValue } from './errors.js';
import { type CompiledSegment, type EvaluationContext, targetingKeyOf } from './evaluation-context.js';
import { FieldChecker, type ValidationContext } from './field-checker.js';
import { checkName, checkStoredType, parseFormatVersion } from './revision-fields.js';
import type { Condition, SegmentRevision } from './types.js';

function idList(
  check: FieldChecker,
  row: Record<string, unknown>,
  field: 'Included' | 'Excluded',
): string[] | undefined {
  const raw = row[field];
  if (raw === undefined || raw === null) return undefined;
  const ids = check.list(raw, field, 'targeting keys (strings)');
  ids.forEach((id, i) => {
    if (typeof id !== 'string')
      throw check.error(`${field}[${i}]`, `must be a string targeting key (quote it), got ${formatValue(id)}`);
  });
  return ids as string[];
}

/** Checks a segment's REVISION row (or one to be written) and returns it. */
export function parseSegmentRevision(raw: unknown, context: ValidationContext = {}): SegmentRevision {
  const check = new FieldChecker(context);
  const row = check.record(raw, 'segment revision');
  const Name = checkName(check, row, context.name, 'segment');
  const type = checkStoredType(check, row, context.flagType ?? 'segment');
  if (type !== 'SEGMENT') throw check.error('Type', `must be "SEGMENT" for a segment, got ${formatValue(type)}`);
  const FormatVersion = parseFormatVersion(check, row);
  const segment: SegmentRevision = { ...row, Name, Type: 'SEGMENT', FormatVersion };
  const included = idList(check, row, 'Included');
  const excluded = idList(check, row, 'Excluded');
  if (included === undefined) delete segment.Included;
  if (excluded === undefined) delete segment.Excluded;
  if (row.Conditions === undefined || row.Conditions === null) delete segment.Conditions;
  else {
    const conditions = check.list(row.Conditions, 'Conditions', '{Attribute, Operator, Values}');
    segment.Conditions = conditions.map((item, i) => parseCondition(item, `Conditions[${i}]`, check, false));
  }
  for (const field of ['Comment', 'OwnerID', 'CreatedTime'] as const) {
    if (check.optionalString(row, field) === undefined) delete segment[field];
  }
  if (check.optionalBoolean(row, 'Archived') === undefined) delete segment.Archived;
  return segment;
}

class Segment implements CompiledSegment {
  readonly name: string;
  readonly archived: boolean;
  private readonly included: ReadonlySet<string>;
  private readonly excluded: ReadonlySet<string>;
  private readonly conditions: ((context: EvaluationContext) => boolean) | undefined;

  constructor(readonly revision: SegmentRevision) {
    this.name = revision.Name;
    this.archived = revision.Archived === true;
    this.included = new Set(revision.Included ?? []);
    this.excluded = new Set(revision.Excluded ?? []);
    const conditions: readonly Condition[] = revision.Conditions ?? [];
    const test = allHold(conditions.map(compileCondition));
    // Segment conditions never name segments, so no lookup is passed on.
    this.conditions = conditions.length === 0 ? undefined : (context) => test(context, undefined);
  }

  contains(context: EvaluationContext): boolean {
    if (this.archived) return false;
    const key = targetingKeyOf(context);
    if (key !== undefined) {
      if (this.excluded.has(key)) return false;
      if (this.included.has(key)) return true;
    }
    return this.conditions?.(context) === true;
  }
}

/**
 * Validates a segment's revision (as stored data unless told otherwise, like
 * `compileRevision`) and prepares its membership test (docs/flag-model.md#segments).
 */
export function compileSegment(
  revision: unknown,
  context: ValidationContext = {},
): CompiledSegment & { readonly revision: SegmentRevision } {
  return new Segment(parseSegmentRevision(revision, { mode: 'stored', ...context }));
}
