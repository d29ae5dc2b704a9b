/**
 * Runs SQL statements for `hstream sql` the way upstream's CLI does: the
 * statement is classified client side (sql/ parser) and sent to the RPC that
 * serves it, and results are printed as upstream prints them (tables, one
 * JSON line per row, `Done.`).
 *
 * Push queries (`SELECT … EMIT CHANGES`) become a temporary
 * `CREATE STREAM cli_generated_stream_… AS <select>` query plus an EARLIEST
 * subscription read with StreamingFetch; when the query stops (Ctrl-C,
 * --total rows, or the server ends the call) the subscription, the query and
 * the temporary stream are all deleted.
 */
import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseStatement, SqlError, type Statement } from '../../sql/index.js';
import { pushSelectText } from '../core/push-query.js';
import { compressionCode, decodeRecords } from '../records.js';
import { decodeStruct, fromStructMessage, type StructMessage } from '../struct.js';
import { CliError, type CliIO } from './args.js';
import { describeFailure, type Connection } from './connection.js';
import { aesonEncode, renderTable } from './format.js';
import { renderStreams } from './stream.js';


// ---------------------------------------------------------------------------
// Statement splitting

/**
 * Splits text into statements ending in `;` (outside '…', "…" and `…`
 * quotes); `rest` is the unfinished tail. Each statement keeps its `;` and
 * loses the blank space before it.
 */
export function splitStatements(text: string): { complete: string[]; rest: string } {
  const complete: string[] = [];
  let start = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') {
      quote = c;
    } else if (c === '-' && text[i + 1] === '-') {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? text.length : eol;
    } else if (c === ';') {
      const stmt = text.slice(start, i + 1).replace(/^\s+/, '');
      if (stmt !== ';') complete.push(stmt);
      start = i + 1;
    }
  }
  return { complete, rest: text.slice(start) };
}

// ---------------------------------------------------------------------------
// Formatting

/** Upstream's `%Y-%m-%dT%H:%M:%S%z` in GMT for a unix time in seconds. */
export function formatCreatedTime(seconds: string | number): string {
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return iso.slice(0, 19) + '+0000';
}

interface QueryMsg {
  id: string;
  status: string;
  createdTime: string;
  queryText: string;
}

interface ViewMsg {
  viewId: string;
  status: string;
  createdTime: string;
  schema: string[];
  queryName: string;
}

/** the fields of a Connector reply the tables show */
export interface ConnectorMsg {
  name: string;
  status: string;
}

/** TASK_RUNNING -> RUNNING, as upstream's tables show a status */
function statusName(status: string | number): string {
  return String(status).replace(/^TASK_/, '');
}

export function renderQueries(queries: QueryMsg[]): string {
  return renderTable(
    ['Query ID', 'Status', 'Created Time', 'SQL Text'],
    queries.map((q) => [q.id, statusName(q.status), formatCreatedTime(q.createdTime), q.queryText.replace(/\s*\n\s*/g, ' ')]),
  );
}

export function renderViews(views: ViewMsg[]): string {
  return renderTable(
    ['View Name', 'Status', 'Created Time', 'Schema', 'Query Name'],
    views.map((v) => [v.viewId, statusName(v.status), formatCreatedTime(v.createdTime), (v.schema ?? []).join(', '), v.queryName]),
  );
}

/** CREATE … CONNECTOR and SHOW CONNECTORS: upstream's CLI shows only these two columns */
export function renderConnectors(connectors: readonly ConnectorMsg[]): string {
  return renderTable(['Name', 'Status'], connectors.map((c) => [c.name, c.status]));
}

// ---------------------------------------------------------------------------
// Names of temporary objects

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const LETTERS = LOWER + LOWER.toUpperCase();

function randomLetters(alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

// ---------------------------------------------------------------------------
// Running statements

export function describeSqlError(err: SqlError): string {
  return err.line !== undefined ? `Parse exception at <line ${err.line}, column ${err.column!}>: ${err.detail}` : `Parse exception: ${err.message}`;
}

export class SqlRunner {
  /** stops the running push query, when there is one */
  private stopPush: (() => void) | undefined;
  private pushing = false;
  private stopRequested = false;

  constructor(
    private readonly conn: Connection,
    private readonly io: CliIO,
    private readonly options: { total: number },
  ) {}

  private out(text: string): void {
    this.io.stdout.write(text);
  }

  /** Ctrl-C: stops a running push query; false when none runs. */
  interrupt(): boolean {
    if (!this.pushing) return false;
    this.stopRequested = true;
    this.stopPush?.();
    return true;
  }

  /** Runs one statement (ending in `;`) and prints its result; failures are CliErrors. */
  async run(text: string): Promise<void> {
    let stmt: Statement;
    try {
      stmt = parseStatement(text);
    } catch (err) {
      if (err instanceof SqlError) throw new CliError(describeSqlError(err));
      throw err;
    }
    switch (stmt.kind) {
      case 'select':
        if (stmt.emitChanges) return this.push(text);
        return this.pull(text);
      case 'show':
        return this.show(stmt.object);
      case 'createStreamAs':
      case 'createView':
      case 'insertSelect': {
        const query = await this.conn.unary<QueryMsg>('CreateQuery', { sql: text, queryName: `cli_generated_${randomLetters(LOWER, 10)}` });
        this.out(renderQueries([query]));
        return;
      }
      case 'createConnector': {
        // the options travel as the JSON text CreateConnector takes, not as SQL
        const connector = await this.conn.unary<ConnectorMsg>('CreateConnector', {
          name: stmt.name,
          type: stmt.connectorType,
          target: stmt.target,
          config: JSON.stringify(stmt.options),
        });
        this.out(renderConnectors([connector]));
        return;
      }
      case 'pauseConnector':
        await this.conn.unary('PauseConnector', { name: stmt.name });
        this.out('Done.\n');
        return;
      case 'resumeConnector':
        await this.conn.unary('ResumeConnector', { name: stmt.name });
        this.out('Done.\n');
        return;
      case 'drop':
        if (stmt.object !== 'connector') return this.execute(stmt, text);
        // no IF EXISTS check needed: DeleteConnector succeeds for an unknown name, as upstream
        await this.conn.unary('DeleteConnector', { name: stmt.name });
        this.out('Done.\n');
        return;
      default:
        return this.execute(stmt, text);
    }
  }

  private async execute(stmt: Statement, text: string): Promise<void> {
    const { result_set } = await this.conn.unary<{ result_set: StructMessage[] }>('ExecuteQuery', { stmt_text: text });
    const rows = (result_set ?? []).map(fromStructMessage);
    if (stmt.kind === 'createStream' && rows.length === 1) {
      const r = rows[0]!;
      this.out(
        renderStreams([
          { streamName: String(r['streamName']), replicationFactor: Number(r['replicationFactor']), backlogDuration: Number(r['backlogDuration']), shardCount: Number(r['shardCount']) },
        ]),
      );
      return;
    }
    if (stmt.kind === 'explain' && rows.length === 1 && typeof rows[0]!['explain'] === 'string') {
      this.out(`-------- RAW PLAN --------\n${rows[0]!['explain'].replace(/\n?$/, '\n')}`);
      return;
    }
    if (rows.length === 0) {
      this.out('Done.\n');
      return;
    }
    for (const row of rows) this.out(aesonEncode(row) + '\n');
  }

  private async pull(text: string): Promise<void> {
    const { results } = await this.conn.unary<{ results: StructMessage[] }>('ExecuteViewQuery', { sql: text });
    for (const row of results ?? []) this.out(aesonEncode(fromStructMessage(row)) + '\n');
  }

  private async show(object: 'streams' | 'queries' | 'views' | 'connectors'): Promise<void> {
    if (object === 'streams') {
      const { streams } = await this.conn.unary<{ streams: Parameters<typeof renderStreams>[0] }>('ListStreams', {});
      this.out(renderStreams(streams));
    } else if (object === 'queries') {
      const { queries } = await this.conn.unary<{ queries: QueryMsg[] }>('ListQueries', {});
      this.out(renderQueries(queries));
    } else if (object === 'views') {
      const { views } = await this.conn.unary<{ views: ViewMsg[] }>('ListViews', {});
      this.out(renderViews(views));
    } else {
      const { connectors } = await this.conn.unary<{ connectors: ConnectorMsg[] }>('ListConnectors', {});
      this.out(renderConnectors(connectors ?? []));
    }
  }

  private async push(text: string): Promise<void> {
    const stream = `cli_generated_stream_${randomLetters(LETTERS, 20)}`;
    const queryName = `cli_generated_${randomLetters(LOWER, 10)}`;
    const subscriptionId = `cli_internal_subscription_${randomLetters(LETTERS, 20)}`;
    this.pushing = true;
    this.stopRequested = false;
    let queryCreated = false;
    let subscribed = false;
    try {
      await this.conn.unary('CreateQuery', { sql: `CREATE STREAM ${stream} AS ${pushSelectText(text)} ;`, queryName });
      queryCreated = true;
      await this.conn.unary('CreateSubscription', { subscriptionId, streamName: stream, ackTimeoutSeconds: 60, maxUnackedRecords: 10000, offset: 'EARLIEST' });
      subscribed = true;
      if (!this.stopRequested) await this.fetch(subscriptionId);
    } finally {
      this.pushing = false;
      this.stopPush = undefined;
      // the order upstream uses; force, since the call just ended may still count as a consumer
      const steps: Array<[boolean, string, Record<string, unknown>]> = [
        [subscribed, 'DeleteSubscription', { subscriptionId, force: true }],
        [queryCreated, 'TerminateQuery', { queryId: queryName }],
        [queryCreated, 'DeleteQuery', { id: queryName }],
        [queryCreated, 'DeleteStream', { streamName: stream, force: true, ignoreNonExist: true }],
      ];
      for (const [needed, rpc, request] of steps) {
        if (!needed) continue;
        try {
          await this.conn.unary(rpc, request);
        } catch (err) {
          this.io.stderr.write(`Warning: cleaning up the push query: ${rpc} failed: ${(err as Error).message}\n`);
        }
      }
    }
  }

  private async fetch(subscriptionId: string): Promise<void> {
    await this.conn.ready();
    const total = this.options.total;
    const call = this.conn.client.bidi<unknown, { receivedRecords: ReceivedMsg | null }>('StreamingFetch');
    await new Promise<void>((resolve, reject) => {
      let printed = 0;
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        call.end();
        call.cancel();
        if (err) reject(err);
        else resolve();
      };
      this.stopPush = () => finish();
      call.on('data', (m: { receivedRecords: ReceivedMsg | null }) => {
        const rr = m.receivedRecords;
        if (done || !rr?.record) return;
        for (const line of renderRows(rr.record)) {
          if (total > 0 && printed >= total) break;
          this.out(line + '\n');
          printed++;
        }
        call.write({ subscriptionId, consumerName: '', ackIds: rr.recordIds });
        if (total > 0 && printed >= total) finish();
      });
      call.on('error', (err) => finish(new CliError(describeFailure(err, this.conn.target.address), { cause: err })));
      call.on('end', () => finish());
      call.write({ subscriptionId, consumerName: '', ackIds: [] });
    });
  }
}

interface ReceivedMsg {
  recordIds: Array<{ shardId: string; batchId: string; batchIndex: number }>;
  record: { compressionType: string | number; payload: Buffer } | null;
}

function renderRows(record: NonNullable<ReceivedMsg['record']>): string[] {
  return decodeRecords(compressionCode(record.compressionType), Buffer.from(record.payload)).map((r) =>
    r.header.flag === 'JSON' ? aesonEncode(decodeStruct(r.payload)) : r.payload.toString('utf8'),
  );
}

// ---------------------------------------------------------------------------
// The interactive shell

const SHELL_HELP = [
  'Statements end with ";" and may span lines. A push query (SELECT … EMIT CHANGES;) runs until Ctrl-C.',
  'Commands: :help (this text), quit or exit (or Ctrl-D) to leave.',
  '',
].join('\n');

/** The REPL: `> ` prompt, `| ` while a statement continues, history and line editing on a terminal. */
export async function runShell(runner: SqlRunner, io: CliIO): Promise<void> {
  const terminal = io.stdin.isTTY === true && (io.stdout as { isTTY?: boolean }).isTTY === true;
  const rl = createInterface({ input: io.stdin, output: io.stdout, terminal, historySize: 1000, removeHistoryDuplicates: true });
  io.stdout.write(`hstream sql shell (hstreamlite). ${SHELL_HELP}`);
  let buffer = '';
  const prompt = () => {
    rl.setPrompt(buffer === '' ? '> ' : '| ');
    rl.prompt();
  };
  const onInterrupt = () => {
    if (runner.interrupt()) return;
    // at the prompt, Ctrl-C drops the statement being typed
    buffer = '';
    rl.write(null, { ctrl: true, name: 'u' });
    io.stdout.write('\n');
    prompt();
  };
  rl.on('SIGINT', onInterrupt);
  process.on('SIGINT', onInterrupt);
  try {
    prompt();
    for await (const line of rl) {
      const word = line.trim().replace(/;$/, '').toLowerCase();
      if (buffer === '' && (word === 'quit' || word === 'exit' || word === ':q' || word === ':quit')) break;
      if (buffer === '' && (word === ':help' || word === ':h')) {
        io.stdout.write(SHELL_HELP);
        prompt();
        continue;
      }
      buffer = buffer === '' ? line : `${buffer}\n${line}`;
      const { complete, rest } = splitStatements(buffer);
      buffer = rest.trim() === '' ? '' : rest.replace(/^\s*\n/, '');
      for (const stmt of complete) {
        try {
          await runner.run(stmt);
        } catch (err) {
          io.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
      prompt();
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    rl.close();
  }
}
