import { describe, expect, it } from 'vitest';
import { generateFlagModule } from '../src/lifecycle/flag-codegen.js';
import { serviceWithFlags } from './service-harness.js';

describe('GET /admin/v1/projects/{project}/codegen', () => {
  it('answers the module vexil codegen writes, to a read token, and refuses an unknown language or project', async () => {
    const { app } = await serviceWithFlags();
    try {
      const made = await app.inject({
        method: 'POST',
        url: '/admin/v1/tokens',
        payload: { scope: 'read', projects: ['shop'], owner: 'ci' },
      });
      const reader = { authorization: `Bearer ${(made.json() as { secret: string }).secret}` };
      const ts = await app.inject({ url: '/admin/v1/projects/shop/codegen?lang=ts', headers: reader });
      expect(ts.statusCode).toBe(200);
      expect(ts.headers['content-type']).toMatch(/^text\/plain/);
      expect(ts.body).toBe(
        generateFlagModule(
          'ts',
          'shop',
          [
            { flagType: 'feature', name: 'new_checkout', defaultValue: false, description: 'checkout' },
            { flagType: 'data', name: 'llm_provider', defaultValue: 'openai' },
          ],
          'vexil codegen --lang ts -p shop',
        ),
      );
      const py = await app.inject({ url: '/admin/v1/projects/shop/codegen?lang=py', headers: reader });
      expect(py.body).toContain('    NEW_CHECKOUT = "new_checkout"');

      const bad = await app.inject({ url: '/admin/v1/projects/shop/codegen?lang=go' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toMatch(/lang/);
      expect((await app.inject({ url: '/admin/v1/projects/nope/codegen?lang=ts' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
