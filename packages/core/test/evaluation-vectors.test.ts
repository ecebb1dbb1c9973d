import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateRevision, inRollout } from '../src/index.js';

interface RolloutVector {
  algorithm: string;
  key: string;
  percent: number;
  in_rollout: boolean;
}
interface EvaluateVector {
  revision: Record<string, unknown>;
  instance_id: string;
  flag_value: boolean | string;
  rollout_group: string;
}

const vectors = JSON.parse(readFileSync(new URL('./fixtures/evaluation-vectors.json', import.meta.url), 'utf8')) as {
  rollout: RolloutVector[];
  evaluate: EvaluateVector[];
};

describe('conformance vectors from an independent implementation', () => {
  it('has the vectors it expects to check', () => {
    expect(vectors.rollout.length).toBeGreaterThanOrEqual(1500);
    expect(vectors.evaluate.length).toBeGreaterThanOrEqual(600);
  });

  it('inRollout agrees with every rollout vector', () => {
    const mismatches = vectors.rollout.filter((v) => inRollout(v.algorithm, v.key, v.percent) !== v.in_rollout);
    expect(mismatches).toEqual([]);
  });

  it('evaluateRevision gives the value and group of every evaluate vector', () => {
    const mismatches = vectors.evaluate.filter((v) => {
      const result = evaluateRevision(structuredClone(v.revision), v.instance_id);
      return result.value !== v.flag_value || result.group !== v.rollout_group;
    });
    expect(mismatches).toEqual([]);
  });

  it('evaluateRevision gives the same answers when the revision object is reused', () => {
    for (const v of vectors.evaluate.slice(0, 100)) {
      const first = evaluateRevision(v.revision, v.instance_id);
      const second = evaluateRevision(v.revision, v.instance_id);
      expect(second).toEqual(first);
      expect(first).toEqual({ value: v.flag_value, group: v.rollout_group });
    }
  });
});
