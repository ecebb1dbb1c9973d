import type { FeatureFlags, FeatureFlagsLogger, FlagConfigs } from '../src/index.js';

/** sha256 buckets (Python): '000' 0.3945, 'fff' 0.9924, 'a' 0.9213, '' 0.9257. */
export const FLAGS: FlagConfigs = {
  half: { enabled: 0.5, scheme: 'session' },
  most: { enabled: 0.95 },
};

export interface FlagsAnswer {
  half: boolean;
  most: boolean;
  sessionId: string | null;
  decisions: Record<string, boolean>;
}

/** What a route answers: its checks, the session id and the recorded decisions. */
export function answer(featureFlags: FeatureFlags): FlagsAnswer {
  return {
    half: featureFlags.isEnabled('half'),
    most: featureFlags.isEnabled('most'),
    sessionId: featureFlags.sessionId ?? null,
    decisions: { ...featureFlags.decisions },
  };
}

export function recordingLogger(): FeatureFlagsLogger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, error: (message: string) => errors.push(message) };
}

/**
 * The cases every middleware must get right, with what a real request sees: the
 * last sid wins ('a' alone would be off at 0.5), the empty sid is a session (on at
 * 0.95, no error), no sid is off with one error per session-flag check.
 */
export const SID_CASES: { query: string; want: Omit<FlagsAnswer, 'decisions'>; errors: number }[] = [
  { query: '?sid=000', want: { half: true, most: true, sessionId: '000' }, errors: 0 },
  { query: '?sid=fff', want: { half: false, most: false, sessionId: 'fff' }, errors: 0 },
  { query: '?sid=a', want: { half: false, most: true, sessionId: 'a' }, errors: 0 },
  { query: '?sid=a&sid=000', want: { half: true, most: true, sessionId: '000' }, errors: 0 },
  { query: '?sid=000&sid=fff', want: { half: false, most: false, sessionId: 'fff' }, errors: 0 },
  { query: '?sid=', want: { half: false, most: true, sessionId: '' }, errors: 0 },
  { query: '', want: { half: false, most: false, sessionId: null }, errors: 2 },
  { query: '?q=fire', want: { half: false, most: false, sessionId: null }, errors: 2 },
];
