/**
 * /v1/sql: one statement of what `hstream sql` runs, through the same SQL
 * statements as gRPC ExecuteQuery. /v1/sql/push runs a push query
 * (`SELECT … EMIT CHANGES`) and streams its rows as server-sent events over
 * a POST (so the token travels in a header, which EventSource cannot send);
 * when the client goes away the temporary stream, query and subscription
 * are deleted, as the CLI does on Ctrl-C.
 */
import type { ServerResponse } from 'node:http';
import type { ServerContext } from '../context.js';
import { runPushQuery, type PushRow } from '../core/push-query.js';
import type { SqlStatements } from '../core/sql-statements.js';
import { ErrorCode, invalidArgument } from '../errors.js';
import { errorReply, HttpError } from './errors.js';
import { stringField } from './fields.js';
import type { HttpHandler } from './handler.js';
import type { Router } from './router.js';

/** Push queries running at once: each holds a query, a subscription and a connection. */
export const MAX_PUSH_QUERIES = 16;
/** A comment line this often keeps proxies and idle timers from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

function event(res: ServerResponse, name: string, data: unknown): boolean {
  return res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Resolves when the response can take more, or when the signal aborts. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves once every running push query has cleaned up (the server awaits it before closing the store). */
export type PushQueriesDrained = () => Promise<void>;

export function addSqlRoutes(router: Router<HttpHandler>, ctx: ServerContext, sql: SqlStatements): PushQueriesDrained {
  const runs = new Set<Promise<void>>();
  let running = 0;
  const sqlText = async (body: Promise<Record<string, unknown>>) => {
    const text = stringField(await body, 'sql', '');
    if (text.trim() === '') throw new HttpError(400, 'sql is missing: send {"sql": "<one statement>"}');
    return text;
  };

  router
    .add('POST', '/v1/sql', async (req) => {
      const text = await sqlText(req.json());
      const stmt = sql.parse(text);
      if (stmt.kind === 'select' && stmt.emitChanges) {
        throw invalidArgument(ErrorCode.QueryInvalidSQL, 'InvalidQuerySql', { extra: 'a push query (EMIT CHANGES) streams its rows: POST it to /v1/sql/push' });
      }
      const rows = await sql.execute(stmt, text);
      return { status: 200, body: { statement: stmt.kind, rows } };
    })
    .add('POST', '/v1/sql/push', async (req) => {
      const text = await sqlText(req.json());
      const stmt = sql.parse(text);
      if (stmt.kind !== 'select' || !stmt.emitChanges) {
        throw invalidArgument(ErrorCode.QueryInvalidSQL, 'InvalidQuerySql', { extra: '/v1/sql/push takes a push query: SELECT … EMIT CHANGES' });
      }
      if (running >= MAX_PUSH_QUERIES) throw new HttpError(503, `${MAX_PUSH_QUERIES} push queries are running already; stop one first`, { 'retry-after': '5' });
      running++;
      return {
        stream: async (res, signal) => {
          res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
          const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
          let finished = () => {};
          const run = new Promise<void>((resolve) => (finished = resolve));
          runs.add(run);
          try {
            await runPushQuery({ sql, streams: ctx.streams, queries: ctx.queries, subscriptions: ctx.subscriptions, log: ctx.log }, text, signal, {
              onStart: (names) => event(res, 'started', { stream: names.stream, query_id: names.queryId, subscription_id: names.subscriptionId }),
              onRows: async (rows: PushRow[]) => {
                if (!event(res, 'rows', rows)) await drained(res, signal);
              },
            });
            if (!signal.aborted) event(res, 'end', {});
          } catch (err) {
            // the head is sent: the error travels as an event, shaped like every error reply
            const reply = errorReply(err);
            if (reply.serverSide) ctx.log.error({ err: reply.cause }, 'console push query failed');
            if (!res.destroyed) event(res, 'error', reply.body);
          } finally {
            clearInterval(keepalive);
            running--;
            runs.delete(run);
            finished();
          }
        },
      };
    });
  return async () => {
    await Promise.all(runs);
  };
}
