/**
 * What the SQL sinks do the same way whatever the database: check a config,
 * hold one connection (reopened after a failure), and apply a write call's
 * rows in one transaction, finding the one row the database refuses when a
 * batch fails on its data. A dialect supplies connecting, the table's
 * metadata and the SQL text.
 */
import { CheckFailure, UnmappableRecord, type ConnectorConfig, type SinkBatch, type SinkContext, type SinkRecord, type SinkWriter } from './driver.js';
import { describeTarget, readSqlSinkConfig, type SqlSinkConfig } from './sql-config.js';
import { groupRuns, planRecord, type RowOp, type Run, type RunLimits, type SqlValue, type TableInfo } from './sql-rows.js';

export interface SqlSession {
  exec(sql: string, params: readonly SqlValue[]): Promise<void>;
  /** a metadata query's rows */
  rows(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]>;
  /** must not throw */
  close(): Promise<void>;
  /** set once the connection reported an error: the writer opens a new one */
  readonly broken: boolean;
}

export interface SqlStatement {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

export interface SqlDialect {
  readonly target: 'postgresql' | 'mysql';
  readonly defaultPort: number;
  readonly limits: RunLimits;
  readonly beginSql: string;
  /** throws on failure, with a message that never contains the password */
  connect(config: SqlSinkConfig): Promise<SqlSession>;
  /** undefined when the table does not exist (or is not visible to the user) */
  loadTable(session: SqlSession, config: SqlSinkConfig): Promise<TableInfo | undefined>;
  upsert(table: TableInfo, run: Run): SqlStatement;
  delete(table: TableInfo, run: Run): SqlStatement;
  /** whether an error says the database refused a row's data (not the connection, not the server) */
  isDataError(err: unknown): boolean;
}

/** An error's text for a person: Node's multi-address connect failures carry theirs inside. */
export function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map((e) => errorText(e)))].join('; ');
  }
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** Never leaves the password in text bound for a person, whatever a client library put there. */
function scrub(text: string, config: SqlSinkConfig): string {
  return config.password.length >= 3 ? text.split(config.password).join('***') : text;
}

export async function checkSqlSink(dialect: SqlDialect, raw: ConnectorConfig): Promise<void> {
  const config = readSqlSinkConfig(raw, dialect.defaultPort);
  let session: SqlSession;
  try {
    session = await dialect.connect(config);
  } catch (err) {
    throw new CheckFailure('CONNECTION', 'get connector failed',
      scrub(`cannot connect to ${describeTarget(dialect.target, config)}: ${errorText(err)}`, config));
  }
  try {
    const table = await dialect.loadTable(session, config);
    if (!table) {
      throw new CheckFailure('KEYS', 'table/primary keys not found', `table ${config.table} does not exist in database ${config.database}`);
    }
    if (table.primaryKey.length === 0) {
      throw new CheckFailure('KEYS', 'table/primary keys not found', `table ${config.table} has no primary key`);
    }
  } catch (err) {
    if (err instanceof CheckFailure) throw err;
    throw new CheckFailure('CONNECTION', 'get connector failed',
      scrub(`cannot read table ${config.table} from ${describeTarget(dialect.target, config)}: ${errorText(err)}`, config));
  } finally {
    await session.close();
  }
}

export async function openSqlSink(
  dialect: SqlDialect,
  raw: ConnectorConfig,
  ctx: SinkContext,
): Promise<SinkWriter> {
  const writer = new SqlSinkWriter(dialect, readSqlSinkConfig(raw, dialect.defaultPort), ctx);
  // Connect now so a config that cannot work shows up as a target failure at once, not on the first record.
  await writer.ready();
  return writer;
}

class SqlSinkWriter implements SinkWriter {
  private session: SqlSession | undefined;
  private table: TableInfo | undefined;

  constructor(
    private readonly dialect: SqlDialect,
    private readonly config: SqlSinkConfig,
    private readonly ctx: SinkContext,
  ) {}

  async ready(): Promise<{ session: SqlSession; table: TableInfo }> {
    if (this.session && !this.session.broken && this.table) return { session: this.session, table: this.table };
    await this.drop();
    if (this.ctx.signal.aborted) throw new Error(`${this.dialect.target} sink stopped`);
    let session: SqlSession;
    try {
      session = await this.dialect.connect(this.config);
    } catch (err) {
      throw new Error(this.failure('cannot connect', err), { cause: err });
    }
    try {
      this.table = await this.loadTable(session);
    } catch (err) {
      await session.close();
      throw err;
    }
    this.session = session;
    this.ctx.log.info({ target: this.dialect.target, host: this.config.host, port: this.config.port, table: this.config.table }, 'sink connected');
    return { session, table: this.table };
  }

  private async loadTable(session: SqlSession): Promise<TableInfo> {
    const table = await this.dialect.loadTable(session, this.config);
    if (!table) throw new Error(`table ${this.config.table} does not exist in database ${this.config.database}`);
    return table;
  }

  private failure(what: string, err: unknown): string {
    return scrub(`${what} (${describeTarget(this.dialect.target, this.config)}, table ${this.config.table}): ${errorText(err)}`, this.config);
  }

  private async drop(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    this.table = undefined;
    if (s) await s.close();
  }

  async write(batches: readonly SinkBatch[]): Promise<void> {
    const records: SinkRecord[] = [];
    for (const b of batches) records.push(...b.records);
    if (records.length === 0) return;
    let { session, table } = await this.ready();

    let ops: RowOp[];
    try {
      ops = records.map((r) => planRecord(r, table));
    } catch (err) {
      if (!(err instanceof UnmappableRecord)) throw err;
      // The table may have changed since we read it (a column added): read it again once before refusing the record.
      try {
        table = this.table = await this.loadTable(session);
      } catch (reloadErr) {
        await this.drop();
        throw new Error(this.failure('cannot read the table', reloadErr), { cause: reloadErr });
      }
      ops = records.map((r) => planRecord(r, table));
    }

    try {
      await session.exec(this.dialect.beginSql, []);
      for (const run of groupRuns(ops, this.dialect.limits)) {
        const stmt = run.kind === 'upsert' ? this.dialect.upsert(table, run) : this.dialect.delete(table, run);
        await session.exec(stmt.sql, stmt.params);
      }
      await session.exec('COMMIT', []);
    } catch (err) {
      await this.rollback(session);
      if (!this.dialect.isDataError(err)) {
        await this.drop();
        throw new Error(this.failure('write failed', err), { cause: err });
      }
      await this.findRefusedRow(session, table, ops);
    }
  }

  /**
   * The batch failed on some row's data; applying the rows one at a time in
   * a new transaction names it. If none fails alone (the batch tripped on
   * how rows were combined), the one-at-a-time transaction is the write.
   */
  private async findRefusedRow(session: SqlSession, table: TableInfo, ops: readonly RowOp[]): Promise<void> {
    let current: RowOp | undefined;
    try {
      await session.exec(this.dialect.beginSql, []);
      for (const op of ops) {
        current = op;
        const run: Run = { kind: op.kind, columns: op.columns, conflict: op.kind === 'upsert' ? op.conflict : op.columns, ops: [op] };
        const stmt = op.kind === 'upsert' ? this.dialect.upsert(table, run) : this.dialect.delete(table, run);
        await session.exec(stmt.sql, stmt.params);
      }
      current = undefined;
      await session.exec('COMMIT', []);
    } catch (err) {
      await this.rollback(session);
      if (current && this.dialect.isDataError(err)) {
        throw new UnmappableRecord(
          scrub(`record ${current.recordId}: ${this.dialect.target} refused the row for table ${table.displayName}: ${errorText(err)}`, this.config),
          current.recordId,
        );
      }
      await this.drop();
      throw new Error(this.failure('write failed', err), { cause: err });
    }
  }

  private async rollback(session: SqlSession): Promise<void> {
    try {
      await session.exec('ROLLBACK', []);
    } catch {
      // A connection that cannot even roll back is replaced on the next write.
      await this.drop();
    }
  }

  async close(): Promise<void> {
    await this.drop();
  }
}
