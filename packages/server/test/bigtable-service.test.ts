import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BigtableEmulator, runCbt, startBigtableEmulator } from '@vexil/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeReplicaPropagation } from './support/replica-propagation.js';
import { runVexil, startVexil, type VexilProcess } from './support/vexil-process.js';

/** The runbook system's own deployment variables, pointed at the emulator. */
function bigtableEnv(emulator: BigtableEmulator): Record<string, string> {
  return {
    VEXIL_STORE: 'bigtable',
    BIGTABLE_EMULATOR_HOST: emulator.host,
    PROJECT_ID: 'anbc-hcb-dev',
    INSTANCE_ID: 'csr-va-db-hcb-dev',
    TENANT_NAME: 'csr-va',
  };
}

describe('vexil on Bigtable (emulator)', () => {
  describe('replicas', () => {
    describeReplicaPropagation('Bigtable', async () => {
      const emulator = await startBigtableEmulator();
      const env = bigtableEnv(emulator);
      const init = runVexil(['init'], env);
      expect(init.status, init.stderr).toBe(0);
      return { env, teardown: () => emulator.stop() };
    });
  });

  describe('rows the runbook tools wrote', () => {
    let emulator: BigtableEmulator;
    let env: Record<string, string>;
    let service: VexilProcess;
    const table = 'csr_va_feature_flag_bigtable';
    const key = (name: string, kind = 'REVISION') =>
      `PROJECT#csr-assistant#ROWTYPE#${kind}#FLAGTYPE#feature#FLAGNAME#${name}#WTIME#2024-09-25 19:15:28.248896`;
    const cbt = (...args: string[]) =>
      runCbt({ host: emulator.host, project: env.PROJECT_ID!, instance: env.INSTANCE_ID! }, args);
    const get = async (name: string) => {
      const response = await fetch(
        `${service.url}/get-feature-flag?project_name=csr-assistant&instance_id=A1&flag_type=feature&flag_name=${name}`,
      );
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    beforeAll(async () => {
      emulator = await startBigtableEmulator();
      env = bigtableEnv(emulator);
      for (let i = 0; i < 2; i++) {
        const init = runVexil(['init'], env); // twice: it is safe to run again
        expect(init.status, init.stderr).toBe(0);
      }
      const revision = (name: string, control: string, treatments: string) => [
        'set',
        table,
        key(name),
        `metadata:Name=${name}`,
        'metadata:Type=FEATURE',
        'metadata:FormatVersion=1',
        `metadata:ControlValue=${control}`,
        `metadata:Treatments=${treatments}`,
        'metadata:CreatedTime=2024-09-25 19:15:28.248896',
      ];
      for (const name of ['good_flag', 'bad_percent', 'bad_value']) {
        await cbt('set', table, key(name, 'FLAG'), `metadata:Name=${name}`, 'metadata:Type=FEATURE');
      }
      await cbt(...revision('good_flag', 'False', "[{'OverrideList': ['A1'], 'PercentRollout': 40, 'Value': True}]"));
      await cbt(...revision('bad_percent', 'False', "[{'OverrideList': [], 'PercentRollout': 140, 'Value': True}]"));
      await cbt(...revision('bad_value', 'maybe', '[]'));
      service = await startVexil(env);
    }, 60_000);

    afterAll(async () => {
      await service?.stop();
      await emulator?.stop();
    });

    it('answers the good flag and the documented errors for the bad ones, for those flags only', async () => {
      expect(await get('good_flag')).toMatchObject({
        status: 200,
        body: { flag_value: true, rollout_group: 'override' },
      });
      expect(await get('bad_percent')).toMatchObject({
        status: 400,
        body: { error: 'InvalidRolloutPercentageException' },
      });
      expect(await get('bad_value')).toMatchObject({
        status: 500,
        body: { error: 'ValidationError', field: 'ControlValue' },
      });
      expect(await get('good_flag')).toMatchObject({ status: 200 });
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    });

    it('vexil doctor lists the bad rows by key', () => {
      const report = runVexil(['--json', 'doctor', '-p', 'csr-assistant'], env);
      expect(report.status).toBe(1);
      const { problems } = JSON.parse(report.stdout) as { problems: { key: string; error: string }[] };
      expect(problems.map((p) => [p.key, p.error])).toEqual([
        [key('bad_percent'), 'InvalidRolloutPercentageException'],
        [key('bad_value'), 'ValidationError'],
      ]);
    });

    it('vexil apply says Bigtable has no atomic batches, then writes the files one row at a time', () => {
      const dir = mkdtempSync(join(tmpdir(), 'vexil-apply-'));
      try {
        const config = (kind: 'FLAG' | 'REVISION', cell: string) => {
          const file = join(dir, `${kind.toLowerCase()}.json`);
          writeFileSync(
            file,
            JSON.stringify({
              row_key_prefix_PROJECT: 'apply-check',
              row_key_prefix_ROWTYPE: kind,
              row_key_prefix_FLAGTYPE: 'feature',
              row_key_prefix_FLAGNAME: 'new_ui',
              row_cell_value: cell,
              add_new_feature_flag: kind === 'FLAG',
            }),
          );
          return file;
        };
        const files = [
          config('FLAG', "{ 'Name': 'new_ui', 'Type': 'FEATURE' }"),
          config(
            'REVISION',
            "{ 'Name': 'new_ui', 'Type': 'FEATURE', 'FormatVersion': 1, 'ControlValue': True, 'Comment': 'on', 'OwnerID': 'jane', 'Treatments': [] }",
          ),
        ];
        const applied = runVexil(['--json', 'apply', ...files], env);
        expect(applied.status, applied.stderr).toBe(0);
        expect(applied.stderr).toContain(
          'note: the bigtable store has no atomic batches: apply writes the files one row at a time, in order; ' +
            'on failure, the rows already written stay, and the error names them',
        );
        const rows = JSON.parse(applied.stdout) as { kind: string; ref: { name: string } }[];
        expect(rows.map((row) => [row.kind, row.ref.name])).toEqual([
          ['FLAG', 'new_ui'],
          ['REVISION', 'new_ui'],
        ]);
        const listed = runVexil(['--json', 'list', '-p', 'apply-check', '--with-revision'], env);
        expect(listed.status, listed.stderr).toBe(0);
        expect(listed.stdout).toContain('"new_ui"');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
