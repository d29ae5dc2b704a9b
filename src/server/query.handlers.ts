/**
 * SQL, queries and views. CreateQuery runs CREATE STREAM … AS / CREATE VIEW
 * … AS / INSERT INTO … SELECT as continuous queries; ExecuteQuery runs every
 * other non-push statement (and EXPLAIN), so a thin client can send any SQL.
 * Push queries (SELECT … EMIT CHANGES) go the way the upstream CLI does them:
 * a temporary CREATE STREAM … AS SELECT plus a subscription.
 */
import type { ServerContext } from '../context.js';
import type { QueryMeta, QueryManager } from '../core/queries.js';
import { parse, sqlStatements } from '../core/sql-statements.js';
import { ErrorCode, invalidArgument, notFound } from '../errors.js';
import { toStructMessage } from '../struct.js';
import type { RouteTable } from './routes.js';

export function toQueryMessage(q: QueryMeta) {
  return {
    id: q.id,
    status: q.status,
    createdTime: String(Math.floor(q.createdTimeMs / 1000)),
    queryText: q.sql,
    sources: q.sources,
    resultName: q.resultName,
    type: q.kind === 'view' ? 'CreateViewAs' : 'CreateStreamAs',
    nodeId: 1,
  };
}

function toViewMessage(q: QueryMeta, schema: string[]) {
  return {
    viewId: q.resultName,
    status: q.status,
    createdTime: String(Math.floor(q.createdTimeMs / 1000)),
    sql: q.sql,
    schema,
    queryName: q.id,
  };
}

export function queryRoutes(ctx: ServerContext, queries: QueryManager): RouteTable {
  const { createQuery, execute, pull, viewSchema } = sqlStatements({ ...ctx, queries });

  function executeViewQuery(req: { sql: string }) {
    const stmt = parse(req.sql);
    if (stmt.kind !== 'select') throw invalidArgument(ErrorCode.QueryInvalidSQL, 'InvalidQuerySql', { extra: 'ExecuteViewQuery takes a SELECT on a view' });
    return { results: pull(stmt).map((row) => toStructMessage(row)) };
  }

  const createQueryRpc = async (req: { sql: string; queryName: string }) => toQueryMessage(await createQuery(req.sql, req.queryName));

  return {
    CreateQuery: createQueryRpc,
    CreateQueryWithNamespace: createQueryRpc,
    ListQueries: () => ({ queries: queries.list().map(toQueryMessage) }),
    GetQuery: (req: { id: string }) => toQueryMessage(queries.get(req.id)),
    TerminateQuery: async (req: { queryId: string }) => {
      await queries.terminate(req.queryId);
      return {};
    },
    DeleteQuery: async (req: { id: string }) => {
      await queries.delete(req.id);
      return {};
    },
    ResumeQuery: async (req: { id: string }) => {
      await queries.resume(req.id);
      return {};
    },
    ListViews: () => ({
      views: queries.viewNames().map((name) => {
        const q = queries.viewQuery(name)!;
        return toViewMessage(q, viewSchema(q));
      }),
    }),
    GetView: (req: { viewId: string }) => {
      const q = queries.viewQuery(req.viewId);
      if (!q) throw notFound(ErrorCode.QueryNotFound, 'ViewNotFound', { extra: req.viewId });
      return toViewMessage(q, viewSchema(q));
    },
    DeleteView: async (req: { viewId: string; ignoreNonExist: boolean }) => {
      await queries.deleteView(req.viewId, req.ignoreNonExist);
      return {};
    },
    ExecuteViewQuery: executeViewQuery,
    ExecuteViewQueryWithNamespace: executeViewQuery,
    ParseSql: (req: { sql: string }) => {
      const stmt = parse(req.sql);
      if (stmt.kind === 'select' && !stmt.emitChanges && stmt.select.sources.length === 1) {
        return { evqSql: { view: stmt.select.sources[0] } };
      }
      throw invalidArgument(ErrorCode.InternalError, 'SQLNotSupportedByParseSQL', { extra: 'ParseSql only recognises SELECT on a view' });
    },
    ExecuteQuery: async (req: { stmt_text: string }) => {
      const stmt = parse(req.stmt_text);
      const rows = await execute(stmt, req.stmt_text);
      return { result_set: rows.map((row) => toStructMessage(row)) };
    },
  };
}
