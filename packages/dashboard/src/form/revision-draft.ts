import type { Condition, Revision, SegmentRevision, ValueFlagType } from '@vexil/core';

/**
 * The editing forms' state: what the person typed, kept as text. Turning it into the
 * API's body never refuses anything: text that is not of the flag's type is sent as it
 * is, so the API's own validation answers, with its message and the field it names
 * (the forms validate exactly as the API does because the API does it).
 */

export interface ValueDraft {
  /** `default`: null, "no value: the caller's default". */
  kind: 'value' | 'default';
  text: string;
}

export interface TreatmentDraft {
  percent: string;
  value: ValueDraft;
  /** Instance ids, separated by commas, spaces or new lines. */
  overrides: string;
}

export interface ConditionDraft {
  attribute: string;
  operator: string;
  /** Comma-separated; a number, true/false or "quoted" entry is sent as that JSON value. */
  values: string;
}

export interface SplitDraft {
  percent: string;
  value: ValueDraft;
}

export interface RuleDraft {
  conditions: ConditionDraft[];
  mode: 'value' | 'split';
  value: ValueDraft;
  split: SplitDraft[];
}

export interface NamedDraft {
  name: string;
  value: ValueDraft;
}

export interface MetadataDraft {
  key: string;
  value: string;
}

export interface RevisionDraft {
  control: ValueDraft;
  treatments: TreatmentDraft[];
  rules: RuleDraft[];
  variants: NamedDraft[];
  metadata: MetadataDraft[];
  disabled: boolean;
  comment: string;
  /** Kept from the revision edited, so a new revision buckets ids as the old one did. */
  hashAlgorithm?: string;
  /** `null`: the bare id is hashed (runbook rows); undefined: the server's default (the flag name). */
  salt?: string | null;
}

export interface SegmentDraft {
  included: string;
  excluded: string;
  conditions: ConditionDraft[];
  comment: string;
}

export type RevisionBody = Record<string, unknown>;

// ---------------------------------------------------------------- text → API body

export function parseValue(draft: ValueDraft, flagType: ValueFlagType): unknown {
  if (draft.kind === 'default') return null;
  const text = draft.text;
  switch (flagType) {
    case 'feature':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'number':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text;
  }
}

function parsePercent(text: string): unknown {
  return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
}

export function parseIds(text: string): string[] {
  return text.split(/[\s,]+/).filter((id) => id !== '');
}

const JSON_TOKEN = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|"([^"\\]|\\.)*")$/;

/** A condition's values: `US, CA` → ["US", "CA"]; `10` → [10]; `"10"` → ["10"]. */
export function parseConditionValues(text: string): (string | number | boolean)[] {
  return text
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '')
    .map((token) => (JSON_TOKEN.test(token) ? (JSON.parse(token) as string | number | boolean) : token));
}

function toCondition(draft: ConditionDraft): Condition {
  return { Attribute: draft.attribute.trim(), Operator: draft.operator, Values: parseConditionValues(draft.values) };
}

export function toRevisionBody(draft: RevisionDraft, flagType: ValueFlagType): RevisionBody {
  const body: RevisionBody = {
    ControlValue: parseValue(draft.control, flagType),
    Treatments: draft.treatments.map((t) => ({
      OverrideList: parseIds(t.overrides),
      PercentRollout: parsePercent(t.percent),
      Value: parseValue(t.value, flagType),
    })),
  };
  if (draft.rules.length > 0) {
    body.Rules = draft.rules.map((rule) => {
      const conditions = rule.conditions.map(toCondition);
      if (rule.mode === 'split') {
        return {
          Conditions: conditions,
          Split: rule.split.map((b) => ({ Percent: parsePercent(b.percent), Value: parseValue(b.value, flagType) })),
        };
      }
      return { Conditions: conditions, Value: parseValue(rule.value, flagType) };
    });
  }
  if (draft.variants.length > 0) {
    body.Variants = Object.fromEntries(draft.variants.map((v) => [v.name.trim(), parseValue(v.value, flagType)]));
  }
  const metadata = draft.metadata.filter((m) => m.key.trim() !== '' || m.value !== '');
  if (metadata.length > 0) body.Metadata = Object.fromEntries(metadata.map((m) => [m.key.trim(), m.value]));
  if (draft.disabled) body.Disabled = true;
  if (draft.comment.trim() !== '') body.Comment = draft.comment.trim();
  if (draft.hashAlgorithm !== undefined) body.HashAlgorithm = draft.hashAlgorithm;
  if (draft.salt !== undefined) body.Salt = draft.salt;
  return body;
}

export function toSegmentBody(draft: SegmentDraft): RevisionBody {
  const body: RevisionBody = {
    Included: parseIds(draft.included),
    Excluded: parseIds(draft.excluded),
    Conditions: draft.conditions.map(toCondition),
  };
  if (draft.comment.trim() !== '') body.Comment = draft.comment.trim();
  return body;
}

// ---------------------------------------------------------------- revision → text

export function valueDraft(value: unknown, flagType: ValueFlagType): ValueDraft {
  if (value === null || value === undefined) return { kind: 'default', text: flagType === 'feature' ? 'true' : '' };
  if (typeof value === 'string' && flagType !== 'json') return { kind: 'value', text: value };
  return { kind: 'value', text: JSON.stringify(value) };
}

function conditionValueText(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  return JSON_TOKEN.test(value) || value.includes(',') || value !== value.trim() ? JSON.stringify(value) : value;
}

export function conditionDraft(condition: Condition): ConditionDraft {
  return {
    attribute: condition.Attribute,
    operator: condition.Operator,
    values: (condition.Values ?? []).map(conditionValueText).join(', '),
  };
}

export function emptyDraft(flagType: ValueFlagType): RevisionDraft {
  const off: ValueDraft =
    flagType === 'feature'
      ? { kind: 'value', text: 'false' }
      : flagType === 'json'
        ? { kind: 'value', text: '{}' }
        : { kind: 'value', text: flagType === 'number' ? '0' : '' };
  return { control: off, treatments: [], rules: [], variants: [], metadata: [], disabled: false, comment: '' };
}

export function draftOf(revision: Revision | undefined, flagType: ValueFlagType): RevisionDraft {
  if (revision === undefined) return emptyDraft(flagType);
  const draft: RevisionDraft = {
    control: valueDraft(revision.ControlValue, flagType),
    treatments: (revision.Treatments ?? []).map((t) => ({
      percent: String(t.PercentRollout),
      value: valueDraft(t.Value, flagType),
      overrides: (t.OverrideList ?? []).join(', '),
    })),
    rules: (revision.Rules ?? []).map((rule) => ({
      conditions: (rule.Conditions ?? []).map(conditionDraft),
      mode: Array.isArray(rule.Split) ? 'split' : 'value',
      value: valueDraft(rule.Value, flagType),
      split: (rule.Split ?? []).map((b) => ({ percent: String(b.Percent), value: valueDraft(b.Value, flagType) })),
    })),
    variants: Object.entries(revision.Variants ?? {}).map(([name, value]) => ({
      name,
      value: valueDraft(value, flagType),
    })),
    metadata: Object.entries(revision.Metadata ?? {}).map(([key, value]) => ({ key, value: String(value) })),
    disabled: revision.Disabled === true,
    comment: '',
  };
  if (revision.HashAlgorithm !== undefined) draft.hashAlgorithm = revision.HashAlgorithm;
  // A stored revision without Salt hashes the bare id: say so, or the new one would hash Name:id.
  draft.salt = revision.Salt ?? null;
  return draft;
}

export function segmentDraftOf(revision: SegmentRevision | undefined): SegmentDraft {
  return {
    included: (revision?.Included ?? []).join(', '),
    excluded: (revision?.Excluded ?? []).join(', '),
    conditions: (revision?.Conditions ?? []).map(conditionDraft),
    comment: '',
  };
}
