import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebhookDelivery } from '../src/webhooks/webhook-records.js';
import { CliHarness } from './cli-harness.js';
import { type Receiver, startReceiver } from './support/webhook-receiver.js';

const SECRET = 'a-receiver-secret-for-the-cli';

describe('vexil webhook', () => {
  let cli: CliHarness;
  let hooks: Receiver;

  beforeEach(async () => {
    cli = new CliHarness();
    hooks = await startReceiver(SECRET);
    expect((await cli.run('add-flag', 'new_checkout', '-p', 'shop', '-t', 'feature')).code).toBe(0);
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    await hooks.close();
    cli.cleanup();
  });

  it('adds a webhook, and a change made with the CLI reaches the receiver signed before the command exits', async () => {
    const added = await cli.json<{ webhook: { id: string }; secret: string }>(
      'webhook',
      'add',
      hooks.url,
      '-p',
      'shop',
      '--secret',
      SECRET,
      '--event',
      'revision.created',
    );
    expect(added.secret).toBe(SECRET);
    const listed = await cli.run('webhook', 'list');
    expect(listed.stdout).toContain(added.webhook.id);
    expect(listed.stdout).toContain('project shop, revision.created');
    expect(listed.stdout).not.toContain(SECRET);

    const changed = await cli.run(
      'add-revision',
      'new_checkout',
      '-p',
      'shop',
      '-c',
      'false',
      '--treatment',
      '10:true',
    );
    expect(changed.code, changed.stderr).toBe(0);
    // The command has exited: its delivery was made.
    expect(hooks.received).toHaveLength(1);
    expect(hooks.received[0]!.refused).toBeUndefined();
    expect(hooks.received[0]!.payload).toMatchObject({
      event: 'revision.created',
      project: 'shop',
      flag: 'new_checkout',
    });

    const log = await cli.json<WebhookDelivery[]>('webhook', 'deliveries', '--webhook', added.webhook.id);
    expect(log).toMatchObject([{ status: 'delivered', event: 'revision.created', attempts: [{ status: 200 }] }]);
  });

  it('retries a failing receiver a few times, then warns on stderr; the change is kept and the command succeeds', async () => {
    hooks.answers.push(500, 500, 500);
    expect((await cli.run('add-revision', 'new_checkout', '-p', 'shop', '-c', 'true')).code).toBe(0);
    await cli.json('webhook', 'add', hooks.url, '--secret', SECRET);
    const changed = await cli.run('disable', 'new_checkout', '-p', 'shop');
    expect(changed.code, changed.stderr).toBe(0);
    expect(hooks.received).toHaveLength(3);
    expect(changed.stderr).toMatch(
      /warning: webhook wh_\S+ \(http:\/\/127\.0\.0\.1:\d+\/hooks\/vexil\) did not take flag\.disabled of new_checkout: HTTP 500 \(3 attempts/,
    );
    const latest = await cli.json<{ revision: { Disabled?: boolean } }>('latest', 'new_checkout', '-p', 'shop');
    expect(latest.revision.Disabled).toBe(true);
    const [failed] = await cli.json<WebhookDelivery[]>('webhook', 'deliveries', '--status', 'failed');
    expect(failed!.attempts.map((a) => a.status)).toEqual([500, 500, 500]);
  });

  it('pings a webhook, removes it, and refuses a bad URL naming it', async () => {
    const added = await cli.json<{ webhook: { id: string } }>('webhook', 'add', hooks.url, '--secret', SECRET);
    const ping = await cli.run('webhook', 'ping', added.webhook.id);
    expect(ping.code).toBe(0);
    expect(ping.stdout).toMatch(/delivered .* ping/);
    expect(hooks.received.map((r) => r.payload?.event)).toEqual(['ping']);
    expect((await cli.run('webhook', 'remove', added.webhook.id)).stdout).toContain(`removed ${added.webhook.id}`);
    expect((await cli.run('webhook', 'list')).stdout.trim()).toBe('no webhooks');
    const audit = await cli.run('audit');
    expect(audit.stdout).toMatch(new RegExp(`webhook-remove\\s+${added.webhook.id}`));
    expect(audit.stdout).toMatch(new RegExp(`webhook-add\\s+${added.webhook.id}`));

    const bad = await cli.run('webhook', 'add', 'file:///etc/passwd');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/url must use http or https, not file/);
    expect((await cli.run('webhook', 'remove', 'wh_nope')).stderr).toMatch(/no webhook wh_nope/);
  });

  it('sends to VEXIL_WEBHOOKS too; a bad VEXIL_WEBHOOKS stops no reading command and only warns on a change', async () => {
    vi.stubEnv('VEXIL_WEBHOOKS', JSON.stringify([{ url: hooks.url, secret: SECRET }]));
    expect((await cli.run('add-revision', 'new_checkout', '-p', 'shop', '-c', 'true')).code).toBe(0);
    expect(hooks.received.map((r) => [r.refused, r.payload?.event])).toEqual([[undefined, 'revision.created']]);
    expect((await cli.run('webhook', 'list')).stdout).toMatch(
      /^env-1 {2}http:\/\/127\.0\.0\.1:\d+\/hooks\/vexil {2}every project, every event {2}\(VEXIL_WEBHOOKS\)$/m,
    );

    vi.stubEnv('VEXIL_WEBHOOKS', '[{"url":"https://h.example/"}]');
    const listed = await cli.run('list', '-p', 'shop');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toBe('');
    const changed = await cli.run('disable', 'new_checkout', '-p', 'shop');
    expect(changed.code).toBe(0);
    expect(changed.stderr).toMatch(
      /warning: webhooks: cannot read the webhooks; this change is not sent: VEXIL_WEBHOOKS\[0\]\.secret is required/,
    );
    const refused = await cli.run('webhook', 'list');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/VEXIL_WEBHOOKS\[0\]\.secret is required/);
  });
});
