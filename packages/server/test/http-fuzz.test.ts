import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT_MS, fuzz } from '../../../test/fuzz.js';
import { serviceWithFlags } from './service-harness.js';
import {
  airflowConfig,
  anyJson,
  flagName,
  flagValue,
  mostly,
  revisionFields,
  storeContents,
} from './support/fuzz-inputs.js';

/**
 * Property tests of every route's inputs, through `inject` on a service over a memory
 * store: whatever the path, query string, headers and body, the answer is never a 5xx,
 * nothing throws, and a refused request (4xx) leaves the store as it was.
 */

interface Operation {
  method: string;
  /** The OpenAPI path, `{param}` for each parameter. */
  path: string;
  query: string[];
  bodyFields: string[];
}

let service: Awaited<ReturnType<typeof serviceWithFlags>>;
let operations: Operation[];

beforeAll(async () => {
  // No rate limit on reports: a 429 would hide what the route does with the input.
  service = await serviceWithFlags({ VEXIL_REPORT_RATE_LIMIT: '0' });
  // The routes as the service documents them, so a new route is fuzzed without an edit here.
  const doc = (await service.app.inject('/docs/json')).json() as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: { in: string; name: string }[];
          requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
        }
      >
    >;
  };
  operations = Object.entries(doc.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod)
      // A change stream never ends: inject would wait for it forever.
      .filter(() => !path.endsWith('/stream'))
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        query: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: Object.keys(operation.requestBody?.content?.['application/json']?.schema?.properties ?? {}),
      })),
  );
  expect(operations.length).toBeGreaterThan(20);
});

afterAll(async () => {
  await service.app.close();
});

/** A path parameter: the real ones, valid-looking ones, and what a path should not hold. */
const paramValue = fc.oneof(
  fc.constantFrom('shop', 'feature', 'data', 'number', 'json', 'segment', 'new_checkout', 'llm_provider'),
  flagName,
  fc.constantFrom('2024-01-01 00:00:00.000000', '..', '.', '%', '%00', '%ZZ', '%2F', '\u0000', 'a'.repeat(1200)),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

/** Percent-encodes a parameter, or (sometimes) leaves it raw, as a careless client would. */
const encodedParam = fc
  .tuple(paramValue, fc.integer({ min: 0, max: 9 }))
  .map(([value, raw]) => (raw === 0 && /^[\x21-\x7e]*$/.test(value) ? value : encodeURIComponent(value)));

const queryValue = fc.oneof(
  fc.constantFrom('shop', 'feature', 'data', 'new_checkout', 'u', 'qa-1', 'true', 'false', '0', '-1', '1e9', ''),
  flagName,
  fc.string({ unit: 'binary', maxLength: 10 }),
);

/** A JSON body: shaped for some route (its fields, a revision, configs, a context, a report) or any JSON. */
function bodyFor(operation: Operation): fc.Arbitrary<unknown> {
  const fields = fc.record(
    Object.fromEntries(operation.bodyFields.map((field) => [field, fc.oneof(flagValue, anyJson, flagName)])),
    { requiredKeys: [] },
  );
  const context = fc.dictionary(
    fc.oneof(fc.constantFrom('targetingKey', 'project_name', 'country', 'age'), fc.string({ maxLength: 5 })),
    fc.oneof(queryValue, anyJson),
    { maxKeys: 4 },
  );
  const report = fc.record({
    project: mostly(fc.constant('shop'), anyJson),
    evaluations: mostly(
      fc.array(
        fc.record(
          {
            flagType: fc.oneof(fc.constantFrom('feature', 'data', 'segment'), anyJson),
            flagName,
            instanceId: fc.oneof(queryValue, anyJson),
            value: flagValue,
            group: fc.oneof(fc.constantFrom('control', 'treatment', 'override'), anyJson),
            time: fc.oneof(fc.constantFrom('2024-01-01 00:00:00.000000', '2099-12-31 23:59:59.999999'), anyJson),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
      anyJson,
    ),
  });
  return fc.oneof(
    fields,
    revisionFields,
    fc.record({ configs: fc.array(airflowConfig, { maxLength: 2 }) }),
    fc.record({ context }, { requiredKeys: [] }),
    report,
    anyJson,
  );
}

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=latin1',
  undefined,
);

/** Headers a client may send, well-formed or not (values of visible ASCII: what HTTP carries). */
const headers = fc.record(
  {
    'x-request-id': fc.oneof(fc.stringMatching(/^[\x21-\x7e]{0,40}$/), fc.constant('a'.repeat(500))),
    'if-none-match': fc.oneof(fc.stringMatching(/^[\x21-\x7e]{0,20}$/), fc.constant('*'), fc.constant('W/"x"')),
    'last-event-id': fc.stringMatching(/^[\x21-\x7e]{0,20}$/),
    origin: fc.constantFrom('https://app.example.com', 'null', 'evil'),
    accept: fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html'),
  },
  { requiredKeys: [] },
);

/** One request to a documented route, with its parameters, query and body fuzzed. */
const routedRequest: fc.Arbitrary<InjectOptions> = fc
  .integer({ min: 0, max: 1_000_000 })
  .chain((pick) => {
    const operation = operations[pick % operations.length] as Operation;
    const params = operation.path.match(/\{[^}]+\}/g) ?? [];
    return fc.record({
      operation: fc.constant(operation),
      params: fc.tuple(...params.map(() => encodedParam)),
      query: fc.array(
        fc.tuple(fc.oneof(fc.constantFrom(...operation.query, 'x', ''), fc.string({ maxLength: 4 })), queryValue),
        { maxLength: 5 },
      ),
      body: bodyFor(operation),
      rawBody: fc.option(fc.string({ unit: 'binary', maxLength: 30 }), { freq: 8 }),
      contentType,
      headers,
    });
  })
  .map(({ operation, params, query, body, rawBody, contentType: type, headers: extra }) => {
    let i = 0;
    const path = operation.path.replace(/\{[^}]+\}/g, () => params[i++] ?? '');
    const search = query.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&');
    const sendsBody = operation.method !== 'GET' && operation.method !== 'HEAD';
    return {
      method: operation.method as NonNullable<InjectOptions['method']>,
      url: search === '' ? path : `${path}?${search}`,
      headers: { ...extra, ...(type === undefined ? {} : { 'content-type': type }) },
      ...(sendsBody ? { payload: rawBody ?? JSON.stringify(body) } : {}),
    };
  });

/** Any path at all, any method: what scanners and typos send. */
const strayRequest: fc.Arbitrary<InjectOptions> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
    segments: fc.array(fc.oneof(encodedParam, fc.constantFrom('admin', 'v1', 'ofrep', 'sdk', 'projects', 'flags')), {
      maxLength: 7,
    }),
    query: fc.string({ maxLength: 20 }).map((text) => encodeURI(text)),
    body: fc.option(anyJson.map((value) => JSON.stringify(value))),
    headers,
  })
  .filter(({ segments }) => segments.at(-1) !== 'stream')
  .map(({ method, segments, query, body, headers: extra }) => ({
    method: method as NonNullable<InjectOptions['method']>,
    url: `/${segments.join('/')}${query === '' ? '' : `?${query}`}`,
    headers: { ...extra, ...(body === null ? {} : { 'content-type': 'application/json' }) },
    ...(body === null || method === 'GET' || method === 'HEAD' ? {} : { payload: body }),
  }));

describe('every route, for any input', () => {
  it(
    'never answers 5xx, and a refused request writes nothing',
    async () => {
      const statuses = new Set<number>();
      await fuzz(
        fc.asyncProperty(
          fc.oneof({ arbitrary: routedRequest, weight: 4 }, { arbitrary: strayRequest, weight: 1 }),
          async (request) => {
            const before = await storeContents(service.store);
            const response = await service.app.inject(request);
            statuses.add(response.statusCode);
            expect(response.statusCode, `${request.method} ${request.url}: ${response.body}`).toBeLessThan(500);
            if (response.statusCode >= 400) expect(await storeContents(service.store)).toBe(before);
          },
        ),
        600,
      );
      // The inputs reach success, refusal and not-found answers alike.
      expect([...statuses].some((status) => status < 300)).toBe(true);
      expect(statuses).toContain(400);
      expect(statuses).toContain(404);
    },
    FUZZ_TIMEOUT_MS,
  );
});
