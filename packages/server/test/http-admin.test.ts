import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryStore, type StoredRow } from '@vexil/store';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { EvaluationView, FlagView, RevisionView } from '../src/index.js';
import { CliHarness } from './cli-harness.js';
import { ADMIN_HEADERS, buildTestApp, TEST_ACTOR } from './support/test-token.js';

const API = '/admin/v1';
const PROJECT = 'csr-assistant';
const FLAG = 'multi_step_api_router';
const flagPath = `${API}/projects/${PROJECT}/flags/feature/${FLAG}`;
/** The runbook document's sample configs, kept as the repository's example. */
const dagFile = (file: string) => fileURLToPath(new URL(`../../../examples/runbook-dag/${file}`, import.meta.url));
const dagConfig = (file: string): Record<string, unknown> => JSON.parse(readFileSync(dagFile(file), 'utf8'));

interface ErrorBody {
  error: string;
  status: number;
  message: string;
  detail: string;
  field?: string;
  hint?: string;
  request_id: string;
}

async function newApp(): Promise<{ app: FastifyInstance; store: MemoryStore }> {
  const store = new MemoryStore();
  const app = await buildTestApp({ config: loadConfig({ VEXIL_STORE: 'memory:' }), store, defaultMetrics: false });
  return { app, store };
}

/** Sends a request and checks its status, answering the parsed body. */
async function call<T>(app: FastifyInstance, status: number, options: InjectOptions): Promise<T> {
  const response = await app.inject(options);
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toContain('application/json');
  return response.json() as T;
}

/** The runbook system's rule for one treatment, the slow obvious way: md5 of `key` below `percent`. */
function inRollout(key: string, percent: number): boolean {
  const h = BigInt(`0x${createHash('md5').update(key, 'utf8').digest('hex')}`);
  return h * 100n < BigInt(percent) << 128n;
}

const revisionUrl = (wtime: string) => `${flagPath}/revisions/${encodeURIComponent(wtime)}`;

describe('admin API round trip over the runbook sample configs', () => {
  let app: FastifyInstance;
  let store: MemoryStore;
  beforeAll(async () => {
    ({ app, store } = await newApp());
  });
  afterAll(async () => {
    await app.close();
  });

  let dagRevision: RevisionView;
  let salted: RevisionView;
  let unsalted: RevisionView;

  it('applies both sample DAG configs exactly as the DAG wrote them (no Salt)', async () => {
    const configs = [dagConfig('01-add-flag.json'), dagConfig('02-add-revision.json')];
    const { rows } = await call<{ rows: { kind: string; key: string; wtime: string }[] }>(app, 201, {
      method: 'POST',
      url: `${API}/apply`,
      payload: { configs },
    });
    expect(rows.map((row) => row.kind)).toEqual(['FLAG', 'REVISION']);
    for (const row of rows) {
      expect(row.key).toBe(
        `PROJECT#${PROJECT}#ROWTYPE#${row.kind}#FLAGTYPE#feature#FLAGNAME#${FLAG}#WTIME#${row.wtime}`,
      );
    }
    expect((await store.scanProject(PROJECT)).map((row) => row.key).sort()).toEqual(rows.map((r) => r.key).sort());

    dagRevision = await call<RevisionView>(app, 200, { url: `${flagPath}/revisions/latest` });
    expect(dagRevision.wtime).toBe(rows[1]!.wtime);
    expect(dagRevision.revision).toEqual({
      Name: FLAG,
      Type: 'FEATURE',
      FormatVersion: 1,
      ControlValue: false,
      Comment: 'Rollout to 40%',
      // Written by the token's owner, for John Smith whom the config names.
      ...TEST_ACTOR,
      OnBehalfOf: 'John Smith',
      Treatments: [{ OverrideList: ['A12345'], PercentRollout: 40, Value: true }],
      CreatedTime: rows[1]!.wtime,
    });
  });

  it('lists the flags of a project, with their revision in force only when asked', async () => {
    const plain = await call<FlagView[]>(app, 200, { url: `${API}/projects/${PROJECT}/flags` });
    expect(plain.map((f) => [f.flagType, f.name, f.metadata.Description, f.archived])).toEqual([
      ['feature', FLAG, 'Enable multi step API router', false],
    ]);
    expect(plain[0]).not.toHaveProperty('latestRevision');

    const withRevision = await call<FlagView[]>(app, 200, {
      url: `${API}/projects/${PROJECT}/flags?with_revision=true`,
    });
    expect(withRevision[0]?.latestRevision).toEqual(dagRevision);
    // A project that does not exist is said to be one, not listed as an empty project.
    expect(await call(app, 404, { url: `${API}/projects/nobody/flags` })).toMatchObject({
      error: 'ProjectNotFound',
      field: 'project_name',
      message: `project nobody does not exist; known projects: ${PROJECT}`,
      known_projects: [PROJECT],
    });
  });

  it('refuses unknown query parameters, naming the known ones (withRevision is not with_revision)', async () => {
    const body = await call<{ error: string; field: string; message: string; hint: string }>(app, 400, {
      url: `${API}/projects/${PROJECT}/flags?withRevision=true`,
    });
    expect(body).toMatchObject({
      error: 'InvalidInput',
      field: 'withRevision',
      message: 'unknown query parameter "withRevision"; the known ones are with_revision, include_archived',
      hint: 'did you mean with_revision?',
    });
    const none = await call<{ message: string }>(app, 400, { url: `${flagPath}?verbose=1` });
    expect(none.message).toBe('unknown query parameter "verbose"; this endpoint takes none');
    const history = await call<{ message: string }>(app, 400, { url: `${flagPath}/revisions?limit=1&max=2` });
    expect(history.message).toBe('unknown query parameter "max"; the known ones are limit');
  });

  it("gets a flag's metadata with the revision in force", async () => {
    const flag = await call<FlagView>(app, 200, { url: flagPath });
    expect(flag.metadata).toEqual({
      Name: FLAG,
      Type: 'FEATURE',
      Description: 'Enable multi step API router',
      ...TEST_ACTOR,
      CreatedTime: flag.wtime,
    });
    expect(flag.latestRevision).toEqual(dagRevision);
  });

  it('adds a revision salted with the flag name by default, and unsalted with Salt null', async () => {
    salted = await call<RevisionView>(app, 201, {
      method: 'POST',
      url: `${flagPath}/revisions`,
      payload: {
        ControlValue: false,
        Treatments: [{ OverrideList: ['A12345', 'B777'], PercentRollout: 60, Value: true }],
        Comment: 'Rollout to 60%',
        OwnerID: 'jane',
      },
    });
    expect(salted.revision).toEqual({
      Name: FLAG,
      Type: 'FEATURE',
      FormatVersion: 1,
      ControlValue: false,
      Treatments: [{ OverrideList: ['A12345', 'B777'], PercentRollout: 60, Value: true }],
      Comment: 'Rollout to 60%',
      ...TEST_ACTOR,
      OnBehalfOf: 'jane',
      Salt: FLAG,
      CreatedTime: salted.wtime,
    });
    expect(salted.wtime > dagRevision.wtime).toBe(true);
    // The salt is what is hashed: `multi_step_api_router:id`.
    for (let i = 0; i < 30; i++) {
      const id = `user-${i * 7919}`;
      const view = await call<EvaluationView>(app, 200, { url: `${flagPath}/evaluate?instance_id=${id}` });
      expect([view.value, view.group]).toEqual(
        inRollout(`${FLAG}:${id}`, 60) ? [true, 'treatment'] : [false, 'control'],
      );
    }

    unsalted = await call<RevisionView>(app, 201, {
      method: 'POST',
      url: `${flagPath}/revisions`,
      payload: {
        ControlValue: false,
        Treatments: [{ PercentRollout: 12.5, Value: true }],
        Salt: null,
        HashAlgorithm: 'sha256',
      },
    });
    expect(unsalted.revision).not.toHaveProperty('Salt');
    expect(unsalted.revision.HashAlgorithm).toBe('sha256');
    expect(unsalted.revision.Treatments).toEqual([{ OverrideList: [], PercentRollout: 12.5, Value: true }]);
    const [stored] = await store.history(
      'REVISION',
      { project: PROJECT, flagType: 'feature', name: FLAG },
      { limit: 1 },
    );
    expect(stored?.wtime).toBe(unsalted.wtime);
    expect(stored?.fields).not.toHaveProperty('Salt');
  });

  it('reads the latest revision, the history newest first with a limit, and one revision by its time', async () => {
    expect(await call<RevisionView>(app, 200, { url: `${flagPath}/revisions/latest` })).toEqual(unsalted);

    const history = await call<RevisionView[]>(app, 200, { url: `${flagPath}/revisions` });
    expect(history.map((h) => h.wtime)).toEqual([unsalted.wtime, salted.wtime, dagRevision.wtime]);
    const limited = await call<RevisionView[]>(app, 200, { url: `${flagPath}/revisions?limit=2` });
    expect(limited).toEqual(history.slice(0, 2));

    expect(await call<RevisionView>(app, 200, { url: revisionUrl(salted.wtime) })).toEqual(salted);
    expect(await call<RevisionView>(app, 200, { url: revisionUrl(dagRevision.wtime) })).toEqual(dagRevision);
  });

  it('rolls back to the previous revision by default, and to a named one with to', async () => {
    const previous = await call<RevisionView>(app, 201, {
      method: 'POST',
      url: `${flagPath}/rollback`,
      payload: {},
    });
    expect(previous.revision.RollbackOf).toBe(salted.wtime);
    expect(previous.revision.Treatments).toEqual(salted.revision.Treatments);
    expect(previous.revision.Salt).toBe(FLAG);
    expect(previous.revision.Comment).toBe(`Rollback to ${salted.wtime} (Rollout to 60%)`);
    // The caller made the rollback (the token's owner), not jane on whose behalf the revision it copies was made.
    expect(salted.revision.OnBehalfOf).toBe('jane');
    expect(previous.revision).toMatchObject(TEST_ACTOR);
    expect(previous.revision).not.toHaveProperty('OnBehalfOf');

    const toDag = await call<RevisionView>(app, 201, {
      method: 'POST',
      url: `${flagPath}/rollback`,
      payload: { to: dagRevision.wtime, OwnerID: 'ops', Comment: 'back to the DAG rollout' },
    });
    expect(toDag.revision).toEqual({
      ...dagRevision.revision,
      RollbackOf: dagRevision.wtime,
      ...TEST_ACTOR,
      OnBehalfOf: 'ops',
      Comment: 'back to the DAG rollout',
      CreatedTime: toDag.wtime,
    });
    const history = await call<RevisionView[]>(app, 200, { url: `${flagPath}/revisions?limit=3` });
    expect(history.map((h) => h.wtime)).toEqual([toDag.wtime, previous.wtime, unsalted.wtime]);
  });

  it("evaluates the DAG's unsalted revision exactly as the runbook system did", async () => {
    const latest = await call<RevisionView>(app, 200, { url: `${flagPath}/revisions/latest` });
    for (let i = 0; i < 40; i++) {
      const id = `A${100000 + i * 37}`;
      const view = await call<EvaluationView>(app, 200, { url: `${flagPath}/evaluate?instance_id=${id}` });
      expect(view).toEqual({
        project: PROJECT,
        flagType: 'feature',
        name: FLAG,
        instanceId: id,
        value: inRollout(id, 40),
        group: inRollout(id, 40) ? 'treatment' : 'control',
        revision: latest.wtime,
      });
    }
    const override = await call<EvaluationView>(app, 200, { url: `${flagPath}/evaluate?instance_id=A12345` });
    expect([override.value, override.group]).toEqual([true, 'override']);
  });

  it("updates a flag's description and keeps its revision in force", async () => {
    const before = await call<FlagView>(app, 200, { url: flagPath });
    const updated = await call<FlagView>(app, 200, {
      method: 'PATCH',
      url: flagPath,
      payload: { description: 'Route through the multi step API' },
    });
    expect(updated.metadata.Description).toBe('Route through the multi step API');
    expect(updated.wtime > before.wtime).toBe(true);
    const after = await call<FlagView>(app, 200, { url: flagPath });
    expect(after.metadata).toEqual({
      Name: FLAG,
      Type: 'FEATURE',
      Description: 'Route through the multi step API',
      ...TEST_ACTOR,
      CreatedTime: updated.wtime,
    });
    expect(after.latestRevision).toEqual(before.latestRevision);
  });

  it('archives with an empty POST: evaluation answers 404, the list hides it unless include_archived', async () => {
    const historyBefore = await call<RevisionView[]>(app, 200, { url: `${flagPath}/revisions` });
    // No body at all, as `curl -X POST …/archive` sends.
    const archived = await call<RevisionView>(app, 201, { method: 'POST', url: `${flagPath}/archive` });
    expect(archived.revision.Archived).toBe(true);
    expect(archived.revision.Comment).toBe('Archived');
    expect(archived.revision).toMatchObject(TEST_ACTOR);

    const evaluation = await call<ErrorBody>(app, 404, { url: `${flagPath}/evaluate?instance_id=A12345` });
    expect(evaluation.error).toBe('EmptyFlagDataException');
    expect(evaluation.message).toContain(`No Flag Data found: flag ${FLAG} is archived`);

    expect(await call<FlagView[]>(app, 200, { url: `${API}/projects/${PROJECT}/flags` })).toEqual([]);
    const all = await call<FlagView[]>(app, 200, { url: `${API}/projects/${PROJECT}/flags?include_archived=true` });
    expect(all.map((f) => [f.name, f.archived])).toEqual([[FLAG, true]]);
    const history = await call<RevisionView[]>(app, 200, { url: `${flagPath}/revisions` });
    expect(history).toEqual([archived, ...historyBefore]);

    const again = await call<ErrorBody>(app, 400, {
      method: 'POST',
      url: `${flagPath}/archive`,
      payload: { OwnerID: 'ops' },
    });
    expect(again.message).toContain('is already archived');
  });

  it('shows a stored row that no longer validates in the history as it is', async () => {
    const ref = { project: PROJECT, flagType: 'feature' as const, name: FLAG };
    const [row] = await store.append([
      {
        kind: 'REVISION',
        ref,
        fields: { Name: FLAG, Type: 'FEATURE', FormatVersion: 1, ControlValue: 'yes', Treatments: 'none' },
      },
    ]);
    const [shown] = await call<RevisionView[]>(app, 200, { url: `${flagPath}/revisions?limit=1` });
    expect(shown?.revision).toEqual({ ...row!.fields });
    expect(shown?.revision.ControlValue).toBe('yes');
    expect(shown?.revision.Treatments).toBe('none');
    expect(await call<RevisionView>(app, 200, { url: revisionUrl(row!.wtime) })).toEqual(shown);
  });
});

/** A bad request, and (when the CLI can say the same thing) the CLI command that must refuse it alike. */
interface BadInput {
  name: string;
  request: () => InjectOptions;
  status: number;
  error: string;
  field: string | undefined;
  message: RegExp;
  /** CLI arguments for the same input; `source` is how the CLI names what the API calls `configs[i]`. */
  cli?: () => { args: string[]; source?: [cli: string, api: string] };
}

describe('admin API refuses bad input with the CLI’s messages and changes nothing', () => {
  let app: FastifyInstance;
  let store: MemoryStore;
  const cli = new CliHarness();
  const projects = [PROJECT, 'other'];
  const file = (name: string, content: unknown) => {
    const path = join(cli.dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  beforeAll(async () => {
    ({ app, store } = await newApp());
    const configs = [dagConfig('01-add-flag.json'), dagConfig('02-add-revision.json')];
    await call(app, 201, { method: 'POST', url: `${API}/apply`, payload: { configs } });
    await call(app, 201, {
      method: 'POST',
      url: `${API}/projects/${PROJECT}/flags`,
      payload: { name: 'llm_provider', type: 'data' },
    });
    // The CLI side gets the same flags in its own store.
    expect((await cli.run('apply', dagFile('01-add-flag.json'), dagFile('02-add-revision.json'))).code).toBe(0);
    expect((await cli.run('add-flag', 'llm_provider', '-p', PROJECT, '-t', 'data')).code).toBe(0);
  });
  afterAll(async () => {
    await app.close();
    cli.cleanup();
  });

  const snapshot = async (): Promise<StoredRow[]> => {
    const rows: StoredRow[] = [];
    for (const project of projects) rows.push(...(await store.scanProject(project)));
    return rows;
  };

  const post = (url: string, payload?: unknown): InjectOptions =>
    payload === undefined ? { method: 'POST', url } : { method: 'POST', url, payload: payload as object };
  const addRevision =
    (payload: Record<string, unknown>, path = flagPath) =>
    () =>
      post(`${path}/revisions`, payload);
  const revisionByFile =
    (name: string, payload: Record<string, unknown>, flag = [FLAG, '-t', 'feature']) =>
    () => ({
      args: ['add-revision', flag[0]!, '-p', PROJECT, ...flag.slice(1), '-f', file(name, payload)],
    });
  const percent = (...percents: unknown[]) => ({
    ControlValue: false,
    Treatments: percents.map((p) => ({ OverrideList: [], PercentRollout: p, Value: true })),
  });
  const badLiteral = {
    ...dagConfig('02-add-revision.json'),
    row_cell_value: `{ 'Name': '${FLAG}', 'Type': 'FEATURE', 'ControlValue': false, 'Treatments': [] }`,
  };
  const dataFlag = `${API}/projects/${PROJECT}/flags/data/llm_provider`;

  const cases: BadInput[] = [
    {
      name: 'an upper-case flag name in the path',
      request: addRevision({ ControlValue: false }, `${API}/projects/${PROJECT}/flags/feature/Upper_Case`),
      status: 400,
      error: 'InvalidInput',
      field: 'flag_name',
      message: /flag_name "Upper_Case" is not a valid flag name/,
      cli: () => ({ args: ['add-revision', 'Upper_Case', '-p', PROJECT, '-t', 'feature', '-c', 'false'] }),
    },
    {
      name: 'a flag name with # in the path',
      request: () => post(`${API}/projects/${PROJECT}/flags/feature/bad%23name/archive`, {}),
      status: 400,
      error: 'InvalidInput',
      field: 'flag_name',
      message: /flag_name "bad#name" is not a valid flag name/,
      cli: () => ({ args: ['archive', 'bad#name', '-p', PROJECT, '-t', 'feature'] }),
    },
    {
      name: 'a flag name with a space in the body',
      request: () => post(`${API}/projects/other/flags`, { name: 'has space', type: 'feature' }),
      status: 400,
      error: 'InvalidInput',
      field: 'flag_name',
      message: /flag_name "has space" is not a valid flag name/,
      cli: () => ({ args: ['add-flag', 'has space', '-p', 'other', '-t', 'feature'] }),
    },
    {
      name: 'an empty flag name in the body',
      request: () => post(`${API}/projects/other/flags`, { name: '', type: 'feature' }),
      status: 400,
      error: 'InvalidInput',
      field: 'flag_name',
      message: /flag_name is required/,
      cli: () => ({ args: ['add-flag', '', '-p', 'other', '-t', 'feature'] }),
    },
    {
      name: 'an invalid project name in the path',
      request: () => post(`${API}/projects/bad%20project/flags`, { name: 'x', type: 'feature' }),
      status: 400,
      error: 'InvalidInput',
      field: 'project_name',
      message: /project_name "bad project" is not a valid project name/,
      cli: () => ({ args: ['add-flag', 'x', '-p', 'bad project', '-t', 'feature'] }),
    },
    {
      name: 'an unknown flag type in the body',
      request: () => post(`${API}/projects/other/flags`, { name: 'x', type: 'boolean' }),
      status: 400,
      error: 'InvalidFlagTypeException',
      field: 'flag_type',
      message: /Invalid flag type: "boolean"/,
      cli: () => ({ args: ['add-flag', 'x', '-p', 'other', '-t', 'boolean'] }),
    },
    {
      name: 'an unknown flag type in the path',
      request: addRevision({ ControlValue: false }, `${API}/projects/${PROJECT}/flags/boolean/${FLAG}`),
      status: 400,
      error: 'InvalidFlagTypeException',
      field: 'flag_type',
      message: /Invalid flag type: "boolean"/,
      cli: () => ({ args: ['add-revision', FLAG, '-p', PROJECT, '-t', 'boolean', '-c', 'false'] }),
    },
    {
      name: 'a negative percentage',
      request: addRevision(percent(-5)),
      status: 400,
      error: 'InvalidRolloutPercentageException',
      field: 'Treatments[0].PercentRollout',
      message: /Rollout percentage: -5 is invalid/,
      cli: revisionByFile('negative.json', percent(-5)),
    },
    {
      name: 'a percentage above 100',
      request: addRevision(percent(100.5)),
      status: 400,
      error: 'InvalidRolloutPercentageException',
      field: 'Treatments[0].PercentRollout',
      message: /Rollout percentage: 100.5 is invalid.*outside \[0, 100\]/,
      cli: revisionByFile('above.json', percent(100.5)),
    },
    {
      name: 'a percentage with three decimals',
      request: addRevision(percent(10, 12.345)),
      status: 400,
      error: 'InvalidRolloutPercentageException',
      field: 'Treatments[1].PercentRollout',
      message: /Rollout percentage: 12.345 is invalid.*more than two decimals/,
      cli: revisionByFile('decimals.json', percent(10, 12.345)),
    },
    {
      name: 'a percentage given as a string',
      request: addRevision(percent('40')),
      status: 400,
      error: 'InvalidRolloutPercentageException',
      field: 'Treatments[0].PercentRollout',
      message: /Rollout percentage: "40" is invalid.*must be a number/,
      cli: revisionByFile('string.json', percent('40')),
    },
    {
      name: 'percentages summing past 100',
      request: addRevision(percent(60, 40.01)),
      status: 400,
      error: 'InvalidRolloutPercentageException',
      field: 'Treatments',
      message: /add up to 100.01, more than 100/,
      cli: () => ({
        args: ['add-revision', FLAG, '-p', PROJECT, '-t', 'feature', '-c', 'false'].concat([
          '--treatment',
          '60:true',
          '--treatment',
          '40.01:true',
        ]),
      }),
    },
    {
      name: 'a control value of the wrong type',
      request: addRevision({ ControlValue: 'yes' }),
      status: 400,
      error: 'InvalidInput',
      field: 'ControlValue',
      message: /ControlValue must be a boolean \(true or false\) for a feature flag, got "yes"/,
      cli: revisionByFile('control.json', { ControlValue: 'yes' }),
    },
    {
      name: 'a treatment value of the wrong type',
      request: addRevision(
        { ControlValue: 'openai', Treatments: [{ OverrideList: [], PercentRollout: 10, Value: true }] },
        dataFlag,
      ),
      status: 400,
      error: 'InvalidInput',
      field: 'Treatments[0].Value',
      message: /Treatments\[0\].Value must be a string for a data flag, got true/,
      cli: revisionByFile(
        'value.json',
        { ControlValue: 'openai', Treatments: [{ OverrideList: [], PercentRollout: 10, Value: true }] },
        ['llm_provider', '-t', 'data'],
      ),
    },
    {
      name: 'an override id that is not a string',
      request: addRevision({
        ControlValue: false,
        Treatments: [{ OverrideList: [12345], PercentRollout: 0, Value: true }],
      }),
      status: 400,
      error: 'InvalidInput',
      field: 'Treatments[0].OverrideList[0]',
      message: /must be a string instance id/,
      cli: revisionByFile('override.json', {
        ControlValue: false,
        Treatments: [{ OverrideList: [12345], PercentRollout: 0, Value: true }],
      }),
    },
    {
      name: 'an unknown hash name',
      request: addRevision({ ...percent(10), HashAlgorithm: 'crc32' }),
      status: 400,
      error: 'InvalidHashAlgorithmException',
      field: 'HashAlgorithm',
      message: /Invalid hash algorithm: "crc32"/,
      cli: () => ({
        args: ['add-revision', FLAG, '-p', PROJECT, '-t', 'feature', '-c', 'false', '--treatment', '10:true'].concat([
          '--hash',
          'crc32',
        ]),
      }),
    },
    {
      name: 'a revision for a flag that does not exist',
      request: addRevision({ ControlValue: false }, `${API}/projects/${PROJECT}/flags/feature/no_such_flag`),
      status: 404,
      error: 'EmptyFlagDataException',
      field: 'flag_name',
      message: /flag csr-assistant\/feature\/no_such_flag does not exist/,
      cli: () => ({ args: ['add-revision', 'no_such_flag', '-p', PROJECT, '-t', 'feature', '-c', 'false'] }),
    },
    {
      name: 'a rollback to a revision that does not exist',
      request: () => post(`${flagPath}/rollback`, { to: '2020-01-01 00:00:00.000000' }),
      status: 404,
      error: 'RevisionNotFound',
      field: 'to',
      message: /has no revision at 2020-01-01 00:00:00.000000/,
      cli: () => ({ args: ['rollback', FLAG, '-p', PROJECT, '-t', 'feature', '--to', '2020-01-01 00:00:00.000000'] }),
    },
    {
      name: 'a rollback to something that is not a revision time',
      request: () => post(`${flagPath}/rollback`, { to: 'yesterday' }),
      status: 400,
      error: 'InvalidInput',
      field: 'to',
      message: /to "yesterday" is not a revision time/,
      cli: () => ({ args: ['rollback', FLAG, '-p', PROJECT, '-t', 'feature', '--to', 'yesterday'] }),
    },
    {
      name: 'a rollback with no earlier revision',
      request: () => post(`${dataFlag}/rollback`),
      status: 404,
      error: 'RevisionNotFound',
      field: 'to',
      message: /has no earlier revision to roll back to/,
      cli: () => ({ args: ['rollback', 'llm_provider', '-p', PROJECT, '-t', 'data'] }),
    },
    {
      name: 'a malformed Python literal in the second config (all or nothing)',
      request: () => post(`${API}/apply`, { configs: [dagConfig('02-add-revision.json'), badLiteral] }),
      status: 400,
      error: 'InvalidInput',
      field: 'row_cell_value',
      message: /^configs\[1\]: .*line 1, column \d+/,
      cli: () => {
        const bad = file('bad-literal.json', badLiteral);
        return { args: ['apply', dagFile('02-add-revision.json'), bad], source: [bad, 'configs[1]'] };
      },
    },
    {
      name: 'a config that is not an object',
      request: () => post(`${API}/apply`, { configs: [dagConfig('01-add-flag.json'), 'FLAG'] }),
      status: 400,
      error: 'InvalidInput',
      field: undefined,
      message: /^configs\[1\]: an Airflow config must be a JSON object/,
    },
    {
      name: 'a config revision for a flag that does not exist',
      request: () =>
        post(`${API}/apply`, {
          configs: [{ ...dagConfig('02-add-revision.json'), row_key_prefix_PROJECT: 'other' }],
        }),
      status: 404,
      error: 'EmptyFlagDataException',
      field: 'flag_name',
      message: /flag other\/feature\/multi_step_api_router does not exist/,
    },
    {
      name: 'an unknown body property',
      request: addRevision({ ControlValue: false, Treatment: [{ PercentRollout: 10, Value: true }] }),
      status: 400,
      error: 'InvalidInput',
      field: 'Treatment',
      message: /unknown property "Treatment" in the request body; the allowed properties are ControlValue, Treatments/,
    },
    {
      name: 'unknown properties when adding a flag',
      request: () => post(`${API}/projects/other/flags`, { name: 'x', type: 'feature', Description: 'd', owner: 'me' }),
      status: 400,
      error: 'InvalidInput',
      field: 'Description',
      message: /unknown properties "Description", "owner"/,
    },
    {
      name: 'a missing ControlValue',
      request: addRevision({ Treatments: [] }),
      status: 400,
      error: 'InvalidInput',
      field: undefined,
      message: /body must have required property 'ControlValue'/,
    },
    {
      name: 'adding a flag that exists',
      request: () => post(`${API}/projects/${PROJECT}/flags`, { name: FLAG, type: 'feature', description: 'again' }),
      status: 409,
      error: 'FlagExists',
      field: 'flag_name',
      message: /already exists/,
      cli: () => ({ args: ['add-flag', FLAG, '-p', PROJECT, '-t', 'feature', '-d', 'again'] }),
    },
    {
      name: 'a history limit of 0',
      request: () => ({ url: `${flagPath}/revisions?limit=0` }),
      status: 400,
      error: 'InvalidInput',
      field: 'limit',
      message: /limit must be a whole number of at least 1, got 0/,
    },
    {
      name: 'an evaluation without instance_id',
      request: () => ({ url: `${flagPath}/evaluate` }),
      status: 400,
      error: 'InvalidInput',
      field: 'instance_id',
      message: /instance_id is required/,
    },
    {
      name: 'a revision time that does not exist',
      request: () => ({ url: revisionUrl('2020-01-01 00:00:00.000000') }),
      status: 404,
      error: 'RevisionNotFound',
      field: 'wtime',
      message: /has no revision at 2020-01-01 00:00:00.000000/,
    },
  ];

  it.each(cases)('refuses $name', async ({ request, status, error, field, message, cli: cliCase }) => {
    const before = await snapshot();
    const options = request();
    const body = await call<ErrorBody>(app, status, options);
    expect(body.error).toBe(error);
    expect(body.status).toBe(status);
    expect(body.message).toMatch(message);
    expect(body.detail).toBe(body.message);
    expect(body.field).toBe(field);
    expect(await snapshot()).toEqual(before);

    if (cliCase !== undefined) {
      const { args, source } = cliCase();
      const result = await cli.run(...args);
      expect(result.code).toBe(1);
      let expected = `error: ${body.message}`;
      if (body.field !== undefined && !body.message.includes(body.field)) expected += ` [field: ${body.field}]`;
      if (body.hint !== undefined) expected += `\nhint: ${body.hint}`;
      const said = result.stderr.trim();
      expect(source === undefined ? said : said.replace(source[0], source[1])).toBe(expected);
    }
  });
});

describe('admin API documentation', () => {
  it('lists every admin path and method in the OpenAPI document, with summaries and error schemas', async () => {
    const { app } = await newApp();
    try {
      const doc = await call<{
        paths: Record<
          string,
          Record<string, { tags?: string[]; summary?: string; responses: Record<string, unknown>; security?: unknown }>
        >;
      }>(app, 200, { url: '/docs/json' });
      const flag = `${API}/projects/{project}/flags/{type}/{name}`;
      const segment = `${API}/projects/{project}/segments/{name}`;
      const expected: Record<string, string[]> = {
        [`${API}/projects/{project}/flags`]: ['get', 'post'],
        [flag]: ['get', 'patch'],
        [`${flag}/revisions`]: ['get', 'post'],
        [`${flag}/revisions/latest`]: ['get'],
        [`${flag}/revisions/{wtime}`]: ['get'],
        [`${flag}/rollback`]: ['post'],
        [`${flag}/archive`]: ['post'],
        [`${flag}/evaluate`]: ['get', 'post'],
        [`${flag}/disable`]: ['post'],
        [`${flag}/enable`]: ['post'],
        [`${flag}/metadata`]: ['post'],
        [`${API}/projects/{project}/segments`]: ['get', 'post'],
        [segment]: ['get', 'patch'],
        [`${segment}/revisions`]: ['get', 'post'],
        [`${segment}/revisions/latest`]: ['get'],
        [`${segment}/revisions/{wtime}`]: ['get'],
        [`${segment}/rollback`]: ['post'],
        [`${segment}/archive`]: ['post'],
        [`${API}/apply`]: ['post'],
        [`${API}/projects/{project}/doctor`]: ['get'],
        [`${API}/projects/{project}/log`]: ['get'],
        [`${API}/projects/{project}/flag-summaries`]: ['get'],
        [`${flag}/impact`]: ['post'],
        [`${flag}/activity`]: ['get'],
        [`${API}/projects/{project}/stale`]: ['get'],
        [`${API}/projects/{project}/settings`]: ['get', 'put'],
        [`${API}/tokens`]: ['get', 'post'],
        [`${API}/tokens/{id}/revoke`]: ['post'],
        [`${API}/audit`]: ['get'],
        [`${API}/whoami`]: ['get'],
        [`${API}/projects`]: ['get'],
        [`${API}/webhooks`]: ['get', 'post'],
        [`${API}/webhooks/deliveries`]: ['get'],
        [`${API}/webhooks/{id}`]: ['get', 'delete'],
        [`${API}/webhooks/{id}/ping`]: ['post'],
        [`${API}/projects/{project}/webhooks`]: ['get', 'post'],
        [`${flag}/schedules`]: ['get', 'post'],
        [`${API}/projects/{project}/schedules`]: ['get'],
        [`${API}/projects/{project}/schedules/{id}`]: ['get', 'delete'],
        [`${API}/projects/{project}/schedules/{id}/cancel`]: ['post'],
        [`${flag}/ramps`]: ['post'],
        [`${API}/projects/{project}/ramps`]: ['get'],
        [`${API}/projects/{project}/ramps/{id}`]: ['get'],
        [`${API}/projects/{project}/ramps/{id}/pause`]: ['post'],
        [`${API}/projects/{project}/ramps/{id}/resume`]: ['post'],
        [`${API}/projects/{project}/ramps/{id}/abort`]: ['post'],
        [`${flag}/proposals`]: ['post'],
        [`${API}/projects/{project}/proposals`]: ['get'],
        [`${API}/projects/{project}/proposals/{id}`]: ['get'],
        [`${API}/projects/{project}/proposals/{id}/approve`]: ['post'],
        [`${API}/projects/{project}/proposals/{id}/reject`]: ['post'],
        [`${API}/projects/{project}/approval-settings`]: ['put'],
        [`${API}/projects/{project}/codegen`]: ['get'],
      };
      // Routes that take no input, so have no 400 to give.
      const inputless = new Set([`get ${API}/tokens`, `get ${API}/whoami`, `get ${API}/projects`]);
      const accessPaths = new Set([
        `${API}/whoami`,
        `${API}/projects`,
        `${API}/projects/{project}/settings`,
        `${API}/projects/{project}/approval-settings`,
        `${API}/tokens`,
        `${API}/tokens/{id}/revoke`,
        `${API}/audit`,
      ]);
      const adminPaths = Object.keys(doc.paths).filter((path) => path.startsWith(API));
      expect(adminPaths.sort()).toEqual(Object.keys(expected).sort());
      const errorRef = { content: { 'application/json': { schema: { $ref: '#/components/schemas/VexilError' } } } };
      for (const [path, methods] of Object.entries(expected)) {
        expect(Object.keys(doc.paths[path]!).sort()).toEqual([...methods].sort());
        for (const method of methods) {
          const operation = doc.paths[path]![method]!;
          const tag = path.includes('/webhooks') ? 'webhooks' : accessPaths.has(path) ? 'access' : 'admin';
          expect(operation.tags).toEqual([tag]);
          expect(operation.summary).toMatch(/\w/);
          // Every admin route needs a token, and says so.
          expect(operation.security).toEqual([{ bearerToken: [] }]);
          expect(operation.responses['401']).toMatchObject(errorRef);
          expect(operation.responses['403']).toMatchObject(errorRef);
          if (!inputless.has(`${method} ${path}`)) expect(operation.responses['400']).toMatchObject(errorRef);
          expect(operation.responses['500']).toMatchObject(errorRef);
          // A POST answers 201 for what it created; evaluating a context, revoking a token, a ping or
          // changing the state of a schedule, ramp or proposal creates nothing (200).
          const creates =
            method === 'post' &&
            !/\/(evaluate|impact|revoke|ping|cancel|pause|resume|abort|approve|reject)$/.test(path);
          const success = operation.responses[creates ? '201' : '200'] as { description: string };
          expect(success.description).not.toBe('Default Response');
        }
      }
    } finally {
      await app.close();
    }
  });
});

describe('admin API on a listening server', () => {
  it('adds a flag and a revision, evaluates it and refuses bad input over real HTTP', async () => {
    const { app } = await newApp();
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const send = (method: string, path: string, body?: unknown) =>
        fetch(`${base}${API}${path}`, {
          method,
          ...(body === undefined
            ? { headers: ADMIN_HEADERS }
            : { headers: { ...ADMIN_HEADERS, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
        });
      const added = await send('POST', '/projects/shop/flags', { name: 'new_checkout', type: 'feature' });
      expect(added.status).toBe(201);
      expect(((await added.json()) as FlagView).name).toBe('new_checkout');

      const revision = await send('POST', '/projects/shop/flags/feature/new_checkout/revisions', {
        ControlValue: false,
        Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 0, Value: true }],
      });
      expect(revision.status).toBe(201);
      const { wtime } = (await revision.json()) as RevisionView;

      const evaluated = await send('GET', '/projects/shop/flags/feature/new_checkout/evaluate?instance_id=qa-1');
      expect(await evaluated.json()).toEqual({
        project: 'shop',
        flagType: 'feature',
        name: 'new_checkout',
        instanceId: 'qa-1',
        value: true,
        group: 'override',
        revision: wtime,
      });
      const one = await send('GET', `/projects/shop/flags/feature/new_checkout/revisions/${encodeURIComponent(wtime)}`);
      expect(((await one.json()) as RevisionView).wtime).toBe(wtime);

      const refused = await send('POST', '/projects/shop/flags/feature/new_checkout/revisions', {
        ControlValue: false,
        Treatments: [{ PercentRollout: 101, Value: true }],
      });
      expect(refused.status).toBe(400);
      expect(refused.headers.get('content-type')).toContain('application/json');
      expect(await refused.json()).toMatchObject({
        error: 'InvalidRolloutPercentageException',
        field: 'Treatments[0].PercentRollout',
      });
    } finally {
      await app.close();
    }
  });
});

describe('GET /admin/v1/projects/:project/doctor', () => {
  it('lists a stored row that does not validate, with its key, and nothing for a clean project', async () => {
    const { app, store } = await newApp();
    try {
      const cleanRef = { project: 'clean', flagType: 'feature' as const, name: 'new_checkout' };
      await store.append([{ kind: 'FLAG', ref: cleanRef, fields: { Name: 'new_checkout', Type: 'FEATURE' } }]);
      const clean = await call<{ rowsChecked: number; problems: unknown[] }>(app, 200, {
        url: `${API}/projects/clean/doctor`,
      });
      expect(clean).toEqual({ project: 'clean', rowsChecked: 1, problems: [] });
      // A project with no rows at all is not a clean one: it does not exist.
      expect(await call(app, 404, { url: `${API}/projects/empty/doctor` })).toMatchObject({
        error: 'ProjectNotFound',
        message: 'project empty does not exist; known projects: clean',
      });
      const ref = { project: 'legacy', flagType: 'data' as const, name: 'model' };
      const [, bad] = await store.append([
        { kind: 'FLAG', ref, fields: { Name: 'model', Type: 'DATA' } },
        {
          kind: 'REVISION',
          ref,
          fields: { Name: 'model', Type: 'DATA', ControlValue: 'a', HashAlgorithm: 'crc32', Treatments: [] },
        },
      ]);
      const report = await call<{ problems: { key: string; error: string; status: number }[] }>(app, 200, {
        url: `${API}/projects/legacy/doctor`,
      });
      expect(report.problems.map((p) => [p.key, p.error, p.status])).toEqual([
        [bad!.key, 'InvalidHashAlgorithmException', 400],
      ]);
    } finally {
      await app.close();
    }
  });
});
