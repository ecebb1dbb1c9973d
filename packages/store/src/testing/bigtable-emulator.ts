import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/**
 * Google's Bigtable emulator (`cbtemulator`, the Google Cloud CLI's
 * bigtable-emulator component) as a child process for tests, and Google's `cbt` CLI
 * pointed at it. No engine is ever skipped: without the emulator, starting it throws
 * and says how to install it.
 */
export interface BigtableEmulator {
  /** `127.0.0.1:PORT`, for BIGTABLE_EMULATOR_HOST. */
  host: string;
  /** Stops the emulator (all its data is gone) and waits for it to exit. */
  stop(): Promise<void>;
  /**
   * Freezes the emulator (SIGSTOP): calls hang until their deadline, as with an
   * unreachable Bigtable, and its data stays (the emulator keeps it in memory only, so
   * stopping it would bring back an empty one).
   */
  pause(): void;
  /** Lets a paused emulator run again (SIGCONT). */
  resume(): void;
  /** Stops the emulator process, keeping its port: calls fail at once (connection refused). */
  halt(): Promise<void>;
  /**
   * Starts a new emulator on the same port (halting the running one first, if any). It
   * comes back empty: its data lived in the old process's memory.
   */
  restart(): Promise<void>;
}

const DEFAULT_EMULATOR = '/usr/lib/google-cloud-sdk/platform/bigtable-emulator/cbtemulator';
const START_TIMEOUT_MS = 30_000;

const INSTALL_HINT =
  'Install the Google Cloud CLI and its Bigtable emulator component ' +
  '(`gcloud components install bigtable cbt`, or on Debian/Ubuntu `apt-get install google-cloud-cli-bigtable-emulator google-cloud-cli-cbt`), ' +
  'or set CBTEMULATOR to the path of the cbtemulator binary (and CBT to the cbt binary).';

/** The Google Cloud SDK root, from `gcloud info`, or undefined when gcloud is not installed. */
function gcloudSdkRoot(): string | undefined {
  try {
    const root = execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60_000,
    }).trim();
    return root === '' ? undefined : root;
  } catch {
    return undefined;
  }
}

let sdkRoot: { value: string | undefined } | undefined;
function cachedSdkRoot(): string | undefined {
  sdkRoot ??= { value: gcloudSdkRoot() };
  return sdkRoot.value;
}

/** The cbtemulator binary: $CBTEMULATOR, else the Debian package's path, else under the SDK root. Throws when none. */
export function findCbtEmulator(): string {
  const tried: string[] = [];
  const fromEnv = process.env.CBTEMULATOR;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`CBTEMULATOR is set to ${fromEnv}, which does not exist. ${INSTALL_HINT}`);
  }
  tried.push(DEFAULT_EMULATOR);
  if (existsSync(DEFAULT_EMULATOR)) return DEFAULT_EMULATOR;
  const root = cachedSdkRoot();
  if (root !== undefined) {
    const candidate = join(root, 'platform', 'bigtable-emulator', 'cbtemulator');
    tried.push(candidate);
    if (existsSync(candidate)) return candidate;
  } else {
    tried.push('(gcloud not found: no SDK root to look under)');
  }
  throw new Error(`The Bigtable emulator (cbtemulator) was not found; looked at: ${tried.join(', ')}. ${INSTALL_HINT}`);
}

/** The cbt binary: $CBT, else `cbt` on PATH, else under the SDK root. Throws when none. */
export function findCbt(): string {
  const fromEnv = process.env.CBT;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`CBT is set to ${fromEnv}, which does not exist. ${INSTALL_HINT}`);
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, 'cbt'))) return join(dir, 'cbt');
  }
  const root = cachedSdkRoot();
  const candidate = root === undefined ? undefined : join(root, 'bin', 'cbt');
  if (candidate !== undefined && existsSync(candidate)) return candidate;
  throw new Error(`Google's cbt CLI was not found on PATH${candidate ? ` nor at ${candidate}` : ''}. ${INSTALL_HINT}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not pick a free port'));
      });
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

interface Launched {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns cbtemulator on `port` and waits until it accepts connections; throws with its output when it does not. */
async function launch(binary: string, port: number): Promise<Launched> {
  const child = spawn(binary, ['-host', '127.0.0.1', '-port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
    }
    await exited(child);
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  let failure: Error | undefined;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      failure = new Error(`cbtemulator (${binary}) exited with ${child.exitCode ?? child.signalCode}: ${stderr}`);
      break;
    }
    const early = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), 50))]);
    if (early !== undefined) {
      failure = new Error(`could not start cbtemulator (${binary}): ${early.message}. ${INSTALL_HINT}`);
      break;
    }
    if (await accepts(port)) return { child, stop };
  }
  await stop();
  throw failure ?? new Error(`cbtemulator did not accept connections within ${START_TIMEOUT_MS} ms: ${stderr}`);
}

/** Starts `cbtemulator -host 127.0.0.1 -port <free port>` and waits until it accepts connections. */
export async function startBigtableEmulator(): Promise<BigtableEmulator> {
  const binary = findCbtEmulator();
  let lastError: unknown;
  // A port picked free can be taken before the emulator binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let current: Launched;
    try {
      current = await launch(binary, port);
    } catch (error) {
      lastError = error;
      continue;
    }
    let halted = false;
    return {
      host: `127.0.0.1:${port}`,
      stop: async () => {
        if (!halted) await current.stop();
      },
      pause: () => void current.child.kill('SIGSTOP'),
      resume: () => void current.child.kill('SIGCONT'),
      halt: async () => {
        await current.stop();
        halted = true;
      },
      restart: async () => {
        if (!halted) await current.stop();
        current = await launch(binary, port);
        halted = false;
      },
    };
  }
  throw lastError;
}

export interface CbtTarget {
  /** The emulator's `host:port`. */
  host: string;
  project: string;
  instance: string;
}

/**
 * Runs `cbt -project P -instance I <args>` against the emulator and returns its
 * standard output. (`-creds /dev/null` keeps cbt from asking gcloud for
 * credentials on every call, which the emulator does not need and which costs a
 * second per call.)
 */
export function runCbt(target: CbtTarget, args: readonly string[]): Promise<string> {
  const cbt = findCbt();
  return new Promise((resolve, reject) => {
    execFile(
      cbt,
      ['-project', target.project, '-instance', target.instance, '-creds', '/dev/null', ...args],
      { env: { ...process.env, BIGTABLE_EMULATOR_HOST: target.host }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`cbt ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** A row as `cbt read` / `cbt lookup` print it: its key and, per `family:qualifier`, the newest cell's text. */
export interface CbtRow {
  key: string;
  cells: Record<string, string>;
}

/**
 * Parses `cbt read` / `cbt lookup` output:
 *
 *   ----------------------------------------
 *   ROW KEY
 *     family:qualifier                         @ 2024/09/25-18:42:51.493000
 *       "value, Go-quoted"
 */
export function parseCbtRows(output: string): CbtRow[] {
  const rows: CbtRow[] = [];
  const lines = output.split('\n');
  let row: CbtRow | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^-{10,}$/.test(line)) {
      row = { key: lines[++i] ?? '', cells: {} };
      rows.push(row);
      continue;
    }
    const column = /^ {2}(\S+:\S*)\s+@ /.exec(line);
    if (column && row) {
      const value = lines[++i] ?? '';
      // Several versions print one after the other, newest first: keep the first.
      if (!(column[1]! in row.cells)) row.cells[column[1]!] = unquoteGo(value.trim());
    }
  }
  return rows;
}

/** Undoes Go's %q (strconv.Quote) for the escapes it emits. */
export function unquoteGo(text: string): string {
  if (!text.startsWith('"') || !text.endsWith('"')) return text;
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i]!;
    const simple: Record<string, string> = {
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
      '\\': '\\',
      '"': '"',
    };
    if (next in simple) out += simple[next];
    else if (next === 'x') {
      out += String.fromCharCode(Number.parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (next === 'u') {
      out += String.fromCharCode(Number.parseInt(body.slice(i + 1, i + 5), 16));
      i += 4;
    } else if (next === 'U') {
      out += String.fromCodePoint(Number.parseInt(body.slice(i + 1, i + 9), 16));
      i += 8;
    } else out += `\\${next}`;
  }
  return out;
}
