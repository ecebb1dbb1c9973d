import { describe, expect, it } from 'vitest';
import { FeatureFlags, type FeatureFlagsLogger, FlagConfigError, type FlagConfigs } from '../src/index.js';

/** A logger that keeps what it is given. */
function recordingLogger(): FeatureFlagsLogger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, error: (message: string) => errors.push(message) };
}

/** Merino's testing.toml, as FeatureFlags input. */
const MERINO_TESTING: FlagConfigs = {
  'test-enabled': { enabled: 1, scheme: 'random' },
  'test-not-enabled': { enabled: 0, scheme: 'random' },
  'test-perc-enabled': { enabled: 0.5, scheme: 'random' },
  'test-perc-enabled-session': { enabled: 0.5, scheme: 'session' },
  'test-no-scheme': { enabled: 0.5 },
};

const hexBytes = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

describe("Merino's published cases (tests/unit/test_featureflags.py)", () => {
  it('an unknown flag is false', () => {
    expect(new FeatureFlags(MERINO_TESTING).isEnabled('test-missing')).toBe(false);
  });

  it('enabled = 1 is true and enabled = 0 is false, with no session id needed', () => {
    const logger = recordingLogger();
    const flags = new FeatureFlags(MERINO_TESTING, { logger });
    expect(flags.isEnabled('test-enabled')).toBe(true);
    expect(flags.isEnabled('test-not-enabled')).toBe(false);
    expect(logger.errors).toEqual([]);
  });

  it('a session flag without a session id is false and logs exactly one error', () => {
    const logger = recordingLogger();
    const flags = new FeatureFlags(MERINO_TESTING, { logger });
    expect(flags.isEnabled('test-no-scheme')).toBe(false);
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]).toContain('Expected a session_id but none exist in this context');
    expect(logger.errors[0]).toContain('test-no-scheme');
  });

  it.each([
    ['000', true],
    ['fff', false],
  ])('a flag without scheme buckets on the session: sid %s → %s at 0.5', (sid, want) => {
    expect(new FeatureFlags(MERINO_TESTING, { sessionId: sid }).isEnabled('test-no-scheme')).toBe(want);
  });

  it.each([
    ['000', true],
    ['fff', false],
  ])('session scheme: sid %s → %s at 0.5', (sid, want) => {
    expect(new FeatureFlags(MERINO_TESTING, { sessionId: sid }).isEnabled('test-perc-enabled-session')).toBe(want);
  });

  it.each([
    // Merino's test passes b"\x00\x00\x00\x00" and b"\xff\xff\xff\xff": hex bytes. As ASCII text
    // '00000000' and 'ffffffff' would both be on (0x30 and 0x66 have a clear top bit).
    ['00000000', true],
    ['ffffffff', false],
  ])('raw bytes %s as bucketFor → %s at 0.5, overriding the random scheme', (bytes, want) => {
    expect(new FeatureFlags(MERINO_TESTING).isEnabled('test-perc-enabled', hexBytes(bytes))).toBe(want);
  });

  it('refuses an invalid configuration when the flags are built (as Merino raises ValidationError)', () => {
    expect(() => new FeatureFlags({ 'invalid-scheme': { scheme: 'invalid', enabled: 0 } } as never)).toThrow(
      FlagConfigError,
    );
    expect(() => new FeatureFlags({ 'enabled-range': { enabled: 42 } })).toThrow(/enabled-range.*enabled.*0 to 1/);
  });
});

describe('FeatureFlags decisions', () => {
  it('records every check, unknown flags included, in a plain object', () => {
    const flags = new FeatureFlags(MERINO_TESTING, { sessionId: '000' });
    flags.isEnabled('test-enabled');
    flags.isEnabled('test-perc-enabled-session');
    flags.isEnabled('test-missing');
    expect({ ...flags.decisions }).toEqual({
      'test-enabled': true,
      'test-perc-enabled-session': true,
      'test-missing': false,
    });
    expect(JSON.parse(JSON.stringify(flags.decisions))).toEqual({ ...flags.decisions });
  });

  it('keeps the first decision: a random flag does not flip within one object', () => {
    const flags = new FeatureFlags({ coin: { enabled: 0.5, scheme: 'random' } });
    const first = flags.isEnabled('coin');
    for (let i = 0; i < 200; i++) expect(flags.isEnabled('coin')).toBe(first);
    expect(flags.decisions).toEqual({ coin: first });
  });

  it('keeps the first decision whatever bucketFor later checks pass', () => {
    const flags = new FeatureFlags(MERINO_TESTING);
    expect(flags.isEnabled('test-perc-enabled', hexBytes('00000000'))).toBe(true);
    expect(flags.isEnabled('test-perc-enabled', hexBytes('ffffffff'))).toBe(true);
  });

  it('logs once per object for a missing session id: a second check answers from the record', () => {
    const logger = recordingLogger();
    const flags = new FeatureFlags(MERINO_TESTING, { logger });
    expect(flags.isEnabled('test-no-scheme')).toBe(false);
    expect(flags.isEnabled('test-no-scheme')).toBe(false);
    expect(logger.errors).toHaveLength(1);
    // Another request (another object) logs again.
    new FeatureFlags(MERINO_TESTING, { logger }).isEnabled('test-no-scheme');
    expect(logger.errors).toHaveLength(2);
  });

  it('treats the empty string as a session id (no error)', () => {
    const logger = recordingLogger();
    // sha256('') has bucket 0.9257…: off at 0.5, on at 0.95.
    const flags = new FeatureFlags({ half: { enabled: 0.5 }, most: { enabled: 0.95 } }, { sessionId: '', logger });
    expect(flags.isEnabled('half')).toBe(false);
    expect(flags.isEnabled('most')).toBe(true);
    expect(logger.errors).toEqual([]);
  });

  it('buckets a bucketFor string on its sha256, in place of the session id', () => {
    const flags = new FeatureFlags(MERINO_TESTING, { sessionId: 'fff' });
    expect(flags.isEnabled('test-perc-enabled-session', '000')).toBe(true);
    expect(new FeatureFlags(MERINO_TESTING, { sessionId: '000' }).isEnabled('test-perc-enabled-session', 'fff')).toBe(
      false,
    );
    // A Node.js Buffer is bytes too.
    expect(new FeatureFlags(MERINO_TESTING).isEnabled('test-perc-enabled', Buffer.from('ffffffff', 'hex'))).toBe(false);
  });

  it('never throws: bad arguments and a throwing logger or hook answer false', () => {
    const logger = recordingLogger();
    const flags = new FeatureFlags(MERINO_TESTING, { sessionId: '000', logger });
    expect(flags.isEnabled('test-perc-enabled', 42 as never)).toBe(false);
    expect(logger.errors[0]).toMatch(/bucket_for must be a string or bytes/);
    expect(flags.isEnabled(undefined as never)).toBe(false);
    expect(flags.isEnabled('constructor')).toBe(false);
    expect(flags.isEnabled('__proto__')).toBe(false);
    expect(flags.isEnabled('toString')).toBe(false);

    const broken = new FeatureFlags(MERINO_TESTING, {
      logger: {
        error() {
          throw new Error('logger down');
        },
      },
      onDecision() {
        throw new Error('hook down');
      },
    });
    expect(broken.isEnabled('test-no-scheme')).toBe(false);
    expect(broken.isEnabled('test-enabled')).toBe(true);
  });

  it('calls onDecision once per flag with its first decision', () => {
    const seen: [string, boolean][] = [];
    const flags = new FeatureFlags(MERINO_TESTING, {
      sessionId: '000',
      onDecision: (name, decision) => seen.push([name, decision]),
    });
    flags.isEnabled('test-perc-enabled-session');
    flags.isEnabled('test-perc-enabled-session');
    flags.isEnabled('test-not-enabled');
    expect(seen).toEqual([
      ['test-perc-enabled-session', true],
      ['test-not-enabled', false],
    ]);
  });

  it('knows no flags when given none', () => {
    const flags = new FeatureFlags();
    expect(flags.isEnabled('anything')).toBe(false);
    expect(flags.flagNames()).toEqual([]);
    expect(new FeatureFlags(MERINO_TESTING).flagNames()).toEqual(Object.keys(MERINO_TESTING));
  });

  it('random scheme: about half of 4,000 fresh objects are on at 0.5, none at 0, all at 1', () => {
    const flags: FlagConfigs = {
      half: { enabled: 0.5, scheme: 'random' },
      tenth: { enabled: 0.1, scheme: 'random' },
    };
    let half = 0;
    let tenth = 0;
    for (let i = 0; i < 4000; i++) {
      const perRequest = new FeatureFlags(flags);
      if (perRequest.isEnabled('half')) half++;
      if (perRequest.isEnabled('tenth')) tenth++;
    }
    // Binomial(4000, 0.5) has sd ≈ 32; ±250 is nearly 8 sd.
    expect(half).toBeGreaterThan(1750);
    expect(half).toBeLessThan(2250);
    expect(tenth).toBeGreaterThan(250);
    expect(tenth).toBeLessThan(550);
  });

  it('session scheme: the share of session ids that are on follows enabled, and a sid always gets the same answer', () => {
    const flags: FlagConfigs = { rollout: { enabled: 0.3 } };
    let on = 0;
    for (let i = 0; i < 4000; i++) {
      const sid = `session-${i}`;
      const first = new FeatureFlags(flags, { sessionId: sid }).isEnabled('rollout');
      expect(new FeatureFlags(flags, { sessionId: sid }).isEnabled('rollout')).toBe(first);
      if (first) on++;
    }
    expect(on).toBeGreaterThan(1000);
    expect(on).toBeLessThan(1400);
  });

  it('does not hash the flag name: two flags at the same percentage agree for a session', () => {
    const flags = new FeatureFlags({ a: { enabled: 0.5 }, b: { enabled: 0.5 } }, { sessionId: 'fff' });
    expect(flags.isEnabled('a')).toBe(flags.isEnabled('b'));
  });
});
