import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagConfigError, featureFlagsMiddleware } from '../src/index.js';
import { answer, FLAGS, type FlagsAnswer, recordingLogger, SID_CASES } from './http-helpers.js';

describe('Express middleware: req.featureFlags over real HTTP', () => {
  const logger = recordingLogger();
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    // The app's own query parser keeps the first duplicate; the middleware reads the raw URL.
    app.set('query parser', 'simple');
    app.use(featureFlagsMiddleware({ flags: FLAGS, logger }));
    app.get('/flags', (req, res) => {
      res.json(answer(req.featureFlags));
    });
    const router = express.Router();
    router.get('/flags', (req, res) => {
      res.json(answer(req.featureFlags));
    });
    app.use('/mounted', router);
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  for (const { query, want, errors } of SID_CASES) {
    it(`GET /flags${query} → half ${want.half}, most ${want.most}, sid ${JSON.stringify(want.sessionId)}`, async () => {
      logger.errors.length = 0;
      const response = await fetch(`${base}/flags${query}`);
      expect(response.status).toBe(200);
      expect((await response.json()) as FlagsAnswer).toEqual({
        ...want,
        decisions: { half: want.half, most: want.most },
      });
      expect(logger.errors).toHaveLength(errors);
    });
  }

  it('reads the sid in a mounted router, where req.url has lost its prefix', async () => {
    const body = (await (await fetch(`${base}/mounted/flags?sid=a&sid=000`)).json()) as FlagsAnswer;
    expect(body.sessionId).toBe('000');
    expect(body.half).toBe(true);
  });

  it('refuses invalid flags when the middleware is made', () => {
    expect(() => featureFlagsMiddleware({ flags: { x: { enabled: 0.5, scheme: 'sticky' as never } } })).toThrow(
      FlagConfigError,
    );
  });
});
