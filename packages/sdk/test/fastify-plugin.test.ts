import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureFlags, FlagConfigError, featureFlagsPlugin } from '../src/index.js';
import { answer, FLAGS, type FlagsAnswer, recordingLogger, SID_CASES } from './http-helpers.js';

describe('Fastify plugin: request.featureFlags over real HTTP', () => {
  const logger = recordingLogger();
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    app = Fastify();
    await app.register(featureFlagsPlugin, { flags: FLAGS, logger });
    app.get('/flags', async (request) => answer(request.featureFlags));
    // A plugin registered later, in its own encapsulated context, sees the decoration too.
    await app.register(async (child) => {
      child.get('/child/flags', async (request) => answer(request.featureFlags));
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
  });

  for (const { query, want, errors } of SID_CASES) {
    it(`GET /flags${query} → half ${want.half}, most ${want.most}, sid ${JSON.stringify(want.sessionId)}`, async () => {
      logger.errors.length = 0;
      const response = await fetch(`${base}/flags${query}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as FlagsAnswer;
      expect(body).toEqual({ ...want, decisions: { half: want.half, most: want.most } });
      expect(logger.errors).toHaveLength(errors);
    });
  }

  it('gives every request its own FeatureFlags', async () => {
    const [a, b] = await Promise.all([
      fetch(`${base}/child/flags?sid=000`).then((r) => r.json() as Promise<FlagsAnswer>),
      fetch(`${base}/child/flags?sid=fff`).then((r) => r.json() as Promise<FlagsAnswer>),
    ]);
    expect(a.half).toBe(true);
    expect(b.half).toBe(false);
  });

  it("logs to the request's logger when no logger is given", async () => {
    const lines: string[] = [];
    const quiet = Fastify({
      logger: { level: 'error', stream: { write: (line: string) => lines.push(line) } },
    });
    await quiet.register(featureFlagsPlugin, { flags: FLAGS });
    quiet.get('/', async (request) => request.featureFlags.isEnabled('half'));
    const response = await quiet.inject({ url: '/' });
    expect(response.body).toBe('false');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 50, reqId: expect.any(String) });
    expect(lines[0]).toContain('Expected a session_id but none exist in this context');
    await quiet.close();
  });

  it('refuses invalid flags at start-up', async () => {
    const bad = Fastify();
    await expect(bad.register(featureFlagsPlugin, { flags: { x: { enabled: 2 } } })).rejects.toThrow(FlagConfigError);
    await bad.close();
  });

  it('reads the current flags from a function on every request', async () => {
    let flags = { x: { enabled: 0 } };
    const live = Fastify();
    await live.register(featureFlagsPlugin, { flags: () => flags });
    live.get('/', async (request) => request.featureFlags.isEnabled('x'));
    expect((await live.inject({ url: '/?sid=1' })).body).toBe('false');
    flags = { x: { enabled: 1 } };
    expect((await live.inject({ url: '/?sid=1' })).body).toBe('true');
    await live.close();
  });

  it('types request.featureFlags as FeatureFlags', async () => {
    const typed = Fastify();
    await typed.register(featureFlagsPlugin, { flags: FLAGS });
    typed.get('/', async (request) => {
      const flags: FeatureFlags = request.featureFlags;
      return flags instanceof FeatureFlags;
    });
    expect((await typed.inject({ url: '/' })).body).toBe('true');
    await typed.close();
  });
});
