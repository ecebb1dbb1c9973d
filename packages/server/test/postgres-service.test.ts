import { startPostgres } from '@vexil/store/testing';
import { describe } from 'vitest';
import { describeReplicaPropagation } from './support/replica-propagation.js';

describe('vexil on PostgreSQL', () => {
  describeReplicaPropagation('PostgreSQL', async () => {
    const server = await startPostgres();
    return { env: { VEXIL_STORE: server.url }, teardown: () => server.stop() };
  });
});
