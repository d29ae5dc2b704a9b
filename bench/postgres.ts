/**
 * A real PostgreSQL server for tests: a fresh cluster in a temp dir on a free
 * 127.0.0.1 port, password (scram) auth for a test user, stopped and removed
 * by stop(). stopServer()/startServer() take it down and bring it back on
 * the same port with the same data, for "the database went away" tests.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import {
  canDropPrivileges,
  dbTempDir,
  freePort,
  giveToDbUser,
  runAsDbUser,
  spawnAsDbUser,
  serverControls,
  type TestDatabase,
  waitUntilReady,
} from './db-process.js';

export interface TestPostgres extends TestDatabase {
  /** CPU (user + system, ms) that the running server has used so far: the postmaster, its live backends and those it reaped */
  cpuMs(): number;
}

const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** utime + stime (+ cutime + cstime of reaped children when asked), in ticks, from /proc/<pid>/stat; 0 once the process is gone. */
function statTicks(pid: number, withReaped: boolean): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]) + (withReaped ? Number(f[13]) + Number(f[14]) : 0);
}

function treeCpuMs(pid: number): number {
  let ticks = statTicks(pid, true);
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // gone
  }
  for (const child of children) ticks += statTicks(Number(child), true);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** The newest installed server's bin dir (Debian puts each major version in its own). */
function findBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin') : undefined;
}

const binDir = findBinDir();

/** Why the PostgreSQL tests cannot run here, or undefined when they can. */
export const postgresUnavailable: string | undefined = !binDir
  ? 'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)'
  : !canDropPrivileges()
    ? 'running as root without setpriv: PostgreSQL refuses to run as root'
    : undefined;

if (postgresUnavailable && process.env['VITEST']) console.warn(`[postgres helper] skipping: ${postgresUnavailable}`);

export async function startPostgres(): Promise<TestPostgres> {
  if (!binDir) throw new Error(postgresUnavailable);
  const dir = dbTempDir('hstreamlite-pg-');
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const user = 'sink';
  const database = 'sinkdb';
  const password = randomBytes(12).toString('hex');
  const port = await freePort();

  // The superuser never gets a TCP password: bootstrap goes over the socket with trust.
  const pwFile = join(dir, 'pwfile');
  writeFileSync(pwFile, `${randomBytes(12).toString('hex')}\n`);
  giveToDbUser(pwFile);
  await runAsDbUser(
    [join(binDir, 'initdb'), '-D', dataDir, '-U', 'postgres', `--pwfile=${pwFile}`, '--auth-local=trust',
      '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'],
    dir, join(dir, 'initdb.log'));

  let child: ChildProcess | undefined;

  const connect = async (asUser: 'bootstrap' | 'test'): Promise<pg.Client> => {
    const client = asUser === 'bootstrap'
      ? new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5_000 })
      : new pg.Client({ host: '127.0.0.1', port, user, password, database, connectionTimeoutMillis: 5_000 });
    // An error after connect (server shut down under it) must not become an uncaught exception.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    return client;
  };

  const launch = async (probeAs: 'bootstrap' | 'test'): Promise<void> => {
    // Test-only settings: durability off for speed; mmap shared memory because containers often have a tiny /dev/shm.
    child = spawnAsDbUser(
      [join(binDir, 'postgres'), '-D', dataDir, '-p', String(port), '-k', dir,
        '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off', '-c', 'dynamic_shared_memory_type=mmap', '-c', 'shared_buffers=16MB',
        '-c', 'max_connections=40'],
      dir, logFile);
    const running = child;
    await waitUntilReady('postgres', running, logFile, async () => {
      const c = await connect(probeAs);
      await c.end();
    });
  };

  await launch('bootstrap');
  const boot = await connect('bootstrap');
  try {
    await boot.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
    await boot.query(`CREATE DATABASE ${database} OWNER ${user}`);
  } finally {
    await boot.end();
  }

  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    async query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
      const c = await connect('test');
      try {
        return (await c.query<R>(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    // SIGINT is postgres's fast shutdown: open sessions are cut, like a real outage.
    cpuMs: () => (child?.pid === undefined ? 0 : treeCpuMs(child.pid)),
    ...serverControls(() => child, () => launch('test'), 'SIGINT', dir),
  };
}
