/**
 * A real MariaDB server for tests: a fresh data dir in a temp dir on a free
 * 127.0.0.1 port, a test user with a password (real grant tables), stopped
 * and removed by stop(). stopServer()/startServer() take it down and bring
 * it back on the same port with the same data.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import {
  canDropPrivileges,
  dbTempDir,
  freePort,
  runAsDbUser,
  spawnAsDbUser,
  serverControls,
  type TestDatabase,
  waitUntilReady,
} from '../../bench/db-process.js';

export type TestMariaDb = TestDatabase;

function findBinary(names: readonly string[]): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
    for (const name of names) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

const serverBin = findBinary(['mariadbd', 'mysqld']);
const installDbBin = findBinary(['mariadb-install-db', 'mysql_install_db']);

/** Why the MariaDB tests cannot run here, or undefined when they can. */
export const mariadbUnavailable: string | undefined = !serverBin || !installDbBin
  ? 'MariaDB server binaries (mariadbd, mariadb-install-db) not found (apt-get install mariadb-server)'
  : !canDropPrivileges()
    ? 'running as root without setpriv: the test MariaDB runs as an unprivileged user'
    : undefined;

if (mariadbUnavailable) console.warn(`[mariadb helper] skipping: ${mariadbUnavailable}`);

export async function startMariaDb(): Promise<TestMariaDb> {
  if (!serverBin || !installDbBin) throw new Error(mariadbUnavailable);
  const dir = dbTempDir('hstreamlite-mariadb-');
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const logFile = join(dir, 'server.log');
  const user = 'sink';
  const database = 'sinkdb';
  const password = randomBytes(12).toString('hex');
  const port = await freePort();

  // --no-defaults everywhere: the system's /etc/mysql config (port 3306, its socket) must not apply.
  await runAsDbUser(
    [installDbBin, '--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal',
      '--skip-test-db', '--skip-name-resolve'],
    dir, join(dir, 'install.log'));

  let child: ChildProcess | undefined;

  const connect = async (asUser: 'root' | 'test'): Promise<mysql.Connection> => {
    const conn = asUser === 'root'
      ? await mysql.createConnection({ socketPath: socket, user: 'root', connectTimeout: 5_000 })
      : await mysql.createConnection({ host: '127.0.0.1', port, user, password, database, connectTimeout: 5_000 });
    // An error after connect (server shut down under it) must not become an uncaught exception.
    conn.on('error', () => {});
    return conn;
  };

  const launch = async (probeAs: 'root' | 'test'): Promise<void> => {
    // Test-only settings: small buffers, no binlog, relaxed flushing.
    child = spawnAsDbUser(
      [serverBin, '--no-defaults', `--datadir=${dataDir}`, `--port=${port}`, '--bind-address=127.0.0.1',
        `--socket=${socket}`, `--pid-file=${join(dir, 'mysqld.pid')}`, '--skip-name-resolve', '--skip-log-bin',
        '--innodb-buffer-pool-size=32M', '--innodb-flush-log-at-trx-commit=0', '--max-connections=40'],
      dir, logFile);
    const running = child;
    await waitUntilReady('mariadbd', running, logFile, async () => {
      const c = await connect(probeAs);
      await c.end();
    });
  };

  await launch('root');
  const root = await connect('root');
  try {
    await root.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    await root.query(`CREATE DATABASE ${database}`);
    await root.query(`GRANT ALL ON ${database}.* TO '${user}'@'%'`);
  } finally {
    await root.end();
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
        const [rows] = await c.query(sql, params);
        return Array.isArray(rows) ? (rows as R[]) : [];
      } finally {
        await c.end();
      }
    },
    ...serverControls(() => child, () => launch('test'), 'SIGTERM', dir),
  };
}
