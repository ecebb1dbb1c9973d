import { readFileSync } from 'node:fs';
import {
  type EvaluationContext,
  type FlagRef,
  type FlagType,
  type ResultValue,
  requiredFormatVersion,
  SEGMENT_OPERATORS,
  type ValueFlagType,
} from '@vexil/core';
import type { StoreEngine } from '@vexil/store';
import { expect } from 'vitest';

/**
 * The independent reference evaluator's cases (packages/core/test/fixtures/
 * flag-model-vectors.json, computed from docs/flag-model.md by tools/reference-evaluator)
 * laid out as store rows, so the service's and the SDK's evaluation paths are checked
 * against them the way core is. Core runs every case; these paths run a deterministic
 * sample of each category, with every kind of error the vectors name.
 */

export type VectorAnswer =
  | { value: ResultValue; group: string; reason: string; variant: string | null }
  | { error: 'TARGETING_KEY_MISSING' | 'FLAG_NOT_FOUND' };

export interface VectorCase {
  id: string;
  category: string;
  about: string;
  /** The flag's newest revision as stored. */
  revision: Record<string, unknown>;
  /** Segment name → its newest revision as stored; a name not here is an unknown segment. */
  segments: Record<string, Record<string, unknown>>;
  context: EvaluationContext;
  expected: VectorAnswer;
}

interface VectorFile {
  counts: Record<string, number>;
  cases: VectorCase[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../core/test/fixtures/flag-model-vectors.json', import.meta.url), 'utf8'),
) as VectorFile;

/** Every category of the file, in its order. */
export const VECTOR_CATEGORIES: readonly string[] = Object.keys(vectors.counts);

/** Every error the vectors expect. */
export const VECTOR_ERRORS = ['TARGETING_KEY_MISSING', 'FLAG_NOT_FOUND'] as const;

export function expectedError(c: VectorCase): (typeof VECTOR_ERRORS)[number] | undefined {
  return 'error' in c.expected ? c.expected.error : undefined;
}

/** Evenly spaced items of a list (all of them when it has `count` or fewer). */
function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

/**
 * A deterministic sample of the vectors: `perCategory` evenly spaced cases of each
 * category, and `perError` of each error kind within each category that has it, in
 * the file's order.
 */
export function vectorSample(perCategory = 24, perError = 4): VectorCase[] {
  const chosen = new Set<VectorCase>();
  for (const category of VECTOR_CATEGORIES) {
    const cases = vectors.cases.filter((c) => c.category === category);
    for (const c of spread(cases, perCategory)) chosen.add(c);
    for (const error of VECTOR_ERRORS) {
      for (const c of spread(
        cases.filter((c) => expectedError(c) === error),
        perError,
      ))
        chosen.add(c);
    }
  }
  return vectors.cases.filter((c) => chosen.has(c));
}

/** Where a case's flag is served: its project, type and name. */
export interface PlacedCase {
  readonly vector: VectorCase;
  readonly flag: FlagRef & { readonly flagType: ValueFlagType };
}

/** One project of the layout: its flags' and segments' newest revisions (null: a segment that must stay unknown). */
interface ProjectLayout {
  readonly name: string;
  readonly flags: Map<string, { flagType: ValueFlagType; json: string; revision: Record<string, unknown> }>;
  readonly segments: Map<string, { json: string; revision: Record<string, unknown> } | null>;
}

/** The segment names a revision's rules refer to. */
function segmentNamesIn(revision: Record<string, unknown>): string[] {
  const names: string[] = [];
  const rules = Array.isArray(revision.Rules) ? (revision.Rules as { Conditions?: unknown }[]) : [];
  for (const rule of rules) {
    const conditions = Array.isArray(rule?.Conditions) ? (rule.Conditions as Record<string, unknown>[]) : [];
    for (const condition of conditions) {
      if ((SEGMENT_OPERATORS as readonly unknown[]).includes(condition.Operator) && Array.isArray(condition.Values)) {
        for (const value of condition.Values) if (typeof value === 'string') names.push(value);
      }
    }
  }
  return names;
}

function fits(project: ProjectLayout, c: VectorCase): boolean {
  const held = project.flags.get(String(c.revision.Name));
  if (held !== undefined && held.json !== JSON.stringify(c.revision)) return false;
  for (const [name, revision] of Object.entries(c.segments)) {
    const segment = project.segments.get(name);
    if (segment !== undefined && segment?.json !== JSON.stringify(revision)) return false;
  }
  for (const name of segmentNamesIn(c.revision)) {
    if (!Object.hasOwn(c.segments, name) && project.segments.get(name) != null) return false;
  }
  return true;
}

function place(project: ProjectLayout, c: VectorCase): PlacedCase {
  const name = String(c.revision.Name);
  const flagType = String(c.revision.Type).toLowerCase() as ValueFlagType;
  project.flags.set(name, { flagType, json: JSON.stringify(c.revision), revision: c.revision });
  for (const [segment, revision] of Object.entries(c.segments)) {
    project.segments.set(segment, { json: JSON.stringify(revision), revision });
  }
  for (const segment of segmentNamesIn(c.revision)) {
    // Unknown to this case: no other case may bring it into the project.
    if (!project.segments.has(segment)) project.segments.set(segment, null);
  }
  return { vector: c, flag: { project: project.name, flagType, name } };
}

export interface VectorLayout {
  readonly cases: readonly PlacedCase[];
  readonly projects: readonly string[];
  /** Writes every project's flags and segments (a FLAG row and the case's revision, as stored) to the store. */
  seed(store: StoreEngine): Promise<void>;
}

/**
 * Lays the cases out in as few projects as they fit: within a project each flag name
 * has one revision and each segment one revision, and a segment unknown to a case is
 * in no project that case is in.
 */
export function layOut(cases: readonly VectorCase[], prefix = 'vectors'): VectorLayout {
  const projects: ProjectLayout[] = [];
  const placed = cases.map((c) => {
    let project = projects.find((p) => fits(p, c));
    if (project === undefined) {
      project = { name: `${prefix}-${projects.length + 1}`, flags: new Map(), segments: new Map() };
      projects.push(project);
    }
    return place(project, c);
  });
  return {
    cases: placed,
    projects: projects.map((p) => p.name),
    async seed(store) {
      for (const project of projects) {
        const rows = [];
        const entries: [FlagType, string, Record<string, unknown>][] = [
          ...[...project.flags].map(([name, flag]): [FlagType, string, Record<string, unknown>] => [
            flag.flagType,
            name,
            flag.revision,
          ]),
          ...[...project.segments].flatMap(([name, segment]): [FlagType, string, Record<string, unknown>][] =>
            segment === null ? [] : [['segment', name, segment.revision]],
          ),
        ];
        for (const [flagType, name, revision] of entries) {
          const ref: FlagRef = { project: project.name, flagType, name };
          rows.push(
            { kind: 'FLAG' as const, ref, fields: { Name: name, Type: String(revision.Type) } },
            { kind: 'REVISION' as const, ref, fields: structuredClone(revision) },
          );
        }
        await store.append(rows);
      }
    },
  };
}

/**
 * The `metadata` of a case's answer (docs/flag-model.md#where-it-shows): a revision in the
 * runbook format answers which project, type and revision (`revision`: its WTIME) answered,
 * as before the flag model; one of the flag model its own `Metadata`, `{}` without it.
 */
export function expectedMetadata({ vector, flag }: PlacedCase, revision: unknown): Record<string, unknown> {
  if (requiredFormatVersion(vector.revision) === 1) return { project: flag.project, flagType: flag.flagType, revision };
  return (vector.revision.Metadata as Record<string, unknown> | undefined) ?? {};
}

/** What OFREP's single evaluation answers for a case (docs/flag-model.md#where-it-shows). */
export function ofrepExpected(placed: PlacedCase): { status: number; body: Record<string, unknown> } {
  const { vector, flag } = placed;
  const expected = vector.expected;
  if ('error' in expected) {
    return {
      status: expected.error === 'FLAG_NOT_FOUND' ? 404 : 400,
      body: { key: flag.name, errorCode: expected.error, errorDetails: expect.any(String) },
    };
  }
  const body: Record<string, unknown> = {
    key: flag.name,
    reason: expected.reason,
    metadata: expectedMetadata(placed, expect.stringMatching(/^\d{4}-\d{2}-\d{2} /)),
  };
  // No value for "no value" and for a disabled flag: the caller's default.
  if (expected.value !== null && expected.reason !== 'DISABLED') body.value = expected.value;
  if (expected.variant !== null) body.variant = expected.variant;
  return { status: 200, body };
}
