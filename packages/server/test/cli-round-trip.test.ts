import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { openStore } from '@vexil/store';
import { afterAll, describe, expect, it } from 'vitest';
import { callerName } from '../src/cli/caller.js';
import type { EvaluationView, FlagView, RevisionView } from '../src/index.js';
import { CliHarness } from './cli-harness.js';

/** The runbook document's sample configs, kept as the repository's example. */
const dag = (file: string) => fileURLToPath(new URL(`../../../examples/runbook-dag/${file}`, import.meta.url));
const flagArgs = ['multi_step_api_router', '-p', 'csr-assistant', '-t', 'feature'];

/** The runbook system's rule for an unsalted md5 revision, the slow obvious way. */
function runbookInRollout(id: string, percent: number): boolean {
  const h = BigInt(`0x${createHash('md5').update(id, 'utf8').digest('hex')}`);
  return h * 100n < BigInt(percent) << 128n;
}

describe('vexil CLI round trip over the runbook sample configs', () => {
  const cli = new CliHarness();
  afterAll(() => cli.cleanup());

  it('applies both sample configs exactly as the DAG wrote them (no Salt), then lists and shows history', async () => {
    const applied = await cli.run('apply', dag('01-add-flag.json'), dag('02-add-revision.json'));
    expect(applied.code, applied.stderr).toBe(0);
    // SQLite batches are atomic: no note about writing one row at a time.
    expect(applied.stderr).not.toContain('atomic');
    expect(applied.stdout).toMatch(
      /FLAG +PROJECT#csr-assistant#ROWTYPE#FLAG#FLAGTYPE#feature#FLAGNAME#multi_step_api_router#WTIME#\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}/,
    );
    expect(applied.stdout).toContain(
      'PROJECT#csr-assistant#ROWTYPE#REVISION#FLAGTYPE#feature#FLAGNAME#multi_step_api_router#WTIME#',
    );

    const flags = await cli.json<FlagView[]>('list', '-p', 'csr-assistant');
    expect(flags.map((f) => [f.flagType, f.name, f.metadata.Description])).toEqual([
      ['feature', 'multi_step_api_router', 'Enable multi step API router'],
    ]);

    const latest = await cli.json<RevisionView>('latest', ...flagArgs);
    expect(latest.revision).toEqual({
      Name: 'multi_step_api_router',
      Type: 'FEATURE',
      FormatVersion: 1,
      ControlValue: false,
      Comment: 'Rollout to 40%',
      // Applied by whoever ran vexil apply, on behalf of John Smith whom the config names.
      OwnerID: callerName(),
      OnBehalfOf: 'John Smith',
      Treatments: [{ OverrideList: ['A12345'], PercentRollout: 40, Value: true }],
      CreatedTime: latest.wtime,
    });

    const withRevision = await cli.run('list', '-p', 'csr-assistant', '--with-revision');
    expect(withRevision.stdout).toContain('40% → true (+1 override), else false');

    const history = await cli.json<RevisionView[]>('history', ...flagArgs);
    expect(history).toHaveLength(1);
  });

  it('evaluates the unsalted revision exactly as the runbook system did', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `A${100000 + i * 37}`);
    for (const id of ids) {
      const view = await cli.json<EvaluationView>('eval', ...flagArgs, '-i', id);
      const expected = runbookInRollout(id, 40);
      expect([view.value, view.group]).toEqual(expected ? [true, 'treatment'] : [false, 'control']);
    }
    const override = await cli.json<EvaluationView>('eval', ...flagArgs, '-i', 'A12345');
    expect([override.value, override.group]).toEqual([true, 'override']);
  });

  it('adds a revision salted with the flag name, rolls back to the previous one, and archives', async () => {
    const [first] = await cli.json<RevisionView[]>('history', ...flagArgs);
    const added = await cli.json<RevisionView>(
      'add-revision',
      ...flagArgs,
      '--control',
      'false',
      '--treatment',
      '60:true:A12345,B777',
      '--comment',
      'Rollout to 60%',
      '--owner',
      'jane',
    );
    expect(added.revision.Salt).toBe('multi_step_api_router');
    expect(added.revision.Treatments).toEqual([{ OverrideList: ['A12345', 'B777'], PercentRollout: 60, Value: true }]);
    expect(added.wtime > first!.wtime).toBe(true);

    const rolledBack = await cli.json<RevisionView>('rollback', ...flagArgs, '--owner', 'jane');
    expect(rolledBack.revision.RollbackOf).toBe(first!.wtime);
    expect(rolledBack.revision.Treatments).toEqual(first!.revision.Treatments);
    expect(rolledBack.revision.Salt).toBeUndefined();
    expect(rolledBack.revision.Comment).toBe(`Rollback to ${first!.wtime} (Rollout to 40%)`);

    const history = await cli.json<RevisionView[]>('history', ...flagArgs);
    expect(history.map((h) => h.wtime)).toEqual([rolledBack.wtime, added.wtime, first!.wtime]);

    const toAdded = await cli.json<RevisionView>('rollback', ...flagArgs, '--to', added.wtime);
    expect(toAdded.revision.RollbackOf).toBe(added.wtime);
    expect(toAdded.revision.Salt).toBe('multi_step_api_router');
    const b777 = await cli.json<EvaluationView>('eval', ...flagArgs, '-i', 'B777');
    expect([b777.value, b777.group, b777.revision]).toEqual([true, 'override', toAdded.wtime]);

    const archived = await cli.run('archive', ...flagArgs, '--comment', 'done with it');
    expect(archived.code, archived.stderr).toBe(0);
    const afterArchive = await cli.run('eval', ...flagArgs, '-i', 'B777');
    expect(afterArchive.code).toBe(1);
    expect(afterArchive.stderr).toContain('No Flag Data found: flag multi_step_api_router is archived');
    expect(await cli.json<FlagView[]>('list', '-p', 'csr-assistant')).toEqual([]);
    const all = await cli.json<FlagView[]>('list', '-p', 'csr-assistant', '--all');
    expect(all.map((f) => [f.name, f.archived])).toEqual([['multi_step_api_router', true]]);
    expect(await cli.json<RevisionView[]>('history', ...flagArgs)).toHaveLength(5);

    // Rolling back un-archives: the revision before the archive is republished.
    const restored = await cli.json<RevisionView>('rollback', ...flagArgs);
    expect(restored.revision.Archived).toBeUndefined();
    const again = await cli.json<EvaluationView>('eval', ...flagArgs, '-i', 'B777');
    expect(again.value).toBe(true);
  });

  it('finds the flag type by name when -t is omitted', async () => {
    const view = await cli.json<RevisionView>('latest', 'multi_step_api_router', '-p', 'csr-assistant');
    expect(view.flagType).toBe('feature');
  });

  it('adds and updates a data flag and reads its metadata', async () => {
    const args = ['llm_provider', '-p', 'csr-assistant', '-t', 'data'];
    expect((await cli.run('add-flag', ...args, '-d', 'LLM provider')).code).toBe(0);
    const updated = await cli.json<FlagView>('update-flag', ...args, '-d', 'Which LLM answers');
    expect(updated.metadata.Description).toBe('Which LLM answers');
    await cli.json(
      'add-revision',
      ...args,
      '--control',
      'openai',
      '--treatment',
      '{"PercentRollout": 25, "Value": "gpt-4o:mini", "OverrideList": []}',
    );
    const flag = await cli.json<FlagView>('get-flag', ...args);
    expect(flag.metadata.Description).toBe('Which LLM answers');
    expect(flag.latestRevision?.revision.Treatments[0]?.Value).toBe('gpt-4o:mini');
    const human = await cli.run('get-flag', ...args);
    expect(human.stdout).toContain('25% → "gpt-4o:mini", else "openai"');
  });
});

describe('vexil doctor', () => {
  const cli = new CliHarness();
  afterAll(() => cli.cleanup());

  it('lists the rows that do not validate with their keys, and exits 1', async () => {
    expect((await cli.run('demo')).code).toBe(0);
    expect(await cli.run('doctor', '-p', 'demo')).toMatchObject({ code: 0 });
    expect((await cli.run('doctor', '-p', 'demo')).stdout).toMatch(/checked \d+ rows of project demo: all valid/);

    // Rows written by another tool, bypassing validation: a bad percentage and a wrong value type.
    const store = await openStore(cli.storeSpec);
    const ref = { project: 'demo', flagType: 'feature' as const, name: 'legacy' };
    await store.append([
      { kind: 'FLAG', ref, fields: { Name: 'legacy', Type: 'FEATURE' } },
      { kind: 'REVISION', ref, fields: { Name: 'legacy', Type: 'FEATURE', ControlValue: 'False', Treatments: [] } },
      {
        kind: 'REVISION',
        ref,
        fields: {
          Name: 'legacy',
          Type: 'FEATURE',
          ControlValue: false,
          Treatments: [{ OverrideList: [], PercentRollout: 140, Value: true }],
        },
      },
    ]);
    await store.close();

    const report = await cli.run('--json', 'doctor', '-p', 'demo');
    expect(report.code).toBe(1);
    const { problems } = JSON.parse(report.stdout) as { problems: { key: string; error: string; field: string }[] };
    expect(problems.map((p) => [p.error, p.field])).toEqual([
      ['ValidationError', 'ControlValue'],
      ['InvalidRolloutPercentageException', 'Treatments[0].PercentRollout'],
    ]);
    expect(problems[0]?.key).toMatch(/^PROJECT#demo#ROWTYPE#REVISION#FLAGTYPE#feature#FLAGNAME#legacy#WTIME#/);
    const human = await cli.run('doctor', '-p', 'demo');
    expect(human.stdout).toContain('2 do not validate');
    expect(human.stdout).toContain('400 InvalidRolloutPercentageException');
  });
});
