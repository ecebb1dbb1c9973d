import { featureFlagTags, type HasDecisions } from './metric-tags.js';

/** The hot-shots (StatsD / DogStatsD) methods that get feature flag tags — Merino's list. */
export type TaggedStatsDMethod = 'increment' | 'decrement' | 'gauge' | 'timing' | 'histogram' | 'distribution';

type StatsDMethod = (stat: string | string[], ...args: unknown[]) => void;

/**
 * A hot-shots `StatsD` client, or anything with its metric methods and argument order
 * (`stat, value, sampleRate, tags, callback`). Declared as methods so that hot-shots'
 * overloads fit.
 */
export interface StatsDLike {
  increment(stat: string | string[], ...args: unknown[]): void;
  decrement(stat: string | string[], ...args: unknown[]): void;
  gauge(stat: string | string[], ...args: unknown[]): void;
  timing(stat: string | string[], ...args: unknown[]): void;
  histogram(stat: string | string[], ...args: unknown[]): void;
  distribution(stat: string | string[], ...args: unknown[]): void;
}

/**
 * A view of a hot-shots client that adds the request's feature flag decisions —
 * `feature_flag.<name>:1|0`, as they stand when each metric is sent — to the tags of
 * every `increment`, `decrement`, `gauge`, `timing`, `histogram` and `distribution`.
 * Arguments are hot-shots' own (`stat, value, sampleRate, tags, callback`, with the
 * same optional forms); tags given in the call win over flag tags of the same name,
 * as in Merino. Pass a function to read the FeatureFlags of the current request.
 *
 * ```ts
 * const metrics = withFeatureFlagTags(statsd, request.featureFlags);
 * metrics.increment('suggest.requests'); // suggest.requests:1|c|#feature_flag.new_ui:1
 * ```
 */
export function withFeatureFlagTags<Client extends StatsDLike>(
  client: Client,
  featureFlags: HasDecisions | (() => HasDecisions | undefined),
): Pick<Client, TaggedStatsDMethod> {
  const decisions = typeof featureFlags === 'function' ? featureFlags : () => featureFlags;
  const wrap =
    (method: TaggedStatsDMethod, counter: boolean): StatsDMethod =>
    (stat, ...args) => {
      const call = hotShotsArguments(args, counter);
      const current = decisions();
      const tags = current === undefined ? call.tags : mergeTags(featureFlagTags(current), call.tags);
      client[method](stat, call.value, call.sampleRate, tags, call.callback);
    };
  return {
    increment: wrap('increment', true),
    decrement: wrap('decrement', true),
    gauge: wrap('gauge', false),
    timing: wrap('timing', false),
    histogram: wrap('histogram', false),
    distribution: wrap('distribution', false),
  } as unknown as Pick<Client, TaggedStatsDMethod>;
}

interface HotShotsCall {
  value: unknown;
  sampleRate: unknown;
  tags: unknown;
  callback: unknown;
}

/**
 * hot-shots' optional arguments, resolved as it does: a counter may leave out its
 * value; then an optional number is the sample rate, an object or array the tags,
 * a function the callback.
 */
function hotShotsArguments(args: unknown[], counter: boolean): HotShotsCall {
  let i = 0;
  let value: unknown;
  if (!counter || typeof args[0] === 'number' || ((args[0] === undefined || args[0] === null) && args.length > 0)) {
    value = args[0];
    i = 1;
  }
  let sampleRate: unknown;
  if (typeof args[i] === 'number' || (args[i] === undefined && i < args.length - 1)) sampleRate = args[i++];
  let tags: unknown;
  if ((typeof args[i] === 'object' && !(args[i] instanceof Date)) || (args[i] === undefined && i < args.length - 1)) {
    tags = args[i++];
  }
  const callback = typeof args[i] === 'function' ? args[i] : undefined;
  return { value, sampleRate, tags, callback };
}

const RESERVED = /:|\||@|,/g;

/** Flag tags overridden by same-named tags of the call; an array of tags stays an array. */
function mergeTags(flagTags: Record<string, string>, own: unknown): unknown {
  if (own === undefined || own === null) return flagTags;
  if (Array.isArray(own)) {
    const ownKeys = new Set(own.map((tag) => String(tag).split(':', 1)[0]));
    const flagList = Object.keys(flagTags)
      .filter((key) => !ownKeys.has(key))
      .map((key) => `${key.replace(RESERVED, '_')}:${flagTags[key]}`);
    return [...flagList, ...own];
  }
  if (typeof own === 'object') return { ...flagTags, ...own };
  return flagTags;
}
