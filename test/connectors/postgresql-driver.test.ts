/** The postgresql sink driver against a real PostgreSQL server. */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresqlSink } from '../../src/connectors/postgresql.js';
import { planRecord, type TableInfo } from '../../src/connectors/sql-rows.js';
import { splitByKey } from '../../src/connectors/sql-writer.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { UnmappableRecord, type SinkWriter } from '../../src/connectors/driver.js';
import { batch, rec, rejection, sinkContext } from './sink-fixtures.js';
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

  /** Another session holding row `id` of `table` locked (until it commits), and a sink writer for the table. */
  async function lockRowAndOpen(table: string, id: number): Promise<{ locker: pg.Client; writer: SinkWriter }> {
    const locker = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
    const writer = await postgresqlSink.open({ stream: 's', host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, table }, sinkContext());
    return { locker, writer };
  }

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

    const { locker, writer } = await lockRowAndOpen('t', locked);
    try {
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

  it('a write sent while the one before it is redone row by row waits for it: nothing lands inside that transaction', { timeout: 60_000 }, async () => {
    await db.query('CREATE TABLE pass (id int PRIMARY KEY, n int)');
    const table: TableInfo = { sqlName: 'pass', displayName: 'pass', columns: ['id', 'n'], primaryKey: ['id'], uniqueKeys: [['id']], resolve: (f) => f };
    const lanesOf = (rows: ReturnType<typeof rec>[]) => splitByKey(rows.map((r) => planRecord(r, table)), 2).map((l) => l.map((op) => op.values[op.columns.indexOf('id')]));
    // B: 1 and "01" are one key in one statement (21000), which no row fails alone: B is redone row by row and resolves
    const bRows = [rec({ id: 1, n: 1 }), rec({ id: '01', n: 2 }), ...Array.from({ length: 300 }, (_, i) => rec({ id: 4000 + i, n: 0 }))];
    const bLanes = lanesOf(bRows);
    const lane = bLanes.findIndex((l) => l.includes(1));
    // a row the row-by-row pass reaches only after many statements: it waits on a lock there
    const locked = bLanes[lane]![120] as number;
    const bIds = bLanes[lane]!.filter((v): v is number => typeof v === 'number');
    // C: one value the int column refuses, on the same connection as B's pass
    const cIds = Array.from({ length: 400 }, (_, i) => 6000 + i);
    const cLane = lanesOf(cIds.map((id) => rec({ id, n: 0 })))[lane] as number[];
    const bad = cLane[cLane.length - 1]!;
    const cRows = cIds.map((id) => rec({ id, n: id === bad ? 'x' : 0 }));
    await db.query('INSERT INTO pass VALUES ($1, -1)', [locked]);

    const { locker, writer } = await lockRowAndOpen('pass', locked);
    try {
      const b = writer.write([batch(...bRows)], { ahead: true });
      // time for B's statement to fail and its row-by-row pass to stop on the lock
      await new Promise((r) => setTimeout(r, 500));
      const c = writer.write([batch(...cRows)], { ahead: true });
      await new Promise((r) => setTimeout(r, 200));
      await locker.query('COMMIT');
      await b;
      expect(await rejection(c)).toBeInstanceOf(UnmappableRecord);
      // B resolved, so the runtime acknowledges it: every row of it must be in the table
      const present = new Set((await db.query<{ id: number }>('SELECT id FROM pass WHERE id < 5000')).map((r) => r.id));
      expect(bIds.filter((id) => id !== 1 && !present.has(id))).toEqual([]);
    } finally {
      await locker.end();
      await writer.close();
    }
  });
});
