/**
 * A push query (`SELECT … EMIT CHANGES`) run inside the server for the web
 * console, the way `hstream sql` runs one over gRPC: a temporary
 * `CREATE STREAM console_generated_stream_… AS <select>` query and an
 * EARLIEST subscription on that stream, read by an in-process consumer. When
 * the reader stops (client gone, server closing, query ended) the
 * subscription, the query and the temporary stream are deleted, in the CLI's
 * order, so nothing is left behind.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Row } from '../../sql/index.js';
import { decodeStruct } from '../struct.js';
import type { QueryManager } from './queries.js';
import type { SqlStatements } from './sql-statements.js';
import type { StreamCatalog } from './streams.js';
import { DurableConsumer } from './subscriptions/durable-consumer.js';
import type { SubscriptionManager } from './subscriptions/manager.js';

/** The prefix of every temporary object a console push query makes (what tests check is gone). */
export const PUSH_QUERY_PREFIX = 'console_generated_';

/** The SELECT of a push query without its trailing `EMIT …` (upstream drops every word from the last EMIT) and `;`. */
export function pushSelectText(text: string): string {
  const body = text.trim().replace(/;\s*$/, '');
  let last = -1;
  for (const m of body.matchAll(/\bEMIT\b/gi)) last = m.index;
  return (last >= 0 ? body.slice(0, last) : body).trimEnd();
}

export interface PushQueryDeps {
  sql: SqlStatements;
  streams: StreamCatalog;
  queries: QueryManager;
  subscriptions: SubscriptionManager;
  log: Logger;
}

/** The temporary objects of one push query. */
export interface PushQueryNames {
  stream: string;
  queryId: string;
  subscriptionId: string;
}

/** What a push query emits: one row per output record (RAW records as `{ raw: text }`). */
export type PushRow = Row;

/**
 * Runs a push query until `signal` aborts, handing each batch of output rows
 * to `handlers.onRows` (awaited: a slow reader slows the query's consumer, not the
 * server). Resolves after the cleanup; rejects with the error that stopped it
 * (a bad statement is refused before anything is created).
 */
export async function runPushQuery(
  deps: PushQueryDeps,
  text: string,
  signal: AbortSignal,
  handlers: { onStart(names: PushQueryNames): void; onRows(rows: PushRow[]): Promise<void> },
): Promise<void> {
  const { sql, streams, queries, subscriptions, log } = deps;
  const suffix = randomBytes(8).toString('hex');
  const names: PushQueryNames = {
    stream: `${PUSH_QUERY_PREFIX}stream_${suffix}`,
    queryId: `${PUSH_QUERY_PREFIX}query_${suffix}`,
    subscriptionId: `${PUSH_QUERY_PREFIX}subscription_${suffix}`,
  };
  const { stream, queryId: queryName, subscriptionId } = names;
  let queryCreated = false;
  let subscribed = false;
  try {
    await sql.createQuery(`CREATE STREAM ${stream} AS ${pushSelectText(text)} ;`, queryName);
    queryCreated = true;
    await subscriptions.create({ subscriptionId, streamName: stream, ackTimeoutSeconds: 60, maxUnackedRecords: 10_000, offset: 'EARLIEST' });
    subscribed = true;
    if (signal.aborted) return;
    handlers.onStart(names);
    const consumer = DurableConsumer.open(subscriptions, subscriptionId, { name: 'console', uri: 'console', userAgent: 'hstreamlite console', signal, buffer: 2 });
    try {
      for await (const batch of consumer) {
        const rows = batch.records().map((r): PushRow => (r.header.flag === 'JSON' ? decodeStruct(r.payload) : { raw: r.payload.toString('utf8') }));
        await handlers.onRows(rows);
        consumer.ack(batch);
      }
    } finally {
      consumer.close();
    }
  } finally {
    // the CLI's order; force, since the consumer just closed may still count as attached
    const steps: Array<[boolean, string, () => Promise<unknown>]> = [
      [subscribed, 'delete subscription', () => subscriptions.delete(subscriptionId, true)],
      [queryCreated, 'terminate query', () => queries.terminate(queryName)],
      [queryCreated, 'delete query', () => queries.delete(queryName)],
      [queryCreated, 'delete stream', () => streams.delete(stream, { ignoreNonExist: true, force: true })],
    ];
    for (const [needed, what, step] of steps) {
      if (!needed) continue;
      try {
        await step();
      } catch (err) {
        log.warn({ err, queryName, what }, 'cleaning up a console push query failed');
      }
    }
  }
}
