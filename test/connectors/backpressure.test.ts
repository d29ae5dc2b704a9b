/**
 * A target that stops taking writes (a PostgreSQL table locked by another
 * session) holds the connector to its subscription's unacked limit: appends
 * go on, the connector holds no more than 10,000 records, and everything
 * arrives once the lock is released.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';

describe.skipIf(postgresUnavailable !== undefined)(`a slow target${postgresUnavailable ? ` (skipped: ${postgresUnavailable})` : ''}`, () => {
  let db: TestPostgres;
  let s: TestServer;
  beforeAll(async () => {
    db = await startPostgres();
    await db.query('CREATE TABLE slow (id int PRIMARY KEY, body text)');
    s = await startTestServer();
  }, 120_000);
  afterAll(async () => {
    await s?.destroy();
    await db?.stop();
  }, 120_000);

  it('bounds what the connector holds while the target is blocked, then delivers everything', { timeout: 180_000 }, async () => {
    await s.client.unary('CreateStream', { streamName: 'fast', replicationFactor: 1, shardCount: 1 });
    const { shards } = await s.client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: 'fast' });
    const config = { stream: 'fast', host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, table: 'slow' };
    await s.client.unary('CreateConnector', { name: 'slowsink', type: 'SINK', target: 'postgresql', config: JSON.stringify(config) });

    // another session holds the table: every write of the sink waits
    const locker = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE slow IN ACCESS EXCLUSIVE MODE');

    const RECORDS = 30_000;
    for (let from = 0; from < RECORDS; from += 500) {
      const rows = Array.from({ length: 500 }, (_, k) => ({ flag: 'JSON' as const, payload: JSON.stringify({ id: from + k, body: 'x'.repeat(200) }) }));
      // appends are not held up by the blocked target
      await s.client.unary('Append', { streamName: 'fast', shardId: shards[0]!.shardId, records: batch(rows) }, { deadlineMs: 10_000 });
    }
    const { subscriptions } = s.server.context;
    const [own] = subscriptions.list('__connector_');
    const sub = subscriptions.get(own!.meta.subscriptionId);
    // what the connector was handed and has not written: the unacked limit, not the stream
    await eventually(() => (sub.unackedRecords >= 9_000 ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(sub.unackedRecords).toBeLessThanOrEqual(10_000);

    await locker.query('COMMIT');
    await locker.end();
    await eventually(async () => ((await db.query<{ n: string }>('SELECT count(*) AS n FROM slow'))[0]!.n === String(RECORDS) ? true : undefined), 90_000, 200);
    // acknowledged once the database confirmed the writes
    await eventually(() => (sub.unackedRecords === 0 ? true : undefined), 30_000);
  });
});
