/**
 * /v1/queries and /v1/views: continuous queries with their SQL, status and
 * plan (EXPLAIN), terminate / resume / delete; views with their current rows.
 * Same query manager and SQL statements as gRPC.
 */
import type { ServerContext } from '../context.js';
import { validateName } from '../core/names.js';
import type { QueryMeta } from '../core/queries.js';
import type { SqlStatements } from '../core/sql-statements.js';
import { booleanParam } from './fields.js';
import type { HttpHandler } from './handler.js';
import type { Router } from './router.js';

function queryJson(q: QueryMeta) {
  return {
    query_id: q.id,
    status: q.status.replace(/^TASK_/, ''),
    sql: q.sql,
    kind: q.kind,
    result_name: q.resultName,
    sources: q.sources,
    created_ms: q.createdTimeMs,
    reason: q.reason ?? null,
  };
}

export function addQueryRoutes(router: Router<HttpHandler>, ctx: ServerContext, sql: SqlStatements): void {
  const { queries } = ctx;
  const done = { status: 200, body: {} };

  /** The plan as EXPLAIN shows it; a query whose SQL no longer plans says why instead. */
  const planOf = async (q: QueryMeta): Promise<string> => {
    try {
      const [row] = await sql.execute({ kind: 'explain', statement: sql.parse(q.sql) }, q.sql);
      return String(row?.['explain'] ?? '');
    } catch (err) {
      return `(no plan: ${(err as Error).message})`;
    }
  };

  router
    .add('GET', '/v1/queries', () => ({ status: 200, body: queries.list().map(queryJson) }))
    .add('GET', '/v1/queries/:id', async (req) => {
      const q = queries.get(validateName('query', req.params.id));
      return { status: 200, body: { ...queryJson(q), plan: await planOf(q) } };
    })
    .add('POST', '/v1/queries/:id/terminate', async (req) => {
      await queries.terminate(validateName('query', req.params.id));
      return done;
    })
    .add('POST', '/v1/queries/:id/resume', async (req) => {
      await queries.resume(validateName('query', req.params.id));
      return done;
    })
    .add('DELETE', '/v1/queries/:id', async (req) => {
      await queries.delete(validateName('query', req.params.id));
      return done;
    })
    .add('GET', '/v1/views', () => ({
      status: 200,
      body: queries.viewNames().map((name) => {
        const q = queries.viewQuery(name)!;
        return { view_name: name, query_id: q.id, status: q.status.replace(/^TASK_/, ''), schema: sql.viewSchema(q) };
      }),
    }))
    .add('GET', '/v1/views/:name', (req) => {
      const name = validateName('view', req.params.name);
      const rows = queries.viewRows(name);
      const q = queries.viewQuery(name)!;
      return { status: 200, body: { view_name: name, query_id: q.id, status: q.status.replace(/^TASK_/, ''), rows } };
    })
    .add('DELETE', '/v1/views/:name', async (req) => {
      await queries.deleteView(validateName('view', req.params.name), booleanParam(req.query, 'ignore_missing'));
      return done;
    });
}
