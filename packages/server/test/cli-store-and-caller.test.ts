import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RevisionView } from '../src/index.js';
import { CliHarness } from './cli-harness.js';
import { cliPath } from './support/vexil-process.js';

/** Runs the built `vexil` in `cwd` with VEXIL_STORE unset, as a new user would from some folder. */
function vexilIn(cwd: string, args: string[]) {
  const env = { ...process.env };
  delete env.VEXIL_STORE;
  delete env.VEXIL_PROJECT;
  const result = spawnSync(process.execPath, [cliPath, ...args], { cwd, env, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('vexil names the store it uses and the projects it holds', () => {
  const cli = new CliHarness();
  const dbFile = cli.storeSpec.slice('sqlite:'.length);
  afterAll(() => cli.cleanup());

  it('creates a missing SQLite file only when adding a flag, and says so on stderr', async () => {
    expect(existsSync(dbFile)).toBe(false);
    const listed = await cli.run('list', '-p', 'shop');
    expect(listed.code).toBe(1);
    expect(listed.stderr).toBe(
      `error: no Vexil store at ${dbFile} (${cli.storeSpec}): nothing to read, and this command creates none [field: VEXIL_STORE]\n` +
        'hint: choose the store with --store or VEXIL_STORE (sqlite:PATH, postgres://…, bigtable), run from the folder that holds it, or create one with vexil add-flag or vexil demo\n',
    );
    expect(existsSync(dbFile)).toBe(false);

    const added = await cli.run('add-flag', 'new_checkout', '-p', 'shop', '-t', 'feature');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toBe(`created new store at ${dbFile} (${cli.storeSpec})\n`);
    expect(existsSync(dbFile)).toBe(true);
    const again = await cli.run('add-flag', 'other_flag', '-p', 'shop', '-t', 'feature');
    expect(again).toMatchObject({ code: 0, stderr: '' });
  });

  it('says a project does not exist, naming the store and the known projects (list, doctor, a flag command)', async () => {
    await cli.run('add-flag', 'llm_provider', '-p', 'billing', '-t', 'data');
    const expected =
      `error: project nope does not exist in ${dbFile} (${cli.storeSpec}); known projects: billing, shop [field: project_name]\n` +
      'hint: check the name, or create the project by adding its first flag: vexil add-flag NAME -p nope -t feature\n';
    for (const args of [
      ['list', '-p', 'nope'],
      ['doctor', '-p', 'nope'],
      ['latest', 'new_checkout', '-p', 'nope'],
      ['get-flag', 'new_checkout', '-p', 'nope', '-t', 'feature'],
    ]) {
      const result = await cli.run(...args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(expected);
    }
    // An existing project with flags still lists them.
    expect((await cli.run('list', '-p', 'shop')).stdout).toContain('new_checkout');
  });

  it('run from a folder without a store (VEXIL_STORE unset), a read names the default path and creates nothing', () => {
    const folder = mkdtempSync(join(tmpdir(), 'vexil-cwd-'));
    try {
      const result = vexilIn(folder, ['list', '-p', 'demo']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `error: no Vexil store at ${join(folder, 'vexil.db')} (sqlite:./vexil.db, the default)`,
      );
      expect(result.stderr).toContain('choose the store with --store or VEXIL_STORE');
      expect(existsSync(join(folder, 'vexil.db'))).toBe(false);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('rollback and archive record who ran them, never the copied revision’s owner', () => {
  const cli = new CliHarness();
  const flag = ['new_checkout', '-p', 'shop', '-t', 'feature'];
  afterAll(() => cli.cleanup());

  it('records the OS user as OwnerID always, and --owner, when given, as OnBehalfOf', async () => {
    await cli.run('add-flag', ...flag);
    await cli.json('add-revision', ...flag, '-c', 'false', '--owner', 'jane');
    await cli.json('add-revision', ...flag, '-c', 'true', '--owner', 'jane');
    const me = userInfo().username;
    expect(me).not.toBe('jane');

    const rolledBack = await cli.json<RevisionView>('rollback', ...flag);
    expect(rolledBack.revision.OwnerID).toBe(me);
    expect(rolledBack.revision).not.toHaveProperty('OnBehalfOf');
    expect(rolledBack.revision.RollbackOf).toEqual(expect.any(String));
    const archived = await cli.json<RevisionView>('archive', ...flag);
    expect(archived.revision.OwnerID).toBe(me);
    const restored = await cli.json<RevisionView>('rollback', ...flag, '--owner', 'bob');
    expect(restored.revision).toMatchObject({ OwnerID: me, OnBehalfOf: 'bob' });
    const archivedByBob = await cli.json<RevisionView>('archive', ...flag, '--owner', 'bob');
    expect(archivedByBob.revision).toMatchObject({ OwnerID: me, OnBehalfOf: 'bob' });
    // A CLI command records no address and no token: it ran on the store directly.
    expect(archivedByBob.revision).not.toHaveProperty('ActorAddress');
    expect(archivedByBob.revision).not.toHaveProperty('TokenID');
  });
});
