import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL server for tests: `initdb` into a fresh temporary directory,
 * `pg_ctl start` on a free port on 127.0.0.1 (trust authentication, UTF8, locale C,
 * durability off for speed), and `stop()` to shut it down and remove the directory.
 *
 * The binaries come from `PG_BIN` (a directory holding initdb, pg_ctl and postgres),
 * else the newest Debian-style `/usr/lib/postgresql/<version>/bin`, else `PATH`. When
 * there are none it throws: no engine may be skipped in CI.
 *
 * initdb and postgres refuse to run as root; as root the directory is given to the
 * `postgres` system user (or `PG_OS_USER`) and the binaries run as that user.
 */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/vexil`: a database created at start. */
  readonly url: string;
  readonly port: number;
  /** The PostgreSQL version the binaries report, e.g. `15.14`. */
  readonly version: string;
  /** Creates another empty database (a name is made up when none is given) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** A URL for `database` on this server. */
  urlFor(database: string): string;
  /** Runs one statement as the superuser, on `database` (`postgres` by default). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<R[]>;
  /** `pg_ctl stop -m fast`, then removes the directory. Safe to call twice. */
  stop(): Promise<void>;
  /** Shuts the server down (`pg_ctl stop -m fast`), keeping its data: connections fail until `restart`. */
  halt(): Promise<void>;
  /** Starts a halted server again, on the same port with the same data. */
  restart(): Promise<void>;
}

const SUPERUSER = 'postgres';

/** Where the binaries are, or an error saying how to provide them. */
export function findPostgresBin(): string {
  const hasTools = (dir: string) => ['initdb', 'pg_ctl', 'postgres'].every((tool) => existsSync(join(dir, tool)));
  const fromEnv = process.env.PG_BIN?.trim();
  if (fromEnv) {
    if (hasTools(fromEnv)) return fromEnv;
    throw new Error(`PG_BIN=${fromEnv} does not hold initdb, pg_ctl and postgres`);
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    for (const version of versions) {
      const dir = join(debian, version, 'bin');
      if (hasTools(dir)) return dir;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && hasTools(dir)) return dir;
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found: the PostgreSQL tests cannot run. ' +
      'Install them (Debian/Ubuntu: apt-get install postgresql, which puts them in /usr/lib/postgresql/<version>/bin), ' +
      'or set PG_BIN to the directory that holds them.',
  );
}

interface RunAs {
  /** Wraps a command so it runs as the server's OS user. */
  command(file: string, args: string[]): [string, string[]];
  /** Gives a path to that user (as root), or does nothing. */
  own(path: string): Promise<void>;
}

function runAs(): RunAs {
  if (process.getuid?.() !== 0) {
    return { command: (file, args) => [file, args], own: async () => {} };
  }
  const user = process.env.PG_OS_USER?.trim() || 'postgres';
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  } catch {
    throw new Error(
      `running as root, and initdb/postgres refuse to run as root, but there is no OS user "${user}" to run them as: ` +
        'create one (useradd --system postgres) or set PG_OS_USER to an existing unprivileged user',
    );
  }
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p));
  return {
    command: (file, args) =>
      runuser
        ? [runuser, ['-u', user, '--', file, ...args]]
        : ['su', [user, '-s', '/bin/sh', '-c', [file, ...args].map(shellQuote).join(' ')]],
    own: (path) => chown(path, uid, gid),
  };
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function run(file: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${[file, ...args].join(' ')} failed: ${error.message}\n${stdout}${stderr}`.trim()));
      } else {
        resolve(stdout);
      }
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

let databases = 0;

/** Starts a server with one database, `vexil`. Call `stop()` in afterAll. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const as = runAs();
  // A short path: the unix socket lives here too, and socket paths are limited to ~100 bytes.
  const base = existsSync('/tmp') ? '/tmp' : tmpdir();
  const dir = await mkdtemp(join(base, 'vexil-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const exec = (tool: string, args: string[]) => {
    const [file, argv] = as.command(join(bin, tool), args);
    return run(file, argv, dir);
  };

  let port = 0;
  let started = false;
  let startOptions = '';
  const emergencyStop = () => {
    // The test process is exiting without stop(): do not leave a server behind.
    try {
      const [file, argv] = as.command(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w']);
      execFileSync(file, argv, { cwd: dir, stdio: 'ignore', timeout: 10_000 });
    } catch {}
  };

  try {
    await as.own(dir);
    const reported = await exec('postgres', ['--version']);
    const version = /\(PostgreSQL\)\s+(\d+(?:\.\d+)*)/.exec(reported)?.[1] ?? reported.trim();
    await exec('initdb', ['-D', data, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);

    // The port is free when chosen but could be taken before the server binds it: retry.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const options = [
        `-p ${port}`,
        `-k ${dir}`,
        "-c listen_addresses='127.0.0.1'",
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=200',
      ].join(' ');
      try {
        await exec('pg_ctl', ['start', '-D', data, '-l', log, '-w', '-t', '60', '-o', options]);
        startOptions = options;
        break;
      } catch (error) {
        if (attempt >= 3) {
          const serverLog = await readFile(log, 'utf8').catch(() => '');
          throw new Error(`${(error as Error).message}\nserver log:\n${serverLog}`);
        }
      }
    }
    started = true;
    process.once('exit', emergencyStop);

    const urlFor = (database: string) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
    const query = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres') => {
      const client = new pg.Client({ connectionString: urlFor(database) });
      await client.connect();
      try {
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.end();
      }
    };

    // pg_ctl -w waits for the server to accept connections; make sure it answers queries too.
    for (let deadline = Date.now() + 30_000; ; ) {
      try {
        await query('SELECT 1');
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    const createDatabase = async (name = `vexil_test_${process.pid}_${++databases}`) => {
      // FILE_COPY copies template1's few files directly: cheaper than WAL-logging them.
      await query(`CREATE DATABASE "${name.replace(/"/g, '""')}" STRATEGY = FILE_COPY`);
      return urlFor(name);
    };

    const url = await createDatabase('vexil');
    let stopped: Promise<void> | undefined;
    return {
      url,
      port,
      version,
      createDatabase,
      urlFor,
      query,
      halt: async () => {
        await exec('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '60']);
      },
      restart: async () => {
        await exec('pg_ctl', ['start', '-D', data, '-l', log, '-w', '-t', '60', '-o', startOptions]);
      },
      stop: () => {
        stopped ??= (async () => {
          process.removeListener('exit', emergencyStop);
          try {
            await exec('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '60']);
          } finally {
            await rm(dir, { recursive: true, force: true });
          }
        })();
        return stopped;
      },
    };
  } catch (error) {
    if (started) {
      process.removeListener('exit', emergencyStop);
      emergencyStop();
    }
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
