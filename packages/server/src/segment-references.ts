import { compileSegmentFlag, InvalidInputError, type Revision, SEGMENT_OPERATORS } from '@vexil/core';

/** A segment named by a rule's condition, with the field that names it. */
export interface SegmentReference {
  segment: string;
  /** `Rules[0].Conditions[1].Values[0]`: where the revision names it. */
  field: string;
}

/**
 * Whether a project's segment can be referred to: `active` when it exists and its newest
 * revision validates and is not an archive; `invalid` when that revision does not
 * validate (rules treat it as unknown, docs/flag-model.md).
 */
export type SegmentState = 'active' | 'archived' | 'invalid' | 'unknown';

/**
 * The state of segment `name` from what the store holds: whether it has a FLAG row, and
 * its newest REVISION row's fields (undefined without one: it has no members yet).
 */
export function segmentStateOf(name: string, hasFlagRow: boolean, newest: unknown): SegmentState {
  if (!hasFlagRow) return 'unknown';
  if (newest === undefined) return 'active';
  if ((newest as { Archived?: unknown }).Archived === true) return 'archived';
  return compileSegmentFlag({ flagType: 'segment', name, revision: newest }).state === 'segment' ? 'active' : 'invalid';
}

/**
 * The segments a validated revision's rules name, in order, each with its field.
 * Core's compiled revision lists the names (`segmentNames`); writers and `vexil
 * doctor` need the field too, to say which condition to fix.
 */
export function segmentReferences(revision: Revision): SegmentReference[] {
  const references: SegmentReference[] = [];
  (revision.Rules ?? []).forEach((rule, r) => {
    rule.Conditions.forEach((condition, c) => {
      if (!(SEGMENT_OPERATORS as readonly string[]).includes(condition.Operator)) return;
      condition.Values.forEach((value, v) => {
        if (typeof value === 'string') {
          references.push({ segment: value, field: `Rules[${r}].Conditions[${c}].Values[${v}]` });
        }
      });
    });
  });
  return references;
}

/**
 * Refuses a revision to be written whose rules name a segment the project does not
 * have, or one that is archived (it has no members: a rule naming it is a mistake),
 * naming the segment and the field. `state` says what the project holds.
 */
export async function refuseUnusableSegments(
  project: string,
  references: readonly SegmentReference[],
  state: (segment: string) => Promise<SegmentState>,
): Promise<void> {
  for (const { segment, field } of references) {
    const found = await state(segment);
    if (found === 'unknown') {
      throw new InvalidInputError(
        `${field} names segment ${JSON.stringify(segment)}, which project ${project} does not have`,
        { field, hint: `create it first: vexil segment create ${segment} -p ${project}` },
      );
    }
    if (found === 'invalid') {
      throw new InvalidInputError(
        `${field} names segment ${JSON.stringify(segment)}, whose newest revision in project ${project} does not validate (rules treat it as unknown)`,
        {
          field,
          hint: `fix it first (vexil doctor -p ${project} says what is wrong): vexil segment update ${segment} -p ${project}`,
        },
      );
    }
    if (found === 'archived') {
      throw new InvalidInputError(
        `${field} names segment ${JSON.stringify(segment)}, which is archived in project ${project} (an archived segment has no members)`,
        { field, hint: `restore it first: vexil segment rollback ${segment} -p ${project}` },
      );
    }
  }
}
