// The baseline of bench/http.mjs: a bare Fastify 5 route that answers
// GET /get-feature-flag with the same JSON shape as `vexil serve` (the query fields
// echoed, a fixed value and group, a fresh request id) under the same query and
// response schemas, and nothing else: no store, no cache, no log, no metrics.
// Run on its own:  PORT=3000 node bench/bare-server.mjs
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

const querySchema = {
  type: 'object',
  properties: {
    project_name: { type: 'string' },
    instance_id: { type: 'string' },
    flag_type: { type: 'string', enum: ['feature', 'data'] },
    flag_name: { type: 'string' },
  },
};

const responseSchema = {
  type: 'object',
  required: ['request_id', 'instance_id', 'flag_type', 'flag_name', 'flag_value', 'rollout_group'],
  properties: {
    request_id: { type: 'string' },
    instance_id: { type: 'string' },
    flag_type: { type: 'string' },
    flag_name: { type: 'string' },
    flag_value: { anyOf: [{ type: 'boolean' }, { type: 'string' }] },
    rollout_group: { type: 'string' },
  },
};

const app = Fastify({ logger: false });

app.get('/healthz', async () => ({ status: 'ok' }));

app.get(
  '/get-feature-flag',
  { schema: { querystring: querySchema, response: { 200: responseSchema } } },
  async (request) => {
    const query = request.query;
    return {
      request_id: randomUUID(),
      instance_id: query.instance_id,
      flag_type: query.flag_type,
      flag_name: query.flag_name,
      flag_value: query.flag_type === 'data' ? 'openai' : false,
      rollout_group: 'control',
    };
  },
);

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
await app.listen({ port, host });

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
