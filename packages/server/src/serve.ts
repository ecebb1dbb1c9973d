import { InvalidInputError } from '@vexil/core';
import { openStore, storeLocation } from '@vexil/store';
import type { FastifyInstance } from 'fastify';
import { firstAdminToken, firstTokenNotice } from './access/bootstrap.js';
import { buildApp } from './app.js';
import { type ServiceConfig, storeOptions } from './config.js';
import { seedDemo } from './demo.js';
import { FlagAdmin } from './flag-admin.js';
import { runScavengesOnMainThread } from './gc-settings.js';

export interface RunningService {
  app: FastifyInstance;
  url: string;
  /** Stops accepting, finishes requests in flight, writes the queued log, closes the store. */
  stop(): Promise<void>;
}

/** Longest a graceful stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 20_000;

export interface StartOptions {
  demo?: boolean;
  /** Where the first admin token is shown, once (standard error by default). */
  notice?: (text: string) => void;
}

export async function startService(config: ServiceConfig, options: StartOptions = {}): Promise<RunningService> {
  const store = await openStore(config.store, storeOptions(config));
  try {
    if (options.demo) await seedDemo(new FlagAdmin(store));
    const app = await buildApp({ config, store, logger: true });
    const url = await listen(app, config);
    if (config.adminToken === undefined) {
      // Once listening (a start that fails makes none), shown once and never logged: logs are read by many.
      const first = await firstAdminToken(store.access);
      const notice = options.notice ?? ((text: string) => process.stderr.write(text));
      if (first !== undefined) notice(firstTokenNotice(first.secret, first.id));
    }
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        // Connections busy when closing starts turn idle later; Node closes idle ones only
        // when asked, so keep asking until the server is down instead of waiting out keep-alive.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
          await store.close();
        }
      })();
      return stopping;
    };
    return { app, url, stop };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Listens, turning "the port is taken" into one line that says what to change. */
async function listen(app: FastifyInstance, config: ServiceConfig): Promise<string> {
  try {
    return await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new InvalidInputError(`port ${config.port} is in use; set PORT or --port to another`, { field: 'PORT' });
    }
    if (code === 'EACCES') {
      throw new InvalidInputError(
        `port ${config.port} needs privileges this process lacks; set PORT or --port to one above 1023`,
        {
          field: 'PORT',
        },
      );
    }
    throw error;
  }
}

/** `vexil serve`: runs until SIGTERM or SIGINT, then stops gracefully. */
export async function serveUntilSignalled(config: ServiceConfig, options: StartOptions = {}): Promise<void> {
  // Before the store opens: its log writer thread is an isolate of its own and reads the flag too.
  runScavengesOnMainThread();
  const service = await startService(config, options);
  // Which store, in full (a SQLite path is relative to where vexil was started).
  const location = storeLocation(config.store, storeOptions(config).bigtable).label;
  service.app.log.info(
    { url: service.url, store: service.app.services.store.engine, location, environment: config.environment },
    'vexil serving',
  );
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      service.app.log.info({ signal }, 'stopping: finishing requests in flight and writing the evaluation log');
      const deadline = setTimeout(() => {
        service.app.log.error('stop took too long; exiting');
        process.exit(1);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      service
        .stop()
        .then(() => service.app.log.info('stopped'))
        .catch((error: unknown) => service.app.log.error({ err: error }, 'error while stopping'))
        .finally(resolve);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
