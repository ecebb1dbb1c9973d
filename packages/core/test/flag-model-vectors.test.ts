import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type CompiledSegment,
  compileFlag,
  compileSegment,
  type EvaluationContext,
  evaluateRevision,
  type FlagType,
  VexilError,
} from '../src/index.js';

// Cases computed by tools/reference-evaluator (Python, written from docs/flag-model.md
// alone). A case core disagrees with is decided from the spec's text, never by editing
// or regenerating the file to match core.

type Answer =
  | { value: unknown; group: string; reason: string; variant: string | null }
  | { error: string }
  | { invalid: string };

interface VectorCase {
  id: string;
  category: string;
  about: string;
  revision: Record<string, unknown>;
  segments: Record<string, Record<string, unknown>>;
  context: EvaluationContext;
  expected: Answer;
}

const vectors = JSON.parse(readFileSync(new URL('./fixtures/flag-model-vectors.json', import.meta.url), 'utf8')) as {
  generator: string;
  seed: number;
  counts: Record<string, number>;
  cases: VectorCase[];
};

function compiledFor(revision: Record<string, unknown>) {
  return compileFlag({
    flagType: String(revision.Type).toLowerCase() as FlagType,
    name: String(revision.Name),
    revision: structuredClone(revision),
  });
}

/** What core answers for a case, in the vectors' shape. */
function coreAnswer(c: VectorCase): Answer {
  const flag = compiledFor(c.revision);
  if (flag.state === 'archived') return { error: 'FLAG_NOT_FOUND' };
  if (flag.state === 'invalid') return { invalid: flag.error.message };
  const segments = new Map<string, CompiledSegment>(
    Object.entries(c.segments).map(([name, revision]) => [name, compileSegment(structuredClone(revision))]),
  );
  try {
    const result = flag.compiled.evaluateContext(structuredClone(c.context), (name) => segments.get(name));
    return { value: result.value, group: result.group, reason: result.reason, variant: result.variant ?? null };
  } catch (error) {
    if (error instanceof VexilError) return { error: error.code };
    throw error;
  }
}

function disagreements(cases: readonly VectorCase[]) {
  const found = [];
  for (const c of cases) {
    const core = coreAnswer(c);
    if (!isDeepStrictEqual(core, c.expected)) found.push({ id: c.id, about: c.about, expected: c.expected, core });
  }
  // All of them are counted; the first few are shown whole.
  return { count: found.length, first: found.slice(0, 10) };
}

const categories = Object.keys(vectors.counts);

describe('flag-model vectors from the independent reference evaluator', () => {
  it('has every category of cases it expects to check', () => {
    expect(vectors.generator).toMatch(/tools\/reference-evaluator/);
    expect(categories).toEqual(
      expect.arrayContaining([
        'runbook',
        'operator',
        'semver',
        'date',
        'split',
        'precedence',
        'missing-key',
        'segment',
        'archived',
        'static-default',
        'value-type',
        'variant',
        'fuzz',
      ]),
    );
    for (const category of categories) {
      expect(vectors.cases.filter((c) => c.category === category)).toHaveLength(vectors.counts[category] ?? -1);
    }
    expect(vectors.cases.length).toBeGreaterThanOrEqual(5000);
  });

  it.each(categories)('core agrees with every %s case', (category) => {
    const cases = vectors.cases.filter((c) => c.category === category);
    expect(disagreements(cases)).toEqual({ count: 0, first: [] });
  });

  it('runbook-format cases give the same value and group through the runbook entry points', () => {
    const runbook = vectors.cases.filter((c) => c.category === 'runbook');
    const found = [];
    for (const c of runbook) {
      const expected = c.expected as { value: unknown; group: string };
      const key = String(c.context.targetingKey);
      const flag = compiledFor(c.revision);
      const compiled = flag.state === 'compiled' ? flag.compiled.evaluate(key) : flag.state;
      const direct = evaluateRevision(structuredClone(c.revision), key);
      const want = { value: expected.value, group: expected.group };
      if (!isDeepStrictEqual(compiled, want) || !isDeepStrictEqual(direct, want))
        found.push({ id: c.id, want, compiled, direct });
    }
    expect(runbook.length).toBeGreaterThanOrEqual(500);
    expect({ count: found.length, first: found.slice(0, 10) }).toEqual({ count: 0, first: [] });
  });

  it('answers the same when one compiled revision is asked many contexts', () => {
    const byRevision = new Map<string, VectorCase[]>();
    for (const c of vectors.cases.filter((c) => c.category === 'split' || c.category === 'fuzz')) {
      const key = JSON.stringify([c.revision, c.segments]);
      byRevision.set(key, [...(byRevision.get(key) ?? []), c]);
    }
    const reused = [...byRevision.values()].filter((group) => group.length > 1);
    expect(reused.length).toBeGreaterThan(100);
    const found = [];
    for (const group of reused) {
      const flag = compiledFor(group[0]!.revision);
      if (flag.state !== 'compiled') continue;
      const segments = new Map<string, CompiledSegment>(
        Object.entries(group[0]!.segments).map(([name, revision]) => [name, compileSegment(revision)]),
      );
      for (const c of group) {
        let core: Answer;
        try {
          const result = flag.compiled.evaluateContext(c.context, (name) => segments.get(name));
          core = { value: result.value, group: result.group, reason: result.reason, variant: result.variant ?? null };
        } catch (error) {
          core = error instanceof VexilError ? { error: error.code } : { invalid: String(error) };
        }
        if (!isDeepStrictEqual(core, c.expected)) found.push({ id: c.id, expected: c.expected, core });
      }
    }
    expect({ count: found.length, first: found.slice(0, 10) }).toEqual({ count: 0, first: [] });
  });
});
