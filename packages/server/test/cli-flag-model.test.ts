import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '@vexil/store';
import { afterAll, describe, expect, it } from 'vitest';
import { callerName } from '../src/cli/caller.js';
import type {
  ContextEvaluationView,
  DoctorReport,
  EvaluationView,
  FlagView,
  RevisionView,
  SegmentRevisionView,
  SegmentView,
} from '../src/index.js';
import { CliHarness } from './cli-harness.js';

/** The `vexil` commands over the flag model (docs/flag-model.md), against a SQLite file. */
describe('vexil CLI: the flag model', () => {
  const cli = new CliHarness();
  afterAll(() => cli.cleanup());
  const p = ['-p', 'shop'];

  it('adds flags of the new types and parses values per type', async () => {
    const number = await cli.json<FlagView>('add-flag', 'max-items', ...p, '-t', 'number', '-d', 'a limit');
    expect([number.flagType, number.metadata.Type]).toEqual(['number', 'NUMBER']);
    await cli.json('add-flag', 'layout.v2', ...p, '-t', 'json');

    const limit = await cli.json<RevisionView>('add-revision', 'max-items', ...p, '-c', '10', '--treatment', '25:2.5');
    expect([limit.revision.ControlValue, limit.revision.Treatments[0]?.Value]).toEqual([10, 2.5]);
    const layout = await cli.json<RevisionView>(
      'add-revision',
      'layout.v2',
      ...p,
      '-c',
      '{"columns": 1}',
      '--treatment',
      '10:{"columns": 3, "sidebar": true}',
    );
    expect(layout.revision.ControlValue).toEqual({ columns: 1 });
    expect(layout.revision.Treatments[0]).toEqual({
      OverrideList: [],
      PercentRollout: 10,
      Value: { columns: 3, sidebar: true },
    });
    const evaluated = await cli.json<EvaluationView>('eval', 'layout.v2', ...p, '-i', 'u1');
    expect(evaluated.value).toEqual(expect.objectContaining({ columns: expect.any(Number) }));

    const notNumber = await cli.run('add-revision', 'max-items', ...p, '-c', 'ten');
    expect(notNumber.code).toBe(1);
    expect(notNumber.stderr).toContain('ControlValue must be a number for a number flag');
    const notJson = await cli.run('add-revision', 'layout.v2', ...p, '-c', '{columns: 1}');
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain('ControlValue must be a JSON object or array for a json flag');
    const segmentType = await cli.run('add-flag', 'beta', ...p, '-t', 'segment');
    expect(segmentType.code).toBe(1);
    expect(segmentType.stderr).toContain('vexil segment');
  });

  it('creates, updates, shows, lists and archives segments, and rolls them back', async () => {
    const created = await cli.json<SegmentView>(
      'segment',
      'create',
      'beta-testers',
      ...p,
      '-d',
      'early access',
      '--include',
      'A1,A2',
      '--exclude',
      'A9',
      '--condition',
      'email ends_with @example.com,@example.org',
      '--owner',
      'jane',
    );
    expect(created.latestRevision?.revision).toMatchObject({
      Included: ['A1', 'A2'],
      Excluded: ['A9'],
      Conditions: [{ Attribute: 'email', Operator: 'ends_with', Values: ['@example.com', '@example.org'] }],
      // Made by whoever ran the command, on behalf of jane.
      OwnerID: callerName(),
      OnBehalfOf: 'jane',
    });
    const updated = await cli.json<SegmentView>(
      'segment',
      'update',
      'beta-testers',
      ...p,
      '--condition',
      'plan in pro,enterprise and signup before 2026-01-01',
    );
    expect(updated.latestRevision?.revision).toMatchObject({
      Included: ['A1', 'A2'],
      Conditions: [
        { Attribute: 'plan', Operator: 'in', Values: ['pro', 'enterprise'] },
        { Attribute: 'signup', Operator: 'before', Values: ['2026-01-01'] },
      ],
    });
    const shown = await cli.run('segment', 'show', 'beta-testers', ...p);
    expect(shown.stdout).toContain(
      'audience:    2 included, 1 excluded, when plan in pro,enterprise and signup before 2026-01-01',
    );
    const listed = await cli.run('segment', 'list', ...p);
    expect(listed.stdout).toMatch(/beta-testers .* early access/);
    const history = await cli.json<SegmentRevisionView[]>('segment', 'history', 'beta-testers', ...p);
    expect(history).toHaveLength(2);

    const cleared = await cli.json<SegmentView>('segment', 'update', 'beta-testers', ...p, '--exclude', '');
    expect(cleared.latestRevision?.revision.Excluded).toEqual([]);

    const nested = await cli.run('segment', 'create', 'nested', ...p, '--condition', 'in_segment beta-testers');
    expect(nested.code).toBe(1);
    expect(nested.stderr).toContain('Conditions[0]');
    const empty = await cli.run('segment', 'create', 'nobody', ...p);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('a segment needs members');
  });

  it('adds a revision with --variant, --rule, --metadata and --disabled, shown back in the rule syntax', async () => {
    await cli.json('add-flag', 'boolean-flag', ...p, '-t', 'feature');
    const view = await cli.json<RevisionView>(
      'add-revision',
      'boolean-flag',
      ...p,
      '--variant',
      'on=true',
      '--variant',
      'off=false',
      '-c',
      'off',
      '--rule',
      'country in DE,FR and plan equals pro => on',
      '--rule',
      'in_segment beta-testers => 50%:on, 50%:off',
      '--metadata',
      'owner=team-checkout',
      '--metadata',
      'expires=2999-12-31',
      '--owner',
      'jane',
    );
    expect(view.revision).toMatchObject({
      FormatVersion: 2,
      Variants: { on: true, off: false },
      ControlValue: false,
      Rules: [
        {
          Conditions: [
            { Attribute: 'country', Operator: 'in', Values: ['DE', 'FR'] },
            { Attribute: 'plan', Operator: 'equals', Values: ['pro'] },
          ],
          Value: true,
        },
        {
          Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta-testers'] }],
          Split: [
            { Percent: 50, Value: true },
            { Percent: 50, Value: false },
          ],
        },
      ],
      Metadata: { owner: 'team-checkout', expires: '2999-12-31' },
    });
    const human = await cli.run('latest', 'boolean-flag', ...p);
    expect(human.stdout).toContain('rule 1:   country in DE,FR and plan equals pro => on');
    expect(human.stdout).toContain('rule 2:   in_segment beta-testers => 50%:on, 50%:off');
    expect(human.stdout).toContain('metadata: owner=team-checkout, expires=2999-12-31');

    const de = await cli.json<ContextEvaluationView>(
      'eval',
      'boolean-flag',
      ...p,
      '--attr',
      'country=DE',
      '--attr',
      'plan=pro',
    );
    expect(de).toMatchObject({ value: true, group: 'rule-1', reason: 'TARGETING_MATCH', variant: 'on' });
    const text = await cli.run('eval', 'boolean-flag', ...p, '--attr', 'country=US');
    expect(text.stdout).toContain('false (control, DEFAULT, variant off');

    // --metadata sets keys over the metadata in force; key= removes one.
    const next = await cli.json<RevisionView>(
      'add-revision',
      'boolean-flag',
      ...p,
      '-c',
      'false',
      '--metadata',
      'ticket=CHK-7',
      '--metadata',
      'expires=',
      '--disabled',
    );
    expect(next.revision.Metadata).toEqual({ owner: 'team-checkout', ticket: 'CHK-7' });
    expect(next.revision.Disabled).toBe(true);
    expect(next.revision).not.toHaveProperty('Rules');
  });

  it('refuses a rule naming a segment the project does not have, and writes nothing', async () => {
    const before = await cli.snapshot(['shop']);
    const result = await cli.run(
      'add-revision',
      'boolean-flag',
      ...p,
      '-c',
      'false',
      '--rule',
      'in_segment nobody => true',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Rules[0].Conditions[0].Values[0] names segment "nobody", which project shop does not have',
    );
    expect(result.stderr).toContain('hint: create it first: vexil segment create nobody -p shop');
    const syntax = await cli.run('add-revision', 'boolean-flag', ...p, '-c', 'false', '--rule', 'country in DE');
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toContain('expected "=>" between the conditions and the outcome');
    expect(await cli.snapshot(['shop'])).toEqual(before);
  });

  it('takes the rules in full with --rules-json, from the JSON itself or a file', async () => {
    const rules = [{ Conditions: [{ Attribute: 'age', Operator: 'gte', Values: [18] }], Value: true }];
    const inline = await cli.json<RevisionView>(
      'add-revision',
      'boolean-flag',
      ...p,
      '-c',
      'false',
      '--rules-json',
      JSON.stringify(rules),
    );
    expect(inline.revision.Rules).toEqual(rules);
    const file = join(cli.dir, 'rules.json');
    writeFileSync(file, JSON.stringify(rules));
    const fromFile = await cli.json<RevisionView>(
      'add-revision',
      'boolean-flag',
      ...p,
      '-c',
      'false',
      '--rules-json',
      file,
    );
    expect(fromFile.revision.Rules).toEqual(rules);
    const both = await cli.run(
      'add-revision',
      'boolean-flag',
      ...p,
      '-c',
      'false',
      '--rules-json',
      '[]',
      '--rule',
      '=> true',
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('not both');
    const adult = await cli.json<ContextEvaluationView>('eval', 'boolean-flag', ...p, '--attr', 'age:=21');
    expect(adult.value).toBe(true);
    const text = await cli.json<ContextEvaluationView>('eval', 'boolean-flag', ...p, '--attr', 'age=21');
    expect(text.value).toBe(false); // the string "21" is not the number 21
  });

  it('disables and enables a flag as new revisions, recording who did it', async () => {
    const disabled = await cli.json<RevisionView>(
      'disable',
      'boolean-flag',
      ...p,
      '--owner',
      'oncall',
      '--comment',
      'incident',
    );
    expect(disabled.revision).toMatchObject({
      Disabled: true,
      OwnerID: callerName(),
      OnBehalfOf: 'oncall',
      Comment: 'incident',
    });
    const again = await cli.run('disable', 'boolean-flag', ...p);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already disabled');
    const answered = await cli.json<ContextEvaluationView>('eval', 'boolean-flag', ...p, '--attr', 'age:=30');
    expect(answered).toMatchObject({ value: false, group: 'disabled', reason: 'DISABLED' });
    const enabled = await cli.json<RevisionView>('enable', 'boolean-flag', ...p);
    expect(enabled.revision).not.toHaveProperty('Disabled');
    expect(enabled.revision.Rules).toEqual(disabled.revision.Rules);
  });

  it('edits metadata with vexil metadata --set / --unset', async () => {
    const view = await cli.json<RevisionView>(
      'metadata',
      'boolean-flag',
      ...p,
      '--set',
      'expires=2020-01-31',
      '--unset',
      'ticket',
    );
    expect(view.revision.Metadata).toEqual({ owner: 'team-checkout', expires: '2020-01-31' });
    const bad = await cli.run('metadata', 'boolean-flag', ...p, '--set', 'expires=soon');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Metadata.expires');
  });

  it('vexil doctor reports flags past their expiry day and rules naming archived segments, and exits 1', async () => {
    await cli.json('add-revision', 'max-items', ...p, '-c', '10', '--rule', 'in_segment beta-testers => 20');
    expect((await cli.run('segment', 'archive', 'beta-testers', ...p)).code).toBe(0);
    const result = await cli.run('--json', 'doctor', ...p);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report.problems).toEqual([]);
    expect(report.expired).toEqual([
      expect.objectContaining({
        flagType: 'feature',
        name: 'boolean-flag',
        expires: '2020-01-31',
        owner: 'team-checkout',
      }),
    ]);
    expect(report.segmentReferences).toEqual([
      expect.objectContaining({ flagType: 'number', name: 'max-items', segment: 'beta-testers', state: 'archived' }),
    ]);
    const human = await cli.run('doctor', ...p);
    expect(human.stdout).toContain('1 flag is past its expiry day');
    expect(human.stdout).toMatch(/feature +boolean-flag +2020-01-31 +team-checkout/);
    expect(human.stdout).toMatch(/number +max-items +beta-testers +archived +Rules\[0\]\.Conditions\[0\]\.Values\[0\]/);
  });

  it('applies an Airflow config whose row_cell_value holds the new optional keys', async () => {
    const config = (kind: 'FLAG' | 'REVISION', cell: string) => {
      const file = join(cli.dir, `${kind}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          row_key_prefix_PROJECT: 'runbook',
          row_key_prefix_ROWTYPE: kind,
          row_key_prefix_FLAGTYPE: 'data',
          row_key_prefix_FLAGNAME: 'greeting',
          row_cell_value: cell,
          add_new_feature_flag: kind === 'FLAG',
        }),
      );
      return file;
    };
    const applied = await cli.run(
      'apply',
      config('FLAG', "{ 'Name': 'greeting', 'Type': 'DATA' }"),
      config(
        'REVISION',
        "{ 'Name': 'greeting', 'Type': 'DATA', 'FormatVersion': 2, 'ControlValue': None, 'Treatments': [], " +
          "'Variants': { 'hi': 'hello', 'yo': 'hey' }, 'Disabled': False, 'Metadata': { 'owner': 'team-a' }, " +
          "'Rules': [{ 'Conditions': [{ 'Attribute': 'country', 'Operator': 'equals', 'Values': ['US'] }], 'Value': 'hey' }] }",
      ),
    );
    expect(applied.code, applied.stderr).toBe(0);
    const latest = await cli.json<RevisionView>('latest', 'greeting', '-p', 'runbook');
    expect(latest.revision).toMatchObject({
      ControlValue: null,
      Variants: { hi: 'hello', yo: 'hey' },
      Disabled: false,
      Metadata: { owner: 'team-a' },
      Rules: [{ Conditions: [{ Attribute: 'country', Operator: 'equals', Values: ['US'] }], Value: 'hey' }],
    });
    expect(latest.revision).not.toHaveProperty('Salt');
    const us = await cli.json<ContextEvaluationView>('eval', 'greeting', '-p', 'runbook', '--attr', 'country=US');
    expect(us).toMatchObject({ value: 'hey', variant: 'yo' });
    // The row is what the config said, and who applied it (the config names no owner).
    const store = await openStore(cli.storeSpec);
    const [row] = await store.history('REVISION', { project: 'runbook', flagType: 'data', name: 'greeting' });
    await store.close();
    expect(Object.keys(row!.fields).sort()).toEqual(
      [
        'Name',
        'Type',
        'FormatVersion',
        'ControlValue',
        'Treatments',
        'Variants',
        'Disabled',
        'Metadata',
        'Rules',
        'CreatedTime',
        'OwnerID',
      ].sort(),
    );
  });
});
