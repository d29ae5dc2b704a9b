/**
 * What the real-database test helpers share: a free port, running a server
 * binary as an unprivileged user (PostgreSQL and MariaDB refuse root, and CI
 * runs as root), waiting for readiness without tight bounds, and stopping.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Who the database processes run as when we are root: Debian always has nobody/nogroup. */
const DB_UID = 65534;
const DB_GID = 65534;

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A port nobody listens on right now: the kernel picks it, we release it at once. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh temp dir the database user owns (the servers write their sockets and data there). */
export function dbTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (asRoot) chownSync(dir, DB_UID, DB_GID);
  return dir;
}

/** Makes a file we wrote readable by the database user. */
export function giveToDbUser(path: string): void {
  if (asRoot) chownSync(path, DB_UID, DB_GID);
}

/** The command line that runs `argv` as the unprivileged user when we are root, unchanged otherwise. */
function privDrop(argv: readonly string[]): string[] {
  if (!asRoot) return [...argv];
  return ['setpriv', `--reuid=${DB_UID}`, `--regid=${DB_GID}`, '--clear-groups', ...argv];
}

/** Whether setpriv is there when we need it: without it a root test run cannot start either database. */
export function canDropPrivileges(): boolean {
  if (!asRoot) return true;
  return spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Runs a setup command to completion as the database user; throws with its output on failure. */
export async function runAsDbUser(argv: readonly string[], cwd: string, logFile: string): Promise<void> {
  const [cmd, ...args] = privDrop(argv);
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd!, args, { cwd, stdio: ['ignore', fd, fd], env: dbEnv() });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
    if (code !== 0) throw new Error(`${argv[0]} exited with ${code}:\n${tail(logFile)}`);
  } finally {
    closeSync(fd);
  }
}

/** Starts a long-running server as the database user, its output appended to logFile. */
export function spawnAsDbUser(argv: readonly string[], cwd: string, logFile: string): ChildProcess {
  const [cmd, ...args] = privDrop(argv);
  const fd = openSync(logFile, 'a');
  try {
    return spawn(cmd!, args, { cwd, stdio: ['ignore', fd, fd], env: dbEnv() });
  } finally {
    // The child has its own copy of the descriptor.
    closeSync(fd);
  }
}

/** A small fixed environment: locale settings and HOME of the caller must not leak into initdb. */
function dbEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', HOME: '/tmp' };
}

/** The last lines of a log, for an error a person can act on. */
export function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

/**
 * Retries `probe` until it succeeds. The bound is generous on purpose: on a
 * loaded two-core machine a database can take many seconds to come up, and
 * the only bound that matters is "it did not start at all". Fails early when
 * the server process has exited.
 */
export async function waitUntilReady(
  what: string,
  child: ChildProcess,
  logFile: string,
  probe: () => Promise<void>,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited during startup (${child.exitCode ?? child.signalCode}):\n${tail(logFile)}`);
    }
    try {
      await probe();
      return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} not ready after ${timeoutMs} ms: ${String(last)}\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Sends `signal` and waits for the exit; escalates to SIGKILL if a fast shutdown hangs. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals, graceMs = 60_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // setpriv execs the server, so the pid we hold is the server itself.
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** A database started for a test or the bench: where it listens, its test user, and its controls. */
export interface TestDatabase extends ServerControls {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** runs one statement as the test user on a fresh connection (works across restarts) */
  query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

/** A database server that a test can take down and bring back on the same port, then remove. */
export interface ServerControls {
  /** stops the server (keeping its data and port) */
  stopServer(): Promise<void>;
  /** starts it again unless it runs */
  startServer(): Promise<void>;
  /** final: stops it and removes its directory */
  stop(): Promise<void>;
}

/**
 * The stop/start/remove part both database launchers share. `running()`
 * is the current server process, `launch()` starts a new one, `signal` is
 * the server's fast-but-clean shutdown.
 */
export function serverControls(running: () => ChildProcess | undefined, launch: () => Promise<void>, signal: NodeJS.Signals, dir: string): ServerControls {
  let removed = false;
  return {
    async stopServer() {
      const child = running();
      if (child) await stopProcess(child, signal);
    },
    async startServer() {
      const child = running();
      if (child && child.exitCode === null && child.signalCode === null) return;
      await launch();
    },
    async stop() {
      if (removed) return;
      removed = true;
      const child = running();
      if (child) await stopProcess(child, signal);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
