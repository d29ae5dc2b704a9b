/** The postgresql sink driver against a real PostgreSQL server. */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresqlSink } from '../../src/connectors/postgresql.js';
import { planRecord, type TableInfo } from '../../src/connectors/sql-rows.js';
import { splitByKey } from '../../src/connectors/sql-writer.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { batch, rec, sinkContext } from './sink-fixtures.js';
import { describeSqlDriver } from './sql-driver.suite.js';

describeSqlDriver({
  driver: postgresqlSink,
  unavailable: postgresUnavailable,
  start: startPostgres,
  ddl: {
    t1: 'CREATE TABLE t1 (id int PRIMARY KEY, name text, n int, doc jsonb)',
    restart: 'CREATE TABLE restart (id int PRIMARY KEY, v text)',
  },
  // unquoted identifiers fold to lower case, as in SQL
  qualifiedTable: () => 'public.T1',
  countBigSql: 'SELECT count(*)::int AS n, sum(length(body))::int AS bytes FROM big',
  errors: { wrongPassword: /password authentication failed/, notAnInteger: /invalid input syntax for type integer/ },
});

/**
 * Two writes in flight where the second goes whole to one connection: it must
 * not land before the first's rows of the same keys on the other connection.
 * A row lock held by another session stops the first write's part on the
 * second connection until the second write had every chance to commit.
 */
describe.skipIf(postgresUnavailable !== undefined)(`postgresql sink, writes in flight${postgresUnavailable ? ` (skipped: ${postgresUnavailable})` : ''}`, () => {
  let db: TestPostgres;
  beforeAll(async () => {
    db = await startPostgres();
    await db.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
  }, 120_000);
  afterAll(async () => {
    await db?.stop();
  }, 120_000);

  it('a write sent whole to one connection waits for the split write before it', { timeout: 60_000 }, async () => {
    const table: TableInfo = { sqlName: 't', displayName: 't', columns: ['id', 'v'], primaryKey: ['id'], uniqueKeys: [['id']], resolve: (f) => f };
    const ids = Array.from({ length: 300 }, (_, i) => i);
    // which of the keys the split write sends over the second connection
    const [, second] = splitByKey(ids.map((id) => planRecord(rec({ id, v: 'x' }), table)), 2);
    const secondIds = second!.map((op) => Number(op.values[0]));
    // the first of them is locked: that part stops before it touched (and locked) any of the others
    const [locked, ...rest] = secondIds as [number, ...number[]];
    const small = rest.slice(0, 10);
    await db.query(`INSERT INTO t SELECT g, 'seed' FROM generate_series(0, 299) g`);

    const locker = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
    await locker.connect();
    const writer = await postgresqlSink.open({ stream: 's', host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, table: 't' }, sinkContext());
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM t WHERE id = $1 FOR UPDATE', [locked]);
      const first = writer.write([batch(...ids.map((id) => rec({ id, v: 'first' })))], { ahead: true });
      const later = writer.write([batch(...small.map((id) => rec({ id, v: 'later' })))], { ahead: true });
      // time for the later write to commit if it did not wait (it must not)
      await new Promise((r) => setTimeout(r, 500));
      expect(await db.query('SELECT count(*)::int AS n FROM t WHERE v = $1', ['later'])).toEqual([{ n: 0 }]);
      await locker.query('COMMIT');
      await Promise.all([first, later]);
      expect(await db.query('SELECT DISTINCT v FROM t WHERE id = ANY($1)', [small])).toEqual([{ v: 'later' }]);
    } finally {
      // the locker first: its lock would hold the writer's close
      await locker.end();
      await writer.close();
    }
  });
});
