// A Merino-style suggest service on Fastify, with Vexil's in-app flags.
// From the repository root:  npm run build && node examples/merino-fastify/server.mjs
// Then:  curl 'http://127.0.0.1:8000/api/v1/suggest?q=fire&sid=000'
import { fileURLToPath } from 'node:url';
import { featureFlagsPlugin, loadFlagFiles, withFeatureFlagTags } from '@vexil/sdk';
import Fastify from 'fastify';
import { StatsD } from 'hot-shots';

// Read and check the flag files once, at start-up: a bad file stops here with a
// message naming the file, flag and field. MERINO_ENV picks the layered section and
// MERINO_FLAGS__<name>__<field> variables override single fields.
const flags = loadFlagFiles(fileURLToPath(new URL('./flags', import.meta.url)));

// Metrics go to STATSD_HOST:STATSD_PORT when STATSD_HOST is set; otherwise hot-shots
// keeps them in memory and the response shows the lines it would have sent.
const statsd = new StatsD({
  host: process.env.STATSD_HOST ?? '127.0.0.1',
  port: Number(process.env.STATSD_PORT ?? 8125),
  prefix: 'merino.',
  mock: process.env.STATSD_HOST === undefined,
  errorHandler: (error) => console.error(`statsd: ${error.message}`),
});

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } });
await app.register(featureFlagsPlugin, { flags });

app.get('/api/v1/suggest', async (request) => {
  // Merino: feature_flags = request.scope[ScopeKey.FEATURE_FLAGS]
  const featureFlags = request.featureFlags;
  const metrics = withFeatureFlagTags(statsd, featureFlags);
  const started = performance.now();

  const query = String(request.query.q ?? '');
  let suggestions = ['firefox', 'fire tv', 'fireworks'].filter((s) => s.startsWith(query.toLowerCase()));
  if (featureFlags.isEnabled('new_ranking')) suggestions = suggestions.toReversed();
  featureFlags.isEnabled('hello_world');

  // Both metrics carry feature_flag.new_ranking:1|0 and feature_flag.hello_world:1|0.
  metrics.increment('suggest.requests');
  metrics.timing('suggest.duration', performance.now() - started);

  return {
    suggestions,
    sid: featureFlags.sessionId ?? null,
    decisions: featureFlags.decisions,
    ...(statsd.mockBuffer ? { statsd: statsd.mockBuffer.splice(0) } : {}),
  };
});

const address = await app.listen({ port: Number(process.env.PORT ?? 8000), host: process.env.HOST ?? '127.0.0.1' });
console.log(`merino-fastify example: try curl '${address}/api/v1/suggest?q=fire&sid=000'`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await app.close();
    statsd.close();
  });
}
