/**
 * The mysql sink: upstream's `sink-mysql` (MySQL and MariaDB), writing JSON
 * records into one table with INSERT … ON DUPLICATE KEY UPDATE upserts and
 * DELETEs by key.
 */
import type mysql from 'mysql2/promise';
import { lazyRequire } from '../lazy-require.js';
import type { SinkDriver } from './driver.js';
import { sqlSinkSpec, type SqlSinkConfig } from './sql-config.js';
import type { Run, SqlValue, TableInfo } from './sql-rows.js';
import { checkSqlSink, openSqlSink, type SqlDialect, type SqlSession, type SqlStatement } from './sql-writer.js';

const loadMysql = lazyRequire<typeof import('mysql2/promise')>('mysql2/promise');
const CONNECT_TIMEOUT_MS = 5_000;
/** A database that stops answering (not refusing) must fail the write so it is retried on a new connection. */
const QUERY_TIMEOUT_MS = 60_000;

function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

class MySqlSession implements SqlSession {
  broken = false;

  constructor(private readonly conn: mysql.Connection) {
    // Without a listener a dropped connection's error would be an uncaught exception.
    conn.on('error', () => {
      this.broken = true;
    });
    conn.on('end', () => {
      this.broken = true;
    });
  }

  async exec(sql: string, params: readonly SqlValue[]): Promise<void> {
    // Values are scalars only (nested JSON is text already): mysql2 would expand an object into `k` = v pairs.
    await this.conn.query({ sql, timeout: QUERY_TIMEOUT_MS }, params as SqlValue[]);
  }

  async rows(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]> {
    const [result] = await this.conn.query({ sql, timeout: QUERY_TIMEOUT_MS }, params as SqlValue[]);
    return Array.isArray(result) ? (result as Record<string, unknown>[]) : [];
  }

  async close(): Promise<void> {
    // A connection the server already dropped has nobody to say goodbye to.
    if (this.broken) {
      this.conn.destroy();
      return;
    }
    this.broken = true;
    try {
      await this.conn.end();
    } catch {
      this.conn.destroy();
    }
  }
}

/**
 * Errors that say a row's value does not fit (MySQL/MariaDB error numbers):
 * a clash on a unique key is left out because a concurrent writer can cause it.
 */
const DATA_ERRNOS = new Set([
  1048, // column cannot be null
  1264, // out of range value
  1265, // data truncated
  1292, // incorrect datetime/number value
  1364, // field has no default value
  1365, // division by zero
  1366, // incorrect value for column
  1367, // illegal value
  1406, // data too long
  1411, // incorrect value for function
  1451, // row is referenced by a foreign key (delete)
  1452, // foreign key parent missing
  1690, // value out of range in an expression
  3140, // invalid JSON text (MySQL)
  3819, // check constraint violated (MySQL)
  4025, // CONSTRAINT failed (MariaDB, also JSON_VALID on json columns)
]);

function isMySqlDataError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { errno, sqlState } = err as { errno?: unknown; sqlState?: unknown };
  if (typeof errno === 'number' && DATA_ERRNOS.has(errno)) return true;
  return typeof sqlState === 'string' && sqlState.startsWith('22');
}

/** `db.table` names a table in another database; a bare name is in the configured one. */
function splitTable(config: SqlSinkConfig): { schema: string; name: string } {
  const dot = config.table.indexOf('.');
  return dot > 0 ? { schema: config.table.slice(0, dot), name: config.table.slice(dot + 1) } : { schema: config.database, name: config.table };
}

const dialect: SqlDialect = {
  target: 'mysql',
  defaultPort: 3306,
  // Values are inlined by the client, so the bound is the packet size (16 MiB default in MariaDB, 64 MiB in MySQL 8).
  limits: { maxParams: 30_000, maxBytes: 4 * 1024 * 1024 },
  beginSql: 'START TRANSACTION',

  async connect(config: SqlSinkConfig): Promise<SqlSession> {
    const conn = await loadMysql().createConnection({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.database,
      connectTimeout: CONNECT_TIMEOUT_MS,
      enableKeepAlive: true,
      supportBigNumbers: true,
    });
    return new MySqlSession(conn);
  },

  async loadTable(session: SqlSession, config: SqlSinkConfig): Promise<TableInfo | undefined> {
    const { schema, name } = splitTable(config);
    const columns = (await session.rows(
      `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [schema, name],
    )).map((r) => String(r.name));
    if (columns.length === 0) return undefined;
    const keyRows = await session.rows(
      `SELECT INDEX_NAME AS idx, COLUMN_NAME AS col FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
      [schema, name],
    );
    const keys = new Map<string, string[]>();
    for (const r of keyRows) {
      const idx = String(r.idx);
      const cols = keys.get(idx) ?? [];
      cols.push(String(r.col));
      keys.set(idx, cols);
    }
    // Column names are case-insensitive in MySQL, so fields match them the same way.
    const byFolded = new Map(columns.map((c) => [c.toLowerCase(), c]));
    return {
      sqlName: `${quoteIdent(schema)}.${quoteIdent(name)}`,
      displayName: config.table,
      columns,
      primaryKey: keys.get('PRIMARY') ?? [],
      uniqueKeys: [...keys.values()].map((k) => [...k].sort()),
      resolve: (field: string) => byFolded.get(field.toLowerCase()),
    };
  },

  upsert(table: TableInfo, run: Run): SqlStatement {
    const params: SqlValue[] = [];
    const tuple = `(${run.columns.map(() => '?').join(',')})`;
    for (const op of run.ops) params.push(...op.values);
    const conflict = new Set(run.conflict);
    const rest = run.columns.filter((c) => !conflict.has(c));
    // With only key columns there is nothing to update; assigning a key to itself keeps the row as it is.
    const updates = (rest.length ? rest : [run.columns[0]!]).map((c) => `${quoteIdent(c)} = VALUES(${quoteIdent(c)})`);
    const sql = `INSERT INTO ${table.sqlName} (${run.columns.map(quoteIdent).join(',')}) VALUES ${run.ops.map(() => tuple).join(',')}`
      + ` ON DUPLICATE KEY UPDATE ${updates.join(', ')}`;
    return { sql, params };
  },

  delete(table: TableInfo, run: Run): SqlStatement {
    const params: SqlValue[] = [];
    for (const op of run.ops) params.push(...op.values);
    const one = run.columns.length === 1;
    const tuple = one ? '?' : `(${run.columns.map(() => '?').join(',')})`;
    const target = one ? quoteIdent(run.columns[0]!) : `(${run.columns.map(quoteIdent).join(',')})`;
    return { sql: `DELETE FROM ${table.sqlName} WHERE ${target} IN (${run.ops.map(() => tuple).join(',')})`, params };
  },

  isDataError: isMySqlDataError,
};

export const mysqlSink: SinkDriver = {
  readsJson: true,
  target: 'mysql',
  spec: sqlSinkSpec('mysql', 'MySQL', 3306),
  secretKeys: ['password'],
  check: (config) => checkSqlSink(dialect, config),
  open: (config, ctx) => openSqlSink(dialect, config, ctx),
};
