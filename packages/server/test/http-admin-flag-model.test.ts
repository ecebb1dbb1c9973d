import { MemoryStore, type StoredRow } from '@vexil/store';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type {
  ContextEvaluationView,
  DoctorReport,
  EvaluationView,
  FlagView,
  RevisionView,
  SegmentRevisionView,
  SegmentView,
} from '../src/index.js';
import { buildTestApp, TEST_ACTOR } from './support/test-token.js';

/**
 * The admin API over the flag model (docs/flag-model.md): flags of every type,
 * revisions with variants, rules, the kill switch, metadata and null values,
 * segments with their history, and the refusals that name the field at fault.
 */
const API = '/admin/v1';
const PROJECT = 'shop';
const project = `${API}/projects/${PROJECT}`;

interface ErrorBody {
  error: string;
  status: number;
  message: string;
  field?: string;
  hint?: string;
}

async function call<T>(app: FastifyInstance, status: number, options: InjectOptions): Promise<T> {
  const response = await app.inject(options);
  expect(response.statusCode, response.body).toBe(status);
  return response.json() as T;
}

const post = (url: string, payload: unknown): InjectOptions => ({ method: 'POST', url, payload: payload as object });

describe('admin API: flags of the flag model', () => {
  let app: FastifyInstance;
  let store: MemoryStore;
  const rows = async (): Promise<StoredRow[]> => store.scanProject(PROJECT);

  beforeAll(async () => {
    store = new MemoryStore();
    app = await buildTestApp({ config: loadConfig({ VEXIL_STORE: 'memory:' }), store, defaultMetrics: false });
  });
  afterAll(async () => {
    await app.close();
  });

  it('adds flags of every type, with names holding - and .', async () => {
    for (const [name, type] of [
      ['boolean-flag', 'feature'],
      ['greeting.text', 'data'],
      ['max-items', 'number'],
      ['layout.v2', 'json'],
    ] as const) {
      const view = await call<FlagView>(
        app,
        201,
        post(`${project}/flags`, { name, type, description: `a ${type} flag` }),
      );
      expect([view.flagType, view.name, view.metadata.Type]).toEqual([type, name, type.toUpperCase()]);
    }
    const listed = await call<FlagView[]>(app, 200, { url: `${project}/flags` });
    expect(listed.map((flag) => `${flag.flagType}/${flag.name}`)).toEqual([
      'data/greeting.text',
      'feature/boolean-flag',
      'json/layout.v2',
      'number/max-items',
    ]);
  });

  it('refuses a segment asked for as a flag type, pointing to the segment routes', async () => {
    const body = await call<ErrorBody>(app, 400, post(`${project}/flags`, { name: 'beta', type: 'segment' }));
    expect(body).toMatchObject({ error: 'InvalidFlagTypeException', field: 'flag_type' });
    expect(body.hint).toContain('/segments');
  });

  it('writes a revision with variants, values of the flag type, null and metadata, at FormatVersion 2', async () => {
    const view = await call<RevisionView>(
      app,
      201,
      post(`${project}/flags/json/layout.v2/revisions`, {
        Variants: { single: { columns: 1 }, wide: { columns: 3, sidebar: [true, null] } },
        ControlValue: { columns: 1 },
        Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 10, Value: { columns: 3, sidebar: [true, null] } }],
        Metadata: { owner: 'team-checkout', ticket: 'https://jira.example.com/CHK-1', expires: '2999-12-31' },
        OwnerID: 'jane',
      }),
    );
    expect(view.revision).toEqual({
      Name: 'layout.v2',
      Type: 'JSON',
      FormatVersion: 2,
      ControlValue: { columns: 1 },
      Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 10, Value: { columns: 3, sidebar: [true, null] } }],
      Variants: { single: { columns: 1 }, wide: { columns: 3, sidebar: [true, null] } },
      Metadata: { owner: 'team-checkout', ticket: 'https://jira.example.com/CHK-1', expires: '2999-12-31' },
      ...TEST_ACTOR,
      OnBehalfOf: 'jane',
      Salt: 'layout.v2',
      CreatedTime: view.wtime,
    });
    const numeric = await call<RevisionView>(
      app,
      201,
      post(`${project}/flags/number/max-items/revisions`, {
        ControlValue: null,
        Treatments: [{ PercentRollout: 50, Value: 2.5 }],
      }),
    );
    expect([numeric.revision.ControlValue, numeric.revision.FormatVersion]).toEqual([null, 2]);
    // The runbook format stays FormatVersion 1.
    await call(app, 201, post(`${project}/flags/feature/boolean-flag/revisions`, { ControlValue: false }));
    const plain = await call<RevisionView>(
      app,
      201,
      post(`${project}/flags/data/greeting.text/revisions`, { ControlValue: 'hello', Salt: null }),
    );
    expect(plain.revision.FormatVersion).toBe(2); // a name with "." is the flag model's
  });

  it('writes a revision as given: without Metadata it has none (POST …/metadata changes the keys alone)', async () => {
    const view = await call<RevisionView>(
      app,
      201,
      post(`${project}/flags/json/layout.v2/revisions`, {
        ControlValue: { columns: 2 },
        Metadata: { owner: 'team-checkout', ticket: 'https://jira.example.com/CHK-1', expires: '2999-12-31' },
      }),
    );
    expect(view.revision.Metadata).toEqual({
      owner: 'team-checkout',
      ticket: 'https://jira.example.com/CHK-1',
      expires: '2999-12-31',
    });
    const bare = await call<RevisionView>(
      app,
      201,
      post(`${project}/flags/number/max-items/revisions`, { ControlValue: 3 }),
    );
    expect(bare.revision).not.toHaveProperty('Metadata');
    expect(bare.revision.FormatVersion).toBe(2); // a name with "-" is the flag model's
  });

  it('evaluates a number flag and a json flag for an instance id', async () => {
    const view = await call<EvaluationView>(app, 200, {
      url: `${project}/flags/json/layout.v2/evaluate?instance_id=qa-1`,
    });
    expect(view).toMatchObject({ value: { columns: 2 }, group: 'control' });
    const number = await call<EvaluationView>(app, 200, {
      url: `${project}/flags/number/max-items/evaluate?instance_id=u1`,
    });
    expect(number.value).toBe(3);
  });

  describe('segments', () => {
    let created: SegmentView;

    it('creates a segment with ids and conditions, and lists it apart from the flags', async () => {
      created = await call<SegmentView>(
        app,
        201,
        post(`${project}/segments`, {
          name: 'beta-testers',
          description: 'early access',
          Included: ['A1'],
          Excluded: ['A9'],
          Conditions: [{ Attribute: 'email', Operator: 'ends_with', Values: ['@example.com'] }],
          OwnerID: 'jane',
        }),
      );
      expect(created).toMatchObject({
        project: PROJECT,
        name: 'beta-testers',
        description: 'early access',
        archived: false,
      });
      expect(created.latestRevision?.revision).toEqual({
        Name: 'beta-testers',
        Type: 'SEGMENT',
        FormatVersion: 2,
        Included: ['A1'],
        Excluded: ['A9'],
        Conditions: [{ Attribute: 'email', Operator: 'ends_with', Values: ['@example.com'] }],
        ...TEST_ACTOR,
        OnBehalfOf: 'jane',
        CreatedTime: created.latestRevision?.wtime,
      });
      const segments = await call<SegmentView[]>(app, 200, { url: `${project}/segments` });
      expect(segments.map((s) => s.name)).toEqual(['beta-testers']);
      const flags = await call<FlagView[]>(app, 200, { url: `${project}/flags` });
      expect(flags.map((f) => f.name)).not.toContain('beta-testers');
      expect(
        await call(app, 409, post(`${project}/segments`, { name: 'beta-testers', Included: ['x'] })),
      ).toMatchObject({
        error: 'FlagExists',
        field: 'segment_name',
      });
    });

    it('refuses a segment whose conditions name segments, naming the field, and writes nothing', async () => {
      const before = await rows();
      const body = await call<ErrorBody>(
        app,
        400,
        post(`${project}/segments`, {
          name: 'nested',
          Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta-testers'] }],
        }),
      );
      expect(body.field).toBe('Conditions[0].Operator');
      expect(await rows()).toEqual(before);
    });

    it('changes a segment as a new revision (given parts replace), then shows its history and one revision', async () => {
      const changed = await call<SegmentRevisionView>(
        app,
        201,
        post(`${project}/segments/beta-testers/revisions`, { Included: ['A1', 'A2'], Comment: 'two testers' }),
      );
      expect(changed.revision).toMatchObject({
        Included: ['A1', 'A2'],
        Excluded: ['A9'],
        Conditions: [{ Attribute: 'email', Operator: 'ends_with', Values: ['@example.com'] }],
        Comment: 'two testers',
      });
      const history = await call<SegmentRevisionView[]>(app, 200, {
        url: `${project}/segments/beta-testers/revisions`,
      });
      expect(history.map((r) => r.wtime)).toEqual([changed.wtime, created.latestRevision!.wtime]);
      expect(await call(app, 200, { url: `${project}/segments/beta-testers/revisions/latest` })).toEqual(changed);
      expect(
        await call(app, 200, {
          url: `${project}/segments/beta-testers/revisions/${encodeURIComponent(created.latestRevision!.wtime)}`,
        }),
      ).toEqual(created.latestRevision);
      const described = await call<SegmentView>(app, 200, {
        method: 'PATCH',
        url: `${project}/segments/beta-testers`,
        payload: { description: 'testers of the new checkout' },
      });
      expect(described.description).toBe('testers of the new checkout');
      expect(described.latestRevision).toEqual(changed);
    });

    it('accepts rules naming the segment, and evaluates them for a context', async () => {
      const view = await call<RevisionView>(
        app,
        201,
        post(`${project}/flags/feature/boolean-flag/revisions`, {
          Variants: { on: true, off: false },
          ControlValue: false,
          Rules: [
            {
              Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta-testers'] }],
              Value: true,
            },
            { Conditions: [{ Attribute: 'country', Operator: 'in', Values: ['DE', 'FR'] }], Value: true },
          ],
        }),
      );
      expect(view.revision.Rules).toHaveLength(2);
      const evaluate = (context: unknown) =>
        call<ContextEvaluationView>(app, 200, post(`${project}/flags/feature/boolean-flag/evaluate`, { context }));
      expect(await evaluate({ targetingKey: 'A2' })).toMatchObject({
        value: true,
        group: 'rule-1',
        reason: 'TARGETING_MATCH',
        variant: 'on',
      });
      expect(await evaluate({ targetingKey: 'x', email: 'kim@example.com' })).toMatchObject({
        value: true,
        group: 'rule-1',
      });
      expect(await evaluate({ targetingKey: 'A9', email: 'kim@example.com' })).toMatchObject({
        value: false,
        group: 'control',
      });
      expect(await evaluate({ country: 'FR' })).toMatchObject({ value: true, group: 'rule-2', variant: 'on' });
      expect(await evaluate({ country: 'US' })).toMatchObject({ value: false, reason: 'DEFAULT', variant: 'off' });
      // An instance id is the context {targetingKey}: the segment's ids match.
      const byId = await call<EvaluationView>(app, 200, {
        url: `${project}/flags/feature/boolean-flag/evaluate?instance_id=A1`,
      });
      expect([byId.value, byId.group]).toEqual([true, 'rule-1']);
    });

    it('refuses a rule naming a segment the project does not have, naming the segment and the field', async () => {
      const before = await rows();
      const body = await call<ErrorBody>(
        app,
        400,
        post(`${project}/flags/feature/boolean-flag/revisions`, {
          ControlValue: false,
          Rules: [
            { Conditions: [{ Attribute: 'country', Operator: 'equals', Values: ['DE'] }], Value: true },
            {
              Conditions: [{ Attribute: 'targetingKey', Operator: 'in_segment', Values: ['beta-testers', 'gamma'] }],
              Value: true,
            },
          ],
        }),
      );
      expect(body).toMatchObject({ error: 'InvalidInput', field: 'Rules[1].Conditions[0].Values[1]' });
      expect(body.message).toContain('segment "gamma", which project shop does not have');
      expect(await rows()).toEqual(before);
    });

    it('archives a segment (rules naming it stop matching, new ones are refused) and rolls it back', async () => {
      const archived = await call<SegmentRevisionView>(app, 201, post(`${project}/segments/beta-testers/archive`, {}));
      expect(archived.revision).toMatchObject({ Archived: true, ...TEST_ACTOR });
      expect(await call<SegmentView[]>(app, 200, { url: `${project}/segments` })).toEqual([]);
      const evaluated = await call<ContextEvaluationView>(
        app,
        200,
        post(`${project}/flags/feature/boolean-flag/evaluate`, { context: { targetingKey: 'A1' } }),
      );
      expect(evaluated.value).toBe(false);
      const refused = await call<ErrorBody>(
        app,
        400,
        post(`${project}/flags/feature/boolean-flag/revisions`, {
          ControlValue: false,
          Rules: [
            {
              Conditions: [{ Attribute: 'targetingKey', Operator: 'not_in_segment', Values: ['beta-testers'] }],
              Value: true,
            },
          ],
        }),
      );
      expect(refused.message).toContain('segment "beta-testers", which is archived');
      const report = await call<DoctorReport>(app, 200, { url: `${project}/doctor` });
      expect(report.segmentReferences).toEqual([
        expect.objectContaining({
          name: 'boolean-flag',
          segment: 'beta-testers',
          state: 'archived',
          field: 'Rules[0].Conditions[0].Values[0]',
        }),
      ]);

      const restored = await call<SegmentRevisionView>(app, 201, post(`${project}/segments/beta-testers/rollback`, {}));
      expect(restored.revision).not.toHaveProperty('Archived');
      expect(restored.revision.RollbackOf).toBeDefined();
      expect((await call<DoctorReport>(app, 200, { url: `${project}/doctor` })).segmentReferences).toBeUndefined();
    });
  });

  describe('kill switch', () => {
    it('disables a flag as a new revision owned by the caller, answering its control value with reason DISABLED', async () => {
      const disabled = await call<RevisionView>(
        app,
        201,
        post(`${project}/flags/feature/boolean-flag/disable`, { OwnerID: 'oncall', Comment: 'incident 42' }),
      );
      expect(disabled.revision).toMatchObject({
        Disabled: true,
        ...TEST_ACTOR,
        OnBehalfOf: 'oncall',
        Comment: 'incident 42',
        FormatVersion: 2,
      });
      expect(disabled.revision.Rules).toHaveLength(2);
      const evaluated = await call<ContextEvaluationView>(
        app,
        200,
        post(`${project}/flags/feature/boolean-flag/evaluate`, { context: { country: 'FR' } }),
      );
      expect(evaluated).toMatchObject({ value: false, group: 'disabled', reason: 'DISABLED' });
      expect(await call(app, 400, post(`${project}/flags/feature/boolean-flag/disable`, {}))).toMatchObject({
        field: 'Disabled',
        message: expect.stringContaining('already disabled'),
      });

      const enabled = await call<RevisionView>(app, 201, post(`${project}/flags/feature/boolean-flag/enable`, {}));
      expect(enabled.revision).not.toHaveProperty('Disabled');
      expect(enabled.revision).toMatchObject(TEST_ACTOR);
      expect(enabled.revision).not.toHaveProperty('OnBehalfOf');
      expect(enabled.revision.Rules).toEqual(disabled.revision.Rules);
    });
  });

  describe('metadata', () => {
    it('sets and removes keys as a new revision (a merge patch), keeping the rest of the revision', async () => {
      const before = await call<RevisionView>(app, 200, { url: `${project}/flags/json/layout.v2/revisions/latest` });
      const view = await call<RevisionView>(
        app,
        201,
        post(`${project}/flags/json/layout.v2/metadata`, {
          Metadata: { expires: '2027-01-31', ticket: null, tier: 2 },
        }),
      );
      expect(view.revision.Metadata).toEqual({ owner: 'team-checkout', expires: '2027-01-31', tier: 2 });
      expect(view.revision.ControlValue).toEqual(before.revision.ControlValue);
      expect(view.revision.Comment).toBe('Metadata: set expires, tier; removed ticket');
    });

    it('refuses a bad expiry date and a bad key, naming the field, and writes nothing', async () => {
      const before = await rows();
      const badDate = await call<ErrorBody>(
        app,
        400,
        post(`${project}/flags/json/layout.v2/metadata`, { Metadata: { expires: '31.01.2027' } }),
      );
      expect(badDate.field).toBe('Metadata.expires');
      const badKey = await call<ErrorBody>(
        app,
        400,
        post(`${project}/flags/json/layout.v2/metadata`, { Metadata: { 'a b': 1 } }),
      );
      expect(badKey.field).toBe('Metadata');
      const notObject = await call<ErrorBody>(
        app,
        400,
        post(`${project}/flags/json/layout.v2/metadata`, { Metadata: 'x' }),
      );
      expect(notObject.field).toBe('Metadata');
      expect(await rows()).toEqual(before);
    });
  });

  describe('bad input names the field and writes nothing', () => {
    it.each([
      ['a value of the wrong type', 'number/max-items', { ControlValue: 'ten' }, 'ControlValue'],
      ['a json value that is not an object or array', 'json/layout.v2', { ControlValue: 3 }, 'ControlValue'],
      [
        'a value outside the variants',
        'feature/boolean-flag',
        { Variants: { on: true }, ControlValue: false },
        'ControlValue',
      ],
      [
        'an unknown operator',
        'feature/boolean-flag',
        {
          ControlValue: false,
          Rules: [{ Conditions: [{ Attribute: 'a', Operator: 'matches', Values: ['x'] }], Value: true }],
        },
        'Rules[0].Conditions[0].Operator',
      ],
      [
        'a split not adding up to 100',
        'feature/boolean-flag',
        {
          ControlValue: false,
          Rules: [
            {
              Conditions: [],
              Split: [
                { Percent: 50, Value: true },
                { Percent: 40, Value: false },
              ],
            },
          ],
        },
        'Rules[0].Split',
      ],
      ['Disabled that is not a boolean', 'feature/boolean-flag', { ControlValue: false, Disabled: 'yes' }, 'Disabled'],
    ])('refuses %s', async (_name, flag, payload, field) => {
      const before = await rows();
      const body = await call<ErrorBody>(app, 400, post(`${project}/flags/${flag}/revisions`, payload));
      expect(body.field).toBe(field);
      expect(body.message).toContain(field);
      expect(await rows()).toEqual(before);
    });

    it('refuses a context that is not an object, and a targetingKey that is not a string', async () => {
      const url = `${project}/flags/feature/boolean-flag/evaluate`;
      expect(await call<ErrorBody>(app, 400, post(url, { context: 'A1' }))).toMatchObject({ field: 'context' });
      expect(await call<ErrorBody>(app, 400, post(url, { context: { targetingKey: 7 } }))).toMatchObject({
        field: 'context.targetingKey',
      });
    });
  });
});
