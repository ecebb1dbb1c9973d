import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { describeReplicaPropagation } from './support/replica-propagation.js';

const dir = mkdtempSync(join(tmpdir(), 'vexil-replicas-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('change propagation on SQLite', () => {
  describeReplicaPropagation('SQLite', async () => ({ env: { VEXIL_STORE: `sqlite:${join(dir, 'shared.db')}` } }));
});
