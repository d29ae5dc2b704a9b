/**
 * The postgresql sink: upstream's `sink-postgresql`, writing JSON records
 * into one table with INSERT … ON CONFLICT upserts and DELETEs by key.
 */
import type pg from 'pg';
import { lazyRequire } from '../lazy-require.js';
import type { SinkDriver } from './driver.js';
import { sqlSinkSpec, type SqlSinkConfig } from './sql-config.js';
import type { Run, SqlValue, TableInfo } from './sql-rows.js';
import { UpsertTexts, type NamedText } from './pg-upsert-texts.js';
import { checkSqlSink, openSqlSink, type SqlDialect, type SqlSession, type SqlStatement } from './sql-writer.js';

const loadPg = lazyRequire<typeof import('pg')>('pg');
const CONNECT_TIMEOUT_MS = 5_000;
/** A database that stops answering (not refusing) must fail the write so it is retried on a new connection. */
const QUERY_TIMEOUT_MS = 60_000;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function hasCode(err: unknown): err is { code: string } {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string';
}

/**
 * Rows per upsert statement. A write's rows go out in statements of this
 * many (one transaction, sent in one round trip), whose one text per table
 * and column set is prepared; 100 rows kept PostgreSQL's CPU per row as low
 * as one 500-row prepared statement did.
 */
const PREPARED_ROWS = 100;
/**
 * The row counts a statement has: the rest of a write after its full
 * statements goes out as a few smaller ones of these counts (97 rows: 64,
 * 32 and 1), so every statement is one of eight texts per shape, prepared,
 * instead of a text of its own that PostgreSQL parses and plans each time.
 */
const STATEMENT_ROWS = [PREPARED_ROWS, 64, 32, 16, 8, 4, 2, 1];
/** prepared statements one connection keeps at most: a stream whose rows keep changing shape runs the rest unprepared */
const MAX_PREPARED_PER_SESSION = 64;

/**
 * Texts of every PostgreSQL sink in the process (eight per table shape): many shapes, bounded
 * by size, at most about 4 MB whatever the widths. A connection prepares at most
 * MAX_PREPARED_PER_SESSION of them.
 */
const upsertTexts = new UpsertTexts(512, 2 * 1024 * 1024);

function upsertText(table: TableInfo, columns: readonly string[], key: readonly string[], rows: number): NamedText {
  return upsertTexts.get(JSON.stringify([table.sqlName, columns, key, rows]), () => {
    const width = columns.length;
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) {
      const marks: string[] = [];
      for (let c = 1; c <= width; c++) marks.push(`$${r * width + c}`);
      tuples.push(`(${marks.join(',')})`);
    }
    const keySet = new Set(key);
    const updates = columns.filter((c) => !keySet.has(c)).map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`);
    return `INSERT INTO ${table.sqlName} (${columns.map(quoteIdent).join(',')}) VALUES ${tuples.join(',')}`
      + ` ON CONFLICT (${key.map(quoteIdent).join(',')}) `
      + (updates.length ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING');
  });
}

class PgSession implements SqlSession {
  broken = false;
  readonly pipelined = true;
  /** statement names this connection has prepared (PostgreSQL keeps them until it closes) */
  private readonly prepared = new Set<string>();

  constructor(private readonly client: pg.Client) {
    // Without a listener an idle connection's failure would be an uncaught exception.
    client.on('error', () => {
      this.broken = true;
    });
    client.on('end', () => {
      this.broken = true;
    });
  }

  async exec(sql: string, params: readonly SqlValue[], name?: string): Promise<void> {
    if (name !== undefined && (this.prepared.has(name) || this.prepared.size < MAX_PREPARED_PER_SESSION)) {
      this.prepared.add(name);
      await this.client.query({ name, text: sql, values: params as SqlValue[] });
      return;
    }
    await this.client.query(sql, params as SqlValue[]);
  }

  async rows(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]> {
    return (await this.client.query<Record<string, unknown>>(sql, params as SqlValue[])).rows;
  }

  async close(): Promise<void> {
    this.broken = true;
    await this.client.end().catch(() => {});
  }
}

interface KeyRow extends Record<string, unknown> {
  is_primary: boolean;
  cols: string[];
}

/** SQLSTATE 22 (data exception) and 23 (integrity) say the row is wrong, except a unique clash, which a concurrent writer can cause. */
function isPgDataError(err: unknown): boolean {
  if (!hasCode(err)) return false;
  const code = err.code;
  // 21000: a statement touched one row twice (rows combined in ways the one-at-a-time pass avoids).
  return code === '21000' || code.startsWith('22') || (code.startsWith('23') && code !== '23505');
}

const dialect: SqlDialect = {
  target: 'postgresql',
  defaultPort: 5432,
  // The protocol allows 65535 parameters a statement; stay well below, and below a few MiB of values.
  limits: { maxParams: 30_000, maxBytes: 8 * 1024 * 1024, maxRows: PREPARED_ROWS, statementRows: STATEMENT_ROWS },
  beginSql: 'BEGIN',

  async connect(config: SqlSinkConfig): Promise<SqlSession> {
    const client = new (loadPg().Client)({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.database,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
      application_name: 'hstreamlite-sink',
      // queries go out without waiting for the previous answer: a write's transaction is one round trip
      pipeline: true,
    });
    const session = new PgSession(client);
    try {
      await client.connect();
    } catch (err) {
      await session.close();
      throw err;
    }
    return session;
  },

  async loadTable(session: SqlSession, config: SqlSinkConfig): Promise<TableInfo | undefined> {
    // to_regclass reads the name as SQL would: unquoted parts lower-cased, "quoted" kept, schema.table
    // allowed, otherwise the search_path decides. A name it cannot parse is a table that does not exist.
    let found: Record<string, unknown>[];
    try {
      found = await session.rows(
        `SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.oid = to_regclass($1)`,
        [config.table],
      );
    } catch (err) {
      if (hasCode(err) && (err.code.startsWith('42') || err.code === '3F000')) return undefined;
      throw err;
    }
    const rel = found[0];
    if (!rel) return undefined;
    const oid = String(rel.oid);
    const columns = (await session.rows(
      `SELECT attname::text AS name FROM pg_attribute
        WHERE attrelid = $1::int8::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [oid],
    )).map((r) => String(r.name));
    // Only keys ON CONFLICT can use: whole-column, non-partial, non-deferrable unique indexes.
    const keys = (await session.rows(
      `SELECT i.indisprimary AS is_primary,
              array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.attnum ORDER BY u.ord) AS cols
         FROM pg_index i
        WHERE i.indrelid = $1::int8::oid AND i.indisunique AND i.indimmediate AND i.indpred IS NULL AND i.indexprs IS NULL`,
      [oid],
    )) as KeyRow[];
    const primary = keys.find((k) => k.is_primary);
    const columnSet = new Set(columns);
    return {
      sqlName: `${quoteIdent(String(rel.schema))}.${quoteIdent(String(rel.name))}`,
      displayName: config.table,
      columns,
      primaryKey: primary ? primary.cols : [],
      uniqueKeys: keys.map((k) => [...k.cols].sort()),
      // A field names its column exactly, or as an unquoted identifier would (CREATE TABLE t (userId …) makes "userid").
      resolve(field: string): string | undefined {
        if (columnSet.has(field)) return field;
        const folded = field.toLowerCase();
        return columnSet.has(folded) ? folded : undefined;
      },
    };
  },

  upsert(table: TableInfo, run: Run): SqlStatement {
    const params: SqlValue[] = [];
    for (const op of run.ops) for (const v of op.values) params.push(v);
    // Runs come in a few row counts (STATEMENT_ROWS), so a text recurs: prepared once per connection,
    // PostgreSQL neither parses nor plans it again (that was half of its CPU for 500-row statements).
    const { sql, name } = upsertText(table, run.columns, run.conflict, run.ops.length);
    return { sql, params, name };
  },

  delete(table: TableInfo, run: Run): SqlStatement {
    const params: SqlValue[] = [];
    const tuples = run.ops.map((op) => {
      const marks = op.values.map((v) => `$${params.push(v)}`);
      return marks.length === 1 ? marks[0]! : `(${marks.join(',')})`;
    });
    const target = run.columns.length === 1 ? quoteIdent(run.columns[0]!) : `(${run.columns.map(quoteIdent).join(',')})`;
    return { sql: `DELETE FROM ${table.sqlName} WHERE ${target} IN (${tuples.join(',')})`, params };
  },

  isDataError: isPgDataError,
};

export const postgresqlSink: SinkDriver = {
  readsJson: true,
  // The next write queues on the connections behind the one PostgreSQL is working on, so it
  // never waits while we plan and serialize rows (the writer keeps call order: sql-writer.ts).
  writesInFlight: 2,
  target: 'postgresql',
  spec: sqlSinkSpec('postgresql', 'PostgreSQL', 5432),
  secretKeys: ['password'],
  check: (config) => checkSqlSink(dialect, config),
  open: (config, ctx) => openSqlSink(dialect, config, ctx),
};
