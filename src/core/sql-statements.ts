/**
 * SQL statements as every way in runs them (gRPC ExecuteQuery / CreateQuery /
 * ExecuteViewQuery and the HTTP console): one parse, one set of checks, one
 * mapping of statement kinds to core calls. Push queries (SELECT … EMIT
 * CHANGES) are not run here: they become a temporary CREATE STREAM … AS
 * SELECT plus a subscription, which the caller owns and cleans up.
 */
import { randomBytes } from 'node:crypto';
import { explain, executePull, parseStatement, SqlError, type Row, type Statement } from '../../sql/index.js';
import type { ConnectorManager } from '../connectors/manager.js';
import type { ConnectorView } from '../connectors/view.js';
import { ErrorCode, invalidArgument, notFound } from '../errors.js';
import { encodeStruct } from '../struct.js';
import { validateName } from './names.js';
import type { Producer } from './producer.js';
import { sqlToHStream, type QueryManager, type QueryMeta } from './queries.js';
import type { StreamCatalog } from './streams.js';

export interface SqlDeps {
  streams: StreamCatalog;
  producer: Producer;
  queries: QueryManager;
  connectors: ConnectorManager;
}

/** Parses one statement; an empty text or a syntax error is InvalidQuerySql with the position. */
export function parse(sql: string): Statement {
  if (!sql || sql.trim() === '') throw invalidArgument(ErrorCode.QueryInvalidSQL, 'InvalidQuerySql', { extra: 'the SQL text is empty' });
  try {
    return parseStatement(sql);
  } catch (err) {
    if (err instanceof SqlError) throw sqlToHStream(err);
    throw err;
  }
}

/**
 * A connector as a SHOW CONNECTORS row, and as the row of CREATE … CONNECTOR (the way CREATE
 * STREAM answers with its SHOW STREAMS row). Times in seconds, like the other SHOW rows.
 */
function toConnectorRow(c: ConnectorView): Row {
  return { name: c.name, type: c.type, target: c.target, status: c.status, createdTime: Math.floor(c.creationTimeMs / 1000) };
}

const generatedQueryId = () => `query_${Date.now()}_${randomBytes(3).toString('hex')}`;

export interface SqlStatements {
  parse(sql: string): Statement;
  /** Starts the continuous query a statement describes; other statements are refused. */
  createQuery(sql: string, queryName: string): Promise<QueryMeta>;
  /** A pull query on a view: its rows now. */
  pull(stmt: Statement & { kind: 'select' }): Row[];
  /** Runs one statement of ExecuteQuery (anything but a push query); returns its result rows. */
  execute(stmt: Statement, sql: string): Promise<Row[]>;
  /** a view's column names, from its current rows */
  viewSchema(q: QueryMeta): string[];
}

export function sqlStatements({ streams, producer, queries, connectors }: SqlDeps): SqlStatements {
  async function createQuery(sql: string, queryName: string): Promise<QueryMeta> {
    const id = queryName ? validateName('query', queryName) : generatedQueryId();
    const stmt = parse(sql);
    switch (stmt.kind) {
      case 'createStreamAs':
        return queries.create({ id, sql, kind: 'stream', resultName: validateName('stream', stmt.name), select: stmt.select, createSink: true });
      case 'createView':
        return queries.create({ id, sql, kind: 'view', resultName: validateName('view', stmt.name), select: stmt.select, createSink: false });
      case 'insertSelect':
        return queries.create({ id, sql, kind: 'stream', resultName: validateName('stream', stmt.stream), select: stmt.select, createSink: false });
      default:
        throw invalidArgument(ErrorCode.QueryInvalidSQL, 'InvalidQuerySql', {
          extra: 'CreateQuery takes CREATE STREAM … AS SELECT, CREATE VIEW … AS SELECT or INSERT INTO … SELECT',
        });
    }
  }

  function viewSchema(q: QueryMeta): string[] {
    try {
      const rows = queries.viewRows(q.resultName);
      return rows.length > 0 ? Object.keys(rows[0]!) : [];
    } catch {
      return [];
    }
  }

  function pull(stmt: Statement & { kind: 'select' }): Row[] {
    if (stmt.emitChanges) {
      throw invalidArgument(ErrorCode.QueryInvalidSQL, 'InvalidQuerySql', {
        extra: 'a push query (EMIT CHANGES) runs as CREATE STREAM … AS SELECT plus a subscription; use `hstream sql` or CreateQuery',
      });
    }
    const [source] = stmt.select.sources;
    if (stmt.select.sources.length !== 1 || !source || !queries.viewQuery(source)) {
      throw notFound(ErrorCode.QueryNotFound, 'ViewNotFound', { extra: `a query without EMIT CHANGES reads a view; ${stmt.select.sources.join(', ')} is not one` });
    }
    try {
      return executePull(stmt.select, queries.viewRows(source));
    } catch (err) {
      throw sqlToHStream(err);
    }
  }

  async function insertRow(stream: string, payload: { json: Row } | { bytes: Buffer }): Promise<void> {
    const record =
      'json' in payload
        ? { header: { flag: 'JSON' as const, attributes: {}, key: '' }, payload: encodeStruct(payload.json) }
        : { header: { flag: 'RAW' as const, attributes: {}, key: '' }, payload: payload.bytes };
    await producer.appendRecords(stream, [record]);
  }

  /** Runs one statement of ExecuteQuery; returns its result rows. */
  async function execute(stmt: Statement, sql: string): Promise<Row[]> {
    switch (stmt.kind) {
      case 'explain':
        return [{ explain: explain(stmt.statement) }];
      case 'createStream': {
        const s = await streams.create({
          name: validateName('stream', stmt.name),
          replicationFactor: stmt.options.replicationFactor ?? 1,
          // upstream's SQL default retention: 7 days
          backlogDuration: stmt.options.backlogDuration ?? 604_800,
          shardCount: stmt.options.shardCount ?? 1,
        });
        return [{ streamName: s.name, replicationFactor: s.replicationFactor, backlogDuration: s.backlogDuration, shardCount: s.shardCount }];
      }
      case 'createStreamAs':
      case 'createView':
      case 'insertSelect': {
        const q = await createQuery(sql, '');
        return [{ queryId: q.id, resultName: q.resultName }];
      }
      case 'insertValues':
        await insertRow(stmt.stream, { json: stmt.row });
        return [];
      case 'insertRaw':
        await insertRow(stmt.stream, stmt.payload);
        return [];
      case 'select':
        return pull(stmt);
      case 'drop':
        if (stmt.object === 'stream') {
          await streams.delete(validateName('stream', stmt.name), { ignoreNonExist: stmt.ifExists, force: false });
        } else if (stmt.object === 'view') {
          await queries.deleteView(stmt.name, stmt.ifExists);
        } else if (stmt.object === 'query') {
          if (!(stmt.ifExists && !queries.find(stmt.name))) await queries.delete(stmt.name);
        } else {
          // the manager answers unknown names with success, as upstream; IF EXISTS changes nothing
          await connectors.delete(stmt.name);
        }
        return [];
      case 'show':
        if (stmt.object === 'streams') return streams.list().map((s) => ({ streamName: s.name, replicationFactor: s.replicationFactor, backlogDuration: s.backlogDuration, shardCount: s.shardCount }));
        if (stmt.object === 'queries') return queries.list().map((q) => ({ queryId: q.id, status: q.status, createdTime: Math.floor(q.createdTimeMs / 1000), queryText: q.sql }));
        if (stmt.object === 'views') return queries.viewNames().map((name) => ({ viewId: name }));
        return connectors.list().map(toConnectorRow);
      case 'terminate':
        await queries.terminate(stmt.queryId);
        return [];
      case 'createConnector': {
        // the very request CreateConnector takes, so both ways in get the same checks and errors
        const c = await connectors.create({ name: stmt.name, type: stmt.connectorType, target: stmt.target, config: JSON.stringify(stmt.options) });
        return [toConnectorRow(c)];
      }
      case 'pauseConnector':
        await connectors.pause(stmt.name);
        return [];
      case 'resumeConnector':
        await connectors.resume(stmt.name);
        return [];
    }
  }

  return { parse, createQuery, pull, execute, viewSchema };
}
