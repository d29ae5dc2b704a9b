/**
 * The checks every SQL sink driver passes, run against its real database:
 * postgresql-driver.test.ts and mysql-driver.test.ts each call this with
 * their driver, database and the few texts that differ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RewriteNeeded, UnmappableRecord, type SinkDriver, type SinkWriter } from '../../src/connectors/driver.js';
import type { TestDatabase } from '../../bench/db-process.js';
import { batch, checkFailure, rec, rejection, sinkContext, unmappable } from './sink-fixtures.js';

const DB_HOOK_TIMEOUT = 120_000;


export interface SqlDriverCase {
  driver: SinkDriver;
  /** why the database cannot run here, or undefined */
  unavailable: string | undefined;
  start(): Promise<TestDatabase>;
  /** column types differ: t1 (id int key, name, n int, doc json) and restart (id int key, v text) */
  ddl: { t1: string; restart: string };
  /** t1 named with its schema or database, as the dialect writes it */
  qualifiedTable(db: TestDatabase): string;
  /** SELECT n (row count) and bytes (total body length) of table big, both as integers */
  countBigSql: string;
  errors: { wrongPassword: RegExp; notAnInteger: RegExp };
}

export function describeSqlDriver(d: SqlDriverCase): void {
    describe.skipIf(d.unavailable !== undefined)(`${d.driver.target} sink driver${d.unavailable ? ` (skipped: ${d.unavailable})` : ''}`, () => {
  let db: TestDatabase;
  const ctx = sinkContext();
  const config = (over: Record<string, unknown> = {}) => ({
    stream: 's1', host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, table: 't1', ...over,
  });
  const rows = async (table: string) => db.query(`SELECT * FROM ${table} ORDER BY 1`);

  beforeAll(async () => {
    db = await d.start();
    await db.query(d.ddl.t1);
    await db.query('CREATE TABLE nopk (a int)');
    await db.query('CREATE TABLE big (id int PRIMARY KEY, body text)');
    await db.query(d.ddl.restart);
  }, DB_HOOK_TIMEOUT);

  afterAll(async () => {
    await db?.stop();
  }, DB_HOOK_TIMEOUT);

  describe('check', () => {
    it('accepts a reachable table with a primary key', async () => {
      await d.driver.check(config(), ctx);
      await d.driver.check(config({ table: d.qualifiedTable(db) }), ctx);
    });

    it('refuses a wrong password without showing either password', async () => {
      const wrong = 'wrong-Secret-4711';
      const f = await checkFailure(d.driver.check(config({ password: wrong }), ctx));
      expect(f.kind).toBe('CONNECTION');
      expect(f.message).toBe('get connector failed');
      expect(f.detail).toContain(`cannot connect to ${d.driver.target} at 127.0.0.1:${db.port}`);
      expect(f.detail).toMatch(d.errors.wrongPassword);
      for (const text of [f.message, f.detail, String(f)]) {
        expect(text).not.toContain(wrong);
        expect(text).not.toContain(db.password);
      }
    });

    it('refuses an unreachable port', async () => {
      const f = await checkFailure(d.driver.check(config({ port: 1 }), ctx));
      expect(f.kind).toBe('CONNECTION');
      expect(f.detail).toContain(`cannot connect to ${d.driver.target} at 127.0.0.1:1`);
      expect(f.detail).toContain('ECONNREFUSED');
      expect(f.detail).not.toContain(db.password);
    });

    it('refuses a missing table and a table without primary key', async () => {
      const missing = await checkFailure(d.driver.check(config({ table: 'nosuch' }), ctx));
      expect(missing.kind).toBe('KEYS');
      expect(missing.message).toBe('table/primary keys not found');
      expect(missing.detail).toBe(`table nosuch does not exist in database ${db.database}`);
      const nopk = await checkFailure(d.driver.check(config({ table: 'nopk' }), ctx));
      expect(nopk.kind).toBe('KEYS');
      expect(nopk.detail).toBe('table nopk has no primary key');
    });
  });

  describe('write', () => {
    let writer: SinkWriter;
    beforeAll(async () => {
      writer = await d.driver.open(config(), ctx);
    });
    afterAll(async () => {
      await writer?.close();
    });

    it('upserts plain rows: a repeated key leaves one row with the last value', async () => {
      await writer.write([
        batch(rec({ id: 1, name: 'a' }), rec({ id: 1, name: 'b', n: 1 }), rec({ id: 2, name: 'c', doc: { x: [1, 2] } })),
        batch(rec(JSON.stringify({ id: 3, name: 'raw' }), 'RAW')),
      ]);
      await writer.write([batch(rec({ id: 2, name: 'c2', n: 7 }))]);
      expect(await rows('t1')).toEqual([
        { id: 1, name: 'b', n: 1, doc: null },
        { id: 2, name: 'c2', n: 7, doc: { x: [1, 2] } },
        { id: 3, name: 'raw', n: null, doc: null },
      ]);
    });

    it('applies key/value records: value upserts, null value deletes, in order', async () => {
      await writer.write([batch(
        rec({ key: { id: 10 }, value: { id: 10, name: 'kv' } }),
        rec({ key: { id: 11 }, value: { name: 'no id in value' } }),
        rec({ key: { id: 3 }, value: null }),
        rec({ key: { id: 10 }, value: null }),
        rec({ key: { id: 10 }, value: { name: 'back' } }),
      )]);
      const got = await db.query('SELECT id, name FROM t1 WHERE id IN (3, 10, 11) ORDER BY id');
      expect(got).toEqual([{ id: 10, name: 'back' }, { id: 11, name: 'no id in value' }]);
    });

    it('refuses an unknown column before writing anything of the call', async () => {
      const good = rec({ id: 20, name: 'must not land' });
      const bad = rec({ id: 21, nosuch: 1 });
      const err = await unmappable(writer.write([batch(good), batch(bad)]));
      expect(err.recordId).toBe(bad.id);
      expect(err.message).toContain(bad.id);
      expect(err.message).toContain('nosuch');
      expect(await db.query('SELECT id FROM t1 WHERE id IN (20, 21)')).toEqual([]);
      // The runtime calls again without the record; the rest lands.
      await writer.write([batch(good)]);
      expect(await db.query('SELECT name FROM t1 WHERE id = 20')).toEqual([{ name: 'must not land' }]);
    });

    it('refuses payloads that are not JSON objects or lack the primary key', async () => {
      for (const payload of ['not json', '[1,2]', '42', JSON.stringify({ name: 'no key' }), JSON.stringify({ key: { name: 'x' }, value: { n: 1 } })]) {
        const r = rec(payload);
        const err = await unmappable(writer.write([batch(rec({ id: 30, name: 'x' }), r)]));
        expect(err.recordId).toBe(r.id);
      }
      expect(await db.query('SELECT id FROM t1 WHERE id = 30')).toEqual([]);
    });

    it('finds the row the database refuses on its data and commits nothing of the call', async () => {
      const good = rec({ id: 40, name: 'ok' });
      const bad = rec({ id: 41, n: 'not a number' });
      const err = await rejection(writer.write([batch(good, bad, rec({ id: 42 }))]));
      expect(err).toBeInstanceOf(UnmappableRecord);
      expect((err as UnmappableRecord).recordId).toBe(bad.id);
      expect((err as UnmappableRecord).message).toMatch(d.errors.notAnInteger);
      expect(await db.query('SELECT id FROM t1 WHERE id IN (40, 41, 42)')).toEqual([]);
      // The writer's connection is still usable afterwards.
      await writer.write([batch(good)]);
      expect(await db.query('SELECT id FROM t1 WHERE id = 40')).toEqual([{ id: 40 }]);
    });

    it('writes of hundreds of rows, repeated, leave the last value per key (statements the connection keeps prepared are reused)', async () => {
      const ids = Array.from({ length: 450 }, (_, i) => 1000 + i);
      for (const round of [1, 2, 3]) {
        // every key twice in a call: the later row wins
        const rows = [...ids.map((id) => rec({ id, name: `stale ${round}`, n: 0 })), ...ids.map((id) => rec({ id, name: `round ${round}`, n: id * round }))];
        await writer.write([batch(...rows.slice(0, 400)), batch(...rows.slice(400))]);
      }
      const rows = await db.query<{ id: number; name: string; n: number }>('SELECT id, name, n FROM t1 WHERE id >= 1000 AND id < 1450 ORDER BY id');
      expect(rows).toEqual(ids.map((id) => ({ id, name: 'round 3', n: id * 3 })));
    });

    it('names the refused row of a write of hundreds of rows', async () => {
      const rows = Array.from({ length: 350 }, (_, i) => rec({ id: 2000 + i, name: 'big', n: i }));
      const bad = rec({ id: 2500, n: 'not a number' });
      rows.splice(237, 0, bad);
      const err = await rejection(writer.write([batch(...rows)]));
      expect(err).toBeInstanceOf(UnmappableRecord);
      expect((err as UnmappableRecord).recordId).toBe(bad.id);
      await writer.write([batch(...rows.filter((r) => r !== bad))]);
      const [{ n }] = (await db.query<{ n: number | string }>('SELECT count(*) AS n FROM t1 WHERE id >= 2000 AND id < 2350')) as [{ n: number | string }];
      expect(Number(n)).toBe(350);
    });

    it('applies writes sent ahead in call order; one that may land before an earlier failed one is retried asks to be written again', async () => {
      const ids = Array.from({ length: 300 }, (_, i) => 3000 + i);
      const round = (name: string, n: number) => batch(...ids.map((id) => rec({ id, name, n })));
      await Promise.all([writer.write([round('first', 1)], { ahead: true }), writer.write([round('second', 2)], { ahead: true })]);
      expect(await db.query('SELECT DISTINCT name, n FROM t1 WHERE id >= 3000 AND id < 3300')).toEqual([{ name: 'second', n: 2 }]);
      // a small write goes whole to one connection, where the big one before it sent only some of its keys
      const big = batch(...Array.from({ length: 3 }, () => ids.map((id) => rec({ id, name: 'big', n: 5 }))).flat());
      const small = batch(...ids.slice(0, 20).map((id) => rec({ id, name: 'small', n: 6 })));
      await Promise.all([writer.write([big], { ahead: true }), writer.write([small], { ahead: true })]);
      expect(await db.query('SELECT DISTINCT name, n FROM t1 WHERE id >= 3000 AND id < 3020')).toEqual([{ name: 'small', n: 6 }]);

      // the earlier write fails on a row the database refuses, then on one that cannot be planned
      for (const bad of [rec({ id: 3500, n: 'not a number' }), rec({ id: 3501, nosuch: 1 })]) {
        const failing = writer.write([batch(rec({ id: 3000, name: 'old', n: 3 }), bad)], { ahead: true });
        const later = writer.write([batch(rec({ id: 3000, name: 'new', n: 4 }))], { ahead: true });
        expect((await unmappable(failing)).recordId).toBe(bad.id);
        expect(await rejection(later)).toBeInstanceOf(RewriteNeeded);
        // sent ahead after the failure, before the runtime retried it: refused without being sent
        expect(await rejection(writer.write([batch(rec({ id: 3000, name: 'too early', n: 5 }))], { ahead: true }))).toBeInstanceOf(RewriteNeeded);
        expect(await db.query('SELECT name FROM t1 WHERE id = 3000')).not.toEqual([{ name: 'too early' }]);
        // what the runtime does next: the earlier write without the row, then the later one again
        await writer.write([batch(rec({ id: 3000, name: 'old', n: 3 }))]);
        await writer.write([batch(rec({ id: 3000, name: 'new', n: 4 }))]);
        expect(await db.query('SELECT name, n FROM t1 WHERE id = 3000')).toEqual([{ name: 'new', n: 4 }]);
      }
    });

    it('writes 1,000 rows of about 1 KiB in one call', async () => {
      const big = await d.driver.open(config({ table: 'big' }), ctx);
      try {
        const body = 'x'.repeat(1000);
        const records = Array.from({ length: 1000 }, (_, i) => rec({ id: i, body }));
        await big.write([batch(...records.slice(0, 500)), batch(...records.slice(500))]);
      } finally {
        await big.close();
      }
      expect(await db.query(d.countBigSql)).toEqual([{ n: 1000, bytes: 1_000_000 }]);
    });
  });

  it('fails writes while the database is down and writes again after it is back', async () => {
    const writer = await d.driver.open(config({ table: 'restart' }), ctx);
    try {
      await writer.write([batch(rec({ id: 1, v: 'before' }))]);
      await db.stopServer();
      const err = await rejection(writer.write([batch(rec({ id: 2, v: 'while down' }))]));
      expect(err).not.toBeInstanceOf(UnmappableRecord);
      expect(String(err)).not.toContain(db.password);
      // Still down: a reconnect attempt fails as a target failure too.
      expect(await rejection(writer.write([batch(rec({ id: 2, v: 'while down' }))]))).not.toBeInstanceOf(UnmappableRecord);
      await db.startServer();
      await writer.write([batch(rec({ id: 2, v: 'after' }))]);
      expect(await rows('restart')).toEqual([{ id: 1, v: 'before' }, { id: 2, v: 'after' }]);
    } finally {
      await writer.close();
    }
  }, DB_HOOK_TIMEOUT);
  });
}
