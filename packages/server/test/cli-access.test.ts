import { userInfo } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../src/access/audit.js';
import type { TokenView } from '../src/access/tokens.js';
import { CliHarness } from './cli-harness.js';

describe('vexil token, project set and audit', () => {
  const cli = new CliHarness();
  afterAll(() => cli.cleanup());
  const me = userInfo().username;

  it('creates a token once with its secret, lists tokens without secrets, revokes by id', async () => {
    await cli.run('add-flag', 'new_checkout', '-p', 'shop', '-t', 'feature');
    const created = await cli.json<{ secret: string; token: TokenView }>(
      'token',
      'create',
      '--scope',
      'write',
      '-p',
      'shop',
      '--owner',
      'release-bot',
    );
    expect(created.secret).toMatch(/^vexil_[A-Za-z0-9_-]{43}$/);
    expect(created.token).toMatchObject({ scope: 'write', projects: ['shop'], owner: 'release-bot', createdBy: me });
    const listed = await cli.run('token', 'list');
    expect(listed.stdout).toContain(created.token.id);
    expect(listed.stdout).not.toContain(created.secret);
    const revoked = await cli.json<TokenView>('token', 'revoke', created.token.id);
    expect(revoked.revokedTime).toMatch(/^\d{4}-/);

    const refused = await cli.run('token', 'create', '--scope', 'read', '--owner', 'x');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('needs at least one project');
    expect((await cli.run('token', 'revoke', 'tok_nosuchtoken')).stderr).toContain('no token tok_nosuchtoken');
  });

  it('sets a project public or not, and the audit lists every change with who made it', async () => {
    const settings = await cli.json<{ publicEvaluation: boolean }>(
      'project',
      'set',
      'shop',
      '--public-evaluation',
      'on',
    );
    expect(settings.publicEvaluation).toBe(true);
    expect((await cli.run('project', 'set', 'nowhere', '--public-evaluation', 'on')).code).toBe(1);

    const audit = await cli.json<AuditEntry[]>('audit', '-p', 'shop');
    expect(audit.map((e) => e.action)).toEqual(['settings', 'token-revoke', 'token-create', 'add', 'settings']);
    // The first flag of a new project written by Vexil turned public evaluation off; the user turned it on.
    expect(audit.filter((e) => e.action === 'settings').map((e) => e.detail)).toEqual([
      'publicEvaluation on',
      'publicEvaluation off',
    ]);
    expect(audit.every((e) => e.actor === me)).toBe(true);
    expect(audit.find((e) => e.action === 'add')).toMatchObject({
      project: 'shop',
      flagType: 'feature',
      name: 'new_checkout',
    });
    expect((await cli.run('audit', '--since', 'soon')).code).toBe(1);
  });
});
