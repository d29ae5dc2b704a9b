/**
 * What the SQL sinks do the same way whatever the database: check a config,
 * hold two connections (reopened after a failure), apply a write call's
 * rows split by key over them (each part atomic), and find the one row the
 * database refuses when a part fails on its data. A dialect supplies connecting, the table's
 * metadata and the SQL text.
 */
import { CheckFailure, RewriteNeeded, UnmappableRecord, type ConnectorConfig, type SinkBatch, type SinkContext, type SinkRecord, type SinkWriteOptions, type SinkWriter } from './driver.js';
import { describeTarget, readSqlSinkConfig, type SqlSinkConfig } from './sql-config.js';
import { groupRuns, planRecord, type RowOp, type Run, type RunLimits, type SqlValue, type TableInfo } from './sql-rows.js';

export interface SqlSession {
  /** `name`: the statement's text is the same every time it carries this name (it may be kept prepared) */
  exec(sql: string, params: readonly SqlValue[], name?: string): Promise<void>;
  /** a metadata query's rows */
  rows(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]>;
  /** must not throw */
  close(): Promise<void>;
  /** set once the connection reported an error: the writer opens a new one */
  readonly broken: boolean;
  /**
   * Statements passed to exec() without waiting go out at once and run in
   * order, and the database aborts an open transaction at its first error
   * (its COMMIT then rolls back): a transaction can be sent whole, in one
   * round trip. MySQL goes on after a failed statement, so it must not.
   */
  readonly pipelined?: boolean;
}

export interface SqlStatement {
  readonly sql: string;
  readonly params: readonly SqlValue[];
  /** set when the text recurs: a name the session may prepare it under */
  readonly name?: string;
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

/**
 * A key value as the split by key sees it: values a database may take for
 * the same key get the same text: 1, "1", "+1", "01", " 1.0"; "Abc" and
 * "abc " under case- and pad-insensitive collations, accents under
 * accent-insensitive ones; a timestamp however it is written. Putting
 * different keys in one part costs only balance; one key in two parts would
 * let the parts commit its rows out of order.
 */
function laneValue(value: SqlValue): string {
  if (typeof value !== 'string') return String(value);
  const text = value.trim();
  if (text !== '' && Number.isFinite(Number(text))) return String(Number(text));
  if (/^\d{4}-\d\d-\d\d/.test(text)) return 'timestamp';
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** The text a row's part is chosen by: equal for rows a database may take for the same key. */
function laneText(op: RowOp): string {
  const key = op.kind === 'delete' ? op.columns : op.conflict;
  const values = key.map((c) => laneValue(op.values[op.columns.indexOf(c)] ?? null));
  return values.length === 1 ? values[0]! : JSON.stringify(values);
}

/**
 * Splits a write's rows into `lanes` parts by key (FNV-1a of laneText).
 * Rows that resolve on different key columns might name the same row two
 * ways, so such a write stays in one part, as does a small one.
 */
export function splitByKey(ops: readonly RowOp[], lanes: number): RowOp[][] {
  const keyColumns = (op: RowOp) => (op.kind === 'delete' ? op.columns : op.conflict).join(',');
  const first = ops[0] ? keyColumns(ops[0]) : '';
  if (lanes <= 1 || ops.length < MIN_ROWS_TO_SPLIT || ops.some((op) => keyColumns(op) !== first)) return [[...ops]];
  const parts: RowOp[][] = Array.from({ length: lanes }, () => []);
  for (const op of ops) {
    const text = laneText(op);
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    parts[(h >>> 0) % lanes]!.push(op);
  }
  return parts;
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

/**
 * Rows of one write are spread over this many connections by key, and the
 * parts are applied at the same time: the database works on two backends
 * instead of one (about 1.4× on PostgreSQL on a 2-core machine). Rows of
 * one key always take the same connection, in order, and a write completes
 * only when every part has, so per-key order holds across writes.
 */
const WRITE_LANES = 2;
/** below this many rows a write is one statement on one connection */
const MIN_ROWS_TO_SPLIT = 200;

/** The last write called, while its outcome matters to the next one. */
interface WriteInFlight {
  /** resolves once its statements are on their connections (or it failed before sending any) */
  readonly sent: Promise<void>;
  /** resolves true when its rows went through without a failure, false otherwise; never rejects */
  readonly clean: Promise<boolean>;
  /** set when it settled: a write called after that does not wait on it */
  done: boolean;
  /** its rows went over the connections by key (splitByKey), as every split write's do; false: all on one */
  byKey: boolean;
  /**
   * it is redoing a part row by row, one statement at a time with waits between them: a write sent
   * now would land inside that transaction, so it waits until this one settles
   */
  rowByRow: boolean;
}

class SqlSinkWriter implements SinkWriter {
  private sessions: SqlSession[] = [];
  private table: TableInfo | undefined;
  private last: WriteInFlight | undefined;
  /** a write failed since the last one not sent ahead: writes sent ahead are refused */
  private failed = false;

  constructor(
    private readonly dialect: SqlDialect,
    private readonly config: SqlSinkConfig,
    private readonly ctx: SinkContext,
  ) {}

  async ready(): Promise<{ sessions: SqlSession[]; table: TableInfo }> {
    if (this.sessions.length === WRITE_LANES && this.sessions.every((s) => !s.broken) && this.table) {
      return { sessions: this.sessions, table: this.table };
    }
    await this.drop();
    if (this.ctx.signal.aborted) throw new Error(`${this.dialect.target} sink stopped`);
    const sessions: SqlSession[] = [];
    try {
      for (let i = 0; i < WRITE_LANES; i++) {
        try {
          sessions.push(await this.dialect.connect(this.config));
        } catch (err) {
          throw new Error(this.failure('cannot connect', err), { cause: err });
        }
      }
      this.table = await this.loadTable(sessions[0]!);
    } catch (err) {
      await Promise.all(sessions.map((s) => s.close()));
      throw err;
    }
    this.sessions = sessions;
    this.ctx.log.info({ target: this.dialect.target, host: this.config.host, port: this.config.port, table: this.config.table }, 'sink connected');
    return { sessions, table: this.table };
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
    const sessions = this.sessions;
    this.sessions = [];
    this.table = undefined;
    await Promise.all(sessions.map((s) => s.close()));
  }

  /**
   * Writes in call order: each is sent once the one before it has been (on
   * a pipelining connection it then queues behind it; otherwise it waits
   * for it to finish). A write that may land before an earlier one's retry
   * throws RewriteNeeded: one in flight when the one before it fails (or is
   * redone row by row), and one sent ahead after a failure the runtime has
   * not retried yet (it is not sent at all).
   */
  write(batches: readonly SinkBatch[], options: SinkWriteOptions = {}): Promise<void> {
    // a write not sent ahead is the runtime's retry, or comes after it: failures before it are dealt with
    if (options.ahead !== true) this.failed = false;
    const previous = this.last !== undefined && !this.last.done ? this.last : undefined;
    let markSent!: () => void;
    let settle!: (clean: boolean) => void;
    const last: WriteInFlight = {
      sent: new Promise<void>((resolve) => (markSent = resolve)),
      clean: new Promise<boolean>((resolve) => (settle = resolve)),
      done: false,
      byKey: true,
      rowByRow: false,
    };
    this.last = last;
    return this.writeAfter(batches, previous, last, markSent, (clean) => {
      last.done = true;
      settle(clean);
    });
  }

  private async writeAfter(
    batches: readonly SinkBatch[],
    previous: WriteInFlight | undefined,
    self: WriteInFlight,
    markSent: () => void,
    settle: (clean: boolean) => void,
  ): Promise<void> {
    // whether this write's own rows went through without a failure on the way
    let clean = true;
    try {
      await previous?.sent;
      // Set the moment a write fails, before anyone hears of it: a write called after that is not sent at all.
      if (this.failed) throw new RewriteNeeded();
      clean = await this.writeNow(batches, previous, self, markSent);
    } catch (err) {
      if (!(err instanceof RewriteNeeded)) {
        this.failed = true;
        clean = false;
      }
      throw err;
    } finally {
      markSent();
      settle(clean);
    }
    if (previous !== undefined && !(await previous.clean)) throw new RewriteNeeded();
  }

  /** false when a part failed on a row's data and went through row by row instead */
  private async writeNow(batches: readonly SinkBatch[], previous: WriteInFlight | undefined, self: WriteInFlight, markSent: () => void): Promise<boolean> {
    const records: SinkRecord[] = [];
    for (const b of batches) records.push(...b.records);
    if (records.length === 0) return true;
    let { sessions, table } = await this.ready();

    let ops: RowOp[];
    try {
      ops = records.map((r) => planRecord(r, table));
    } catch (err) {
      if (!(err instanceof UnmappableRecord)) throw err;
      // The table may have changed since we read it (a column added): read it again once before refusing the record.
      try {
        table = this.table = await this.loadTable(sessions[0]!);
      } catch (reloadErr) {
        await this.drop();
        throw new Error(this.failure('cannot read the table', reloadErr), { cause: reloadErr });
      }
      ops = records.map((r) => planRecord(r, table));
    }

    const lanes = splitByKey(ops, sessions.length);
    self.byKey = lanes.length > 1;
    // Rows of one key take the same connection in every write split by key, so such a write may queue
    // behind the one before it. A write sent whole to one connection breaks that rule, and a connection
    // that runs statements one at a time cannot queue: then it waits for the one before it to finish.
    // So does any write while the one before it redoes a part row by row (see WriteInFlight.rowByRow).
    const mustWait = !self.byKey || !previous?.byKey || sessions.some((s) => !s.pipelined) || (previous?.rowByRow === true && !previous.done);
    if (previous !== undefined && mustWait) {
      await previous.clean;
      if (this.failed) throw new RewriteNeeded();
      ({ sessions, table } = await this.ready());
    }
    // apply() hands its first statement (on a pipelining connection: all of them) to the connection before it awaits anything
    const applied = lanes.map((laneOps, i) => this.apply(sessions[i]!, table, laneOps));
    markSent();
    const results = await Promise.allSettled(applied);
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ lane: i, err: r.reason as unknown }] : []));
    if (failed.length === 0) return true;
    const connectionFailure = failed.find((f) => !this.dialect.isDataError(f.err));
    if (connectionFailure) {
      await this.drop();
      throw new Error(this.failure('write failed', connectionFailure.err), { cause: connectionFailure.err });
    }
    // A part failed on a row's data: name the row (the other parts are written; the retry without it rewrites them, harmlessly).
    // Not while the write before this one still sends statements of its own on the same connections.
    self.rowByRow = true;
    if (previous !== undefined) await previous.clean;
    for (const { lane } of failed) await this.findRefusedRow(sessions[lane]!, table, lanes[lane]!);
    return false;
  }

  /** One part of a write: a single statement on its own, several in a transaction. Rolls back on failure. */
  private async apply(session: SqlSession, table: TableInfo, ops: readonly RowOp[]): Promise<void> {
    if (ops.length === 0) return;
    const statements = groupRuns(ops, this.dialect.limits).map((run) => (run.kind === 'upsert' ? this.dialect.upsert(table, run) : this.dialect.delete(table, run)));
    // One statement is atomic on its own: skipping BEGIN/COMMIT saves two round trips per write.
    const transaction = statements.length > 1;
    if (transaction && session.pipelined) return this.applyPipelined(session, statements);
    try {
      if (transaction) await session.exec(this.dialect.beginSql, []);
      for (const stmt of statements) await session.exec(stmt.sql, stmt.params, stmt.name);
      if (transaction) await session.exec('COMMIT', []);
    } catch (err) {
      if (transaction) await this.rollback(session);
      throw err;
    }
  }

  /**
   * A transaction sent whole: BEGIN, the statements and COMMIT without
   * waiting between them, so the database works through a write while the
   * next statements are still being serialized, and answers once. The first
   * failure is the one to report: what follows it only says the transaction
   * was already aborted.
   */
  private async applyPipelined(session: SqlSession, statements: readonly SqlStatement[]): Promise<void> {
    const sent = [
      session.exec(this.dialect.beginSql, []),
      ...statements.map((stmt) => session.exec(stmt.sql, stmt.params, stmt.name)),
      session.exec('COMMIT', []),
    ];
    const failure = (await Promise.allSettled(sent)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure === undefined) return;
    // The COMMIT has rolled back already; this only matters if it never arrived.
    await this.rollback(session);
    throw failure.reason;
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
