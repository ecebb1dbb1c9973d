import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@vexil/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedError,
  layOut,
  ofrepExpected,
  type PlacedCase,
  VECTOR_CATEGORIES,
  VECTOR_ERRORS,
  vectorSample,
} from './support/flag-model-vectors.js';
import { startVexil, type VexilProcess } from './support/vexil-process.js';

// The reference evaluator's cases through a real `vexil serve` on a SQLite file: each
// case's revision and segments are store rows as any tool writes them, and the
// answers come over HTTP from OFREP (single and bulk) and /get-feature-flag.

const sample = vectorSample();
const layout = layOut(sample);
const dir = mkdtempSync(join(tmpdir(), 'vexil-vectors-'));
let service: VexilProcess;

beforeAll(async () => {
  const file = join(dir, 'vectors.db');
  const store = new SqliteStore(file);
  await layout.seed(store);
  await store.close();
  service = await startVexil({ VEXIL_STORE: `sqlite:${file}` });
}, 30_000);

afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `check` for every case, a few at a time, and returns the cases it found at fault. */
async function disagreements<T>(
  cases: readonly PlacedCase[],
  check: (placed: PlacedCase) => Promise<T | undefined>,
): Promise<{ count: number; first: T[] }> {
  const found: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const fault = await check(cases[next++]!);
      if (fault !== undefined) found.push(fault);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { count: found.length, first: found.slice(0, 5) };
}

async function post(path: string, context: Record<string, unknown>) {
  const response = await fetch(`${service.url}/ofrep/v1/evaluate/flags${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ context }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The case's context with the project it is served in; every attribute sent as the vector has it. */
function contextOf({ vector, flag }: PlacedCase): Record<string, unknown> {
  return { ...vector.context, project_name: flag.project };
}

function differs(actual: unknown, expected: unknown): boolean {
  try {
    expect(actual).toEqual(expected);
    return false;
  } catch {
    return true;
  }
}

describe('the flag-model vectors through vexil serve', () => {
  it('samples every category and every kind of error the vectors expect', () => {
    const categories = new Set(sample.map((c) => c.category));
    expect([...categories].sort()).toEqual([...VECTOR_CATEGORIES].sort());
    for (const error of VECTOR_ERRORS) {
      expect(sample.filter((c) => expectedError(c) === error).length).toBeGreaterThanOrEqual(4);
    }
    expect(sample.some((c) => Object.keys(c.segments).length > 0)).toBe(true);
    expect(sample.some((c) => c.context.targetingKey === undefined && expectedError(c) === undefined)).toBe(true);
    expect(sample.length).toBeGreaterThan(300);
    expect(sample.length).toBeLessThan(400);
  });

  it('OFREP answers every sampled case as the reference does: value, variant, reason, metadata or the error', async () => {
    const found = await disagreements(layout.cases, async (placed) => {
      const want = ofrepExpected(placed);
      const got = await post(`/${placed.flag.name}`, contextOf(placed));
      if (got.status === want.status && !differs(got.body, want.body)) return undefined;
      return { id: placed.vector.id, project: placed.flag.project, want, got };
    });
    expect(found).toEqual({ count: 0, first: [] });
  });

  it('OFREP bulk answers each sampled flag as the single evaluation does', async () => {
    const found = await disagreements(layout.cases, async (placed) => {
      const want = ofrepExpected(placed);
      const got = await post('', contextOf(placed));
      const fault = { id: placed.vector.id, project: placed.flag.project, want, got };
      if (got.status === 400) {
        // Every flag of the project needs the key the context lacks: the request itself is refused.
        return got.body.errorCode === 'TARGETING_KEY_MISSING' && expectedError(placed.vector) !== undefined
          ? undefined
          : fault;
      }
      if (got.status !== 200) return fault;
      const answer = (got.body.flags as Record<string, unknown>[]).find((flag) => flag.key === placed.flag.name);
      // An archived flag is left out of the bulk answer.
      if (expectedError(placed.vector) === 'FLAG_NOT_FOUND') return answer === undefined ? undefined : fault;
      return answer !== undefined && !differs(answer, want.body) ? undefined : fault;
    });
    expect(found).toEqual({ count: 0, first: [] });
  });

  it('/get-feature-flag answers the value and rollout group of every sampled case asked by instance id', async () => {
    const byId = layout.cases.filter(({ vector }) => {
      const keys = Object.keys(vector.context);
      return keys.length === 1 && keys[0] === 'targetingKey';
    });
    expect(byId.length).toBeGreaterThan(50);
    const found = await disagreements(byId, async (placed) => {
      const { vector, flag } = placed;
      const query = new URLSearchParams({
        project_name: flag.project,
        instance_id: String(vector.context.targetingKey),
        flag_type: flag.flagType,
        flag_name: flag.name,
      });
      const response = await fetch(`${service.url}/get-feature-flag?${query}`);
      const body = (await response.json()) as Record<string, unknown>;
      const expected = vector.expected;
      const want =
        'error' in expected
          ? { status: 404, body: expect.objectContaining({ error: 'EmptyFlagDataException' }) }
          : // A disabled flag and "no value" answer as stored: the control value, or null.
            {
              status: 200,
              body: expect.objectContaining({ flag_value: expected.value, rollout_group: expected.group }),
            };
      if (response.status === want.status && !differs(body, want.body)) return undefined;
      return { id: vector.id, project: flag.project, expected, got: { status: response.status, body } };
    });
    expect(found).toEqual({ count: 0, first: [] });
  });
});
