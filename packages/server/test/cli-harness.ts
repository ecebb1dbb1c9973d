import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type StoredRow } from '@vexil/store';
import { runCli } from '../src/index.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in process against one SQLite file, as `vexil --store sqlite:FILE …` would. */
export class CliHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'vexil-cli-'));
  readonly storeSpec = `sqlite:${join(this.dir, 'vexil.db')}`;

  async run(...args: string[]): Promise<CliResult> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--store', this.storeSpec, ...args], {
      out: (text) => {
        stdout += `${text}\n`;
      },
      err: (text) => {
        stderr += `${text}\n`;
      },
    });
    return { code, stdout, stderr };
  }

  async json<T>(...args: string[]): Promise<T> {
    const result = await this.run('--json', ...args);
    if (result.code !== 0) throw new Error(`vexil ${args.join(' ')} failed: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  /** Every row of the given projects, to show that refused input changed nothing. */
  async snapshot(projects: readonly string[]): Promise<StoredRow[]> {
    const store = await openStore(this.storeSpec);
    try {
      const rows: StoredRow[] = [];
      for (const project of projects) rows.push(...(await store.scanProject(project)));
      return rows;
    } finally {
      await store.close();
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
