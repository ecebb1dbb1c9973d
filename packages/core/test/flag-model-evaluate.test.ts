import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  compileRevision,
  compileSegment,
  EmptyFlagDataException,
  evaluateRevision,
  evaluateRevisionContext,
  type SegmentLookup,
  TargetingKeyMissingError,
  type VexilError,
} from '../src/index.js';

function revision(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Name: 'greeting',
    Type: 'DATA',
    FormatVersion: 2,
    ControlValue: 'hello',
    Treatments: [],
    Salt: 'greeting',
    ...fields,
  };
}

/** The rollout bucket walk of the spec written the slow, obvious way: md5 of `Salt:key` as a BigInt. */
function splitBucket(salt: string, key: string, percents: number[]): number {
  const h = BigInt(`0x${createHash('md5').update(`${salt}:${key}`, 'utf8').digest('hex')}`);
  let cumulative = 0n;
  for (let i = 0; i < percents.length; i++) {
    cumulative += BigInt(Math.round((percents[i] as number) * 100));
    if (h * 10000n < cumulative << 128n) return i + 1;
  }
  throw new Error('a split adds up to 100');
}

function thrown(fn: () => unknown): VexilError {
  try {
    fn();
  } catch (error) {
    return error as VexilError;
  }
  throw new Error('expected a throw');
}

const country = (value: string) => ({ Attribute: 'country', Operator: 'equals', Values: [value] });

describe('evaluateContext', () => {
  const targeted = compileRevision(
    revision({
      Variants: { hello: 'hello', bonjour: 'bonjour', hallo: 'hallo', hola: 'hola' },
      Treatments: [{ OverrideList: ['vip'], PercentRollout: 0, Value: 'hola' }],
      Rules: [
        { Conditions: [country('FR')], Value: 'bonjour' },
        { Conditions: [country('DE'), { Attribute: 'plan', Operator: 'in', Values: ['pro'] }], Value: 'hallo' },
        { Conditions: [country('DE')], Value: null },
      ],
    }),
  );

  it('gives an override before any rule', () => {
    const result = targeted.evaluateContext({ targetingKey: 'vip', country: 'FR' });
    expect(result).toEqual({ value: 'hola', group: 'override' });
    expect(result.reason).toBe('TARGETING_MATCH');
    expect(result.variant).toBe('hola');
  });

  it('gives the first rule whose conditions all hold, as rule-N, naming its variant', () => {
    const fr = targeted.evaluateContext({ targetingKey: 'ann', country: 'FR', plan: 'pro' });
    expect([fr.value, fr.group, fr.reason, fr.variant]).toEqual(['bonjour', 'rule-1', 'TARGETING_MATCH', 'bonjour']);
    const dePro = targeted.evaluateContext({ country: 'DE', plan: 'pro' });
    expect([dePro.value, dePro.group, dePro.variant]).toEqual(['hallo', 'rule-2', 'hallo']);
  });

  it('gives null ("use the caller\'s default") from a rule, with no variant', () => {
    const de = targeted.evaluateContext({ country: 'DE', plan: 'free' });
    expect([de.value, de.group, de.reason, de.variant]).toEqual([null, 'rule-3', 'TARGETING_MATCH', undefined]);
  });

  it('falls through to the control value, DEFAULT because the revision targets somebody', () => {
    const other = targeted.evaluateContext({ country: 'US' });
    expect([other.value, other.group, other.reason, other.variant]).toEqual(['hello', 'control', 'DEFAULT', 'hello']);
    expect(targeted.targetsNobody).toBe(false);
  });

  it('returns the same frozen result every time: no allocation per evaluation', () => {
    const a = targeted.evaluateContext({ country: 'FR' });
    const b = targeted.evaluateContext({ country: 'FR', other: 1 });
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    expect(JSON.parse(JSON.stringify(a))).toEqual({ value: 'bonjour', group: 'rule-1' });
  });

  it('splits a rule by the hash of Salt:targetingKey into rule-N-split-M, skipping 0 % buckets but not their numbers', () => {
    const percents = [25, 0, 50.5, 24.5];
    const compiled = compileRevision(
      revision({
        Rules: [
          { Conditions: [country('FR')], Value: 'bonjour' },
          { Conditions: [], Split: percents.map((Percent, i) => ({ Percent, Value: `v${i + 1}` })) },
        ],
      }),
    );
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const key = `user-${i * 7919}`;
      const bucket = splitBucket('greeting', key, percents);
      const result = compiled.evaluateContext({ targetingKey: key });
      expect(result.group).toBe(`rule-2-split-${bucket}`);
      expect(result.value).toBe(`v${bucket}`);
      expect(result.reason).toBe('SPLIT');
      expect(result.variant).toBe(`rule-2-split-${bucket}`);
      seen.add(result.group);
    }
    expect([...seen].sort()).toEqual(['rule-2-split-1', 'rule-2-split-3', 'rule-2-split-4']);
  });

  it('hashes a split with the given digest, as evaluate does', () => {
    const compiled = compileRevision(
      revision({
        Rules: [
          {
            Conditions: [],
            Split: [
              { Percent: 50, Value: 'a' },
              { Percent: 50, Value: 'b' },
            ],
          },
        ],
      }),
    );
    const lowest = () => new Uint32Array(4);
    const highest = () => new Uint32Array(4).fill(0xffffffff);
    expect(compiled.evaluateContext({ targetingKey: 'x' }, undefined, lowest).value).toBe('a');
    expect(compiled.evaluateContext({ targetingKey: 'x' }, undefined, highest).value).toBe('b');
  });

  it('throws TARGETING_KEY_MISSING only where a split or a percentage must decide', () => {
    const compiled = compileRevision(
      revision({
        Treatments: [{ OverrideList: ['vip'], PercentRollout: 30, Value: 'rolled' }],
        Rules: [
          { Conditions: [country('FR')], Value: 'bonjour' },
          { Conditions: [country('DE')], Split: [{ Percent: 100, Value: 'hallo' }] },
        ],
      }),
    );
    expect(compiled.evaluateContext({ country: 'FR' }).value).toBe('bonjour');
    const inSplit = thrown(() => compiled.evaluateContext({ country: 'DE' }));
    expect(inSplit).toBeInstanceOf(TargetingKeyMissingError);
    expect(inSplit.code).toBe('TARGETING_KEY_MISSING');
    expect(inSplit.status).toBe(400);
    expect(inSplit.message).toBe(
      'flag greeting needs a targetingKey in the evaluation context: its rule 2 splits its contexts by percentage',
    );
    const inRollout = thrown(() => compiled.evaluateContext({ country: 'US' }));
    expect(inRollout).toBeInstanceOf(TargetingKeyMissingError);
    expect(inRollout.message).toMatch(/its treatments roll out to a percentage/);
  });

  it('needs no targeting key for treatments of 0 % or an empty context on a static flag', () => {
    const compiled = compileRevision(
      revision({ Treatments: [{ OverrideList: ['vip'], PercentRollout: 0, Value: 'x' }] }),
    );
    expect(compiled.evaluateContext({}).value).toBe('hello');
    expect(compileRevision(revision()).evaluateContext({}).reason).toBe('STATIC');
  });

  it('treats a targeting key that is not a non-empty string as missing', () => {
    const compiled = compileRevision(
      revision({ Treatments: [{ OverrideList: ['1'], PercentRollout: 50, Value: 'x' }] }),
    );
    expect(thrown(() => compiled.evaluateContext({ targetingKey: 1 as unknown as string }))).toBeInstanceOf(
      TargetingKeyMissingError,
    );
    expect(thrown(() => compiled.evaluateContext({ targetingKey: '' }))).toBeInstanceOf(TargetingKeyMissingError);
  });

  it('finds segments through the lookup, and an unknown one matches nobody', () => {
    const beta = compileSegment({ Name: 'beta', Type: 'SEGMENT', FormatVersion: 2, Included: ['ann'] });
    const segments: SegmentLookup = (name) => (name === 'beta' ? beta : undefined);
    const compiled = compileRevision(
      revision({
        Rules: [
          { Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta'] }], Value: 'beta!' },
          { Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['gone', 'beta'] }], Value: 'x' },
        ],
      }),
    );
    expect(compiled.segmentNames).toEqual(['beta', 'gone']);
    expect(compiled.evaluateContext({ targetingKey: 'ann' }, segments).group).toBe('rule-1');
    expect(compiled.evaluateContext({ targetingKey: 'bob' }, segments).group).toBe('control');
    expect(compiled.evaluateContext({ targetingKey: 'ann' }).group).toBe('control');
    expect(compiled.evaluate('ann', undefined, segments).group).toBe('rule-1');
  });

  it('answers an archived revision with EmptyFlagDataException', () => {
    const compiled = compileRevision(revision({ Archived: true, Disabled: true }));
    expect(() => compiled.evaluateContext({ targetingKey: 'a' })).toThrow(EmptyFlagDataException);
  });
});

describe('the kill switch', () => {
  const disabled = compileRevision(
    revision({
      Disabled: true,
      Treatments: [{ OverrideList: ['vip'], PercentRollout: 100, Value: 'x' }],
      Rules: [{ Conditions: [], Value: 'y' }],
    }),
  );

  it('answers ControlValue, group disabled, reason DISABLED, before overrides, rules and rollout', () => {
    for (const result of [
      disabled.evaluateContext({ targetingKey: 'vip' }),
      disabled.evaluateContext({}),
      disabled.evaluate('vip'),
    ]) {
      expect(result).toEqual({ value: 'hello', group: 'disabled' });
      expect(result.reason).toBe('DISABLED');
      expect(result.variant).toBe('disabled');
    }
    expect(disabled.disabled).toBe(true);
  });

  it("names the control value's variant when there are variants", () => {
    const named = compileRevision(revision({ Disabled: true, Variants: { off: 'hello' } }));
    expect(named.evaluateContext({}).variant).toBe('off');
  });

  it('Disabled: false changes nothing', () => {
    expect(compileRevision(revision({ Disabled: false })).evaluateContext({}).reason).toBe('STATIC');
  });
});

describe('variants and values of every type', () => {
  it('names json values by content, whatever the key order', () => {
    const compiled = compileRevision({
      Name: 'layout',
      Type: 'JSON',
      ControlValue: { columns: 2, theme: 'light' },
      Treatments: [],
      Variants: { classic: { theme: 'light', columns: 2 }, wide: [1, 2, 3] },
      Rules: [{ Conditions: [{ Attribute: 'wide', Operator: 'equals', Values: [true] }], Value: [1, 2, 3] }],
    });
    expect(compiled.evaluateContext({}).variant).toBe('classic');
    expect(compiled.evaluateContext({ wide: true }).variant).toBe('wide');
    expect(compiled.evaluateContext({ wide: true }).value).toEqual([1, 2, 3]);
  });

  it('gives numbers from number flags', () => {
    const compiled = compileRevision({ Name: 'limit', Type: 'NUMBER', ControlValue: 10, Treatments: [] });
    expect(compiled.evaluateContext({}).value).toBe(10);
    expect(evaluateRevision({ Name: 'limit', Type: 'NUMBER', ControlValue: 0.25, Treatments: [] }, 'a').value).toBe(
      0.25,
    );
  });

  it('without Variants the variant is the rollout group; a null value has none', () => {
    const compiled = compileRevision(
      revision({ ControlValue: null, Treatments: [{ OverrideList: ['a'], PercentRollout: 0, Value: 'x' }] }),
    );
    expect(compiled.evaluateContext({ targetingKey: 'a' }).variant).toBe('override');
    const control = compiled.evaluateContext({ targetingKey: 'b' });
    expect(control.value).toBeNull();
    expect(control.variant).toBeUndefined();
  });
});

describe('metadata', () => {
  it("is the revision's Metadata, frozen, or {} without it", () => {
    const compiled = compileRevision(revision({ Metadata: { owner: 'team-a', expires: '2027-01-01' } }));
    expect(compiled.metadata).toEqual({ owner: 'team-a', expires: '2027-01-01' });
    expect(Object.isFrozen(compiled.metadata)).toBe(true);
    expect(compileRevision(revision()).metadata).toEqual({});
  });
});

describe('the runbook paths stay as they were', () => {
  const runbook = {
    Name: 'multi_step_api_router',
    Type: 'FEATURE',
    FormatVersion: 1,
    ControlValue: false,
    Treatments: [
      { OverrideList: ['A12345'], PercentRollout: 40, Value: true },
      { OverrideList: [], PercentRollout: 10, Value: false },
    ],
  };

  it('evaluateContext({targetingKey}) gives what evaluate(id) gives, reason and variant too', () => {
    const compiled = compileRevision(runbook);
    for (let i = 0; i < 500; i++) {
      const id = i === 0 ? 'A12345' : `user-${i}`;
      const byId = compiled.evaluate(id);
      const byContext = compiled.evaluateContext({ targetingKey: id });
      expect(byContext).toBe(byId);
      expect(byId.variant).toBe(byId.group);
      expect(byId.reason).toBe(
        byId.group.startsWith('override') ? 'TARGETING_MATCH' : byId.group === 'control' ? 'DEFAULT' : 'SPLIT',
      );
    }
  });

  it('evaluate(id) returns one precomputed frozen result per group', () => {
    const compiled = compileRevision(runbook);
    const first = compiled.evaluate('A12345');
    expect(compiled.evaluate('A12345')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.keys(first)).toEqual(['value', 'group']);
  });

  it('evaluateRevisionContext evaluates a context on a plain revision object', () => {
    expect(evaluateRevisionContext(runbook, { targetingKey: 'A12345' }).group).toBe('override-1');
  });

  it('evaluate(id) on a revision with rules is the context {targetingKey: id}', () => {
    const compiled = compileRevision(
      revision({
        Rules: [
          { Conditions: [{ Attribute: 'targetingKey', Operator: 'starts_with', Values: ['staff-'] }], Value: 'hi' },
        ],
      }),
    );
    expect(compiled.evaluate('staff-1').group).toBe('rule-1');
    expect(compiled.evaluate('user-1').group).toBe('control');
  });
});
