import { describe } from 'vitest';
import { startPostgres } from '../../store/test/support/postgres-server.js';
import { describeReplicaPropagation } from './support/replica-propagation.js';

describe('vexil on PostgreSQL', () => {
  describeReplicaPropagation('PostgreSQL', async () => {
    const server = await startPostgres();
    return { env: { VEXIL_STORE: server.url }, teardown: () => server.stop() };
  });
});
