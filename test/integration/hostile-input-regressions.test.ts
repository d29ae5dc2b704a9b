/**
 * Regressions found by the hostile-input scenario of test/reliability: each
 * case is a request that used to take the server (or a client connection)
 * down, pinned here so it runs with every `npm test`.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFailure, status } from '../helpers/expect.js';
import { batch, rawRecords } from '../helpers/records.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { createStream } from '../helpers/streams.js';

let t: TestServer;
let shardId: string;
beforeAll(async () => {
  t = await startTestServer();
  [shardId] = (await createStream(t.client, 'hostile', 1)) as [string];
});
afterAll(() => t.destroy());

const DEADLINE = { deadlineMs: 5_000 };

describe('Append batchSize is bounded by what the payload can hold', () => {
  it('refuses a 2-byte payload claiming 2^32-1 records at once, and keeps serving (it used to build 4 billion RecordIds and die of OOM)', async () => {
    const f = await expectFailure(
      t.client.unary('Append', { streamName: 'hostile', shardId, records: { compressionType: 'None', batchSize: 4294967295, payload: Buffer.from('xx') } }, DEADLINE),
      status.INVALID_ARGUMENT,
    );
    expect(f.body?.message).toBe('InvalidBatchSize');
    expect(await t.client.unary('Echo', { msg: 'alive' }, DEADLINE)).toEqual({ msg: 'alive' });
  });

  it('bounds compressed batches by the largest uncompressed batch (max record size / 2)', async () => {
    const tiny = gzipSync(Buffer.alloc(0));
    await expectFailure(
      t.client.unary('Append', { streamName: 'hostile', shardId, records: { compressionType: 'Gzip', batchSize: 1024 * 1024 / 2 + 1, payload: tiny } }, DEADLINE),
      status.INVALID_ARGUMENT,
    );
  });

  it('still accepts honest batches, including large compressed ones', async () => {
    const honest = batch(rawRecords(5000, ''), 'Zstd');
    const res = await t.client.unary<{ recordIds: unknown[] }>('Append', { streamName: 'hostile', shardId, records: honest }, DEADLINE);
    expect(res.recordIds).toHaveLength(5000);
  });
});

describe('errors never quote unbounded client text (a 100 KB status wedged the whole HTTP/2 connection)', () => {
  const huge = 'q'.repeat(100_000);
  const short = (details: string) => expect(details.length).toBeLessThan(1_000);

  it('PerStreamTimeSeriesStats / PerStreamTimeSeriesStatsAll with a 100 KB method name', async () => {
    for (const rpc of ['PerStreamTimeSeriesStats', 'PerStreamTimeSeriesStatsAll']) {
      const f = await expectFailure(t.client.unary(rpc, { method: huge, streamName: 'hostile', intervals: { intervals: [1000] } }, DEADLINE), status.INVALID_ARGUMENT);
      short(f.details);
    }
  });

  it('ReadShard with a 100 KB reader id', async () => {
    short((await expectFailure(t.client.unary('ReadShard', { readerId: huge, maxRecords: 1 }, DEADLINE), status.INVALID_ARGUMENT, 900)).details);
  });

  it('TrimShards with a 100 KB record id', async () => {
    short((await expectFailure(t.client.unary('TrimShards', { streamName: 'hostile', recordIds: [huge] }, DEADLINE), status.INVALID_ARGUMENT, 209)).details);
  });

  it('LookupResource for a view with a 100 KB id', async () => {
    short((await expectFailure(t.client.unary('LookupResource', { resType: 'ResView', resId: huge }, DEADLINE), status.NOT_FOUND)).details);
  });

  it('the connection keeps working after all of them', async () => {
    expect(await t.client.unary('Echo', { msg: 'still here' }, DEADLINE)).toEqual({ msg: 'still here' });
  });
});

describe('deep and long SQL gets a usable answer, never a stack overflow (INTERNAL)', () => {
  const parens = (n: number) => `SELECT ${'('.repeat(n)}a${')'.repeat(n)} AS x FROM hostile EMIT CHANGES;`;
  const anded = (n: number) => `SELECT a FROM hostile WHERE ${Array.from({ length: n }, (_, i) => `a <> ${i}`).join(' AND ')} EMIT CHANGES;`;
  const LONG_DEADLINE = { deadlineMs: 60_000 };

  for (const [rpc, field] of [['ParseSql', 'sql'], ['ExecuteQuery', 'stmt_text'], ['CreateQuery', 'sql']] as const) {
    it(`${rpc} with 10,000 nested parentheses: INVALID_ARGUMENT naming the limit, line and column`, async () => {
      const f = await expectFailure(t.client.unary(rpc, { [field]: parens(10_000) }, LONG_DEADLINE), status.INVALID_ARGUMENT);
      expect(f.details).toMatch(/nested too deeply: more than 128 levels/);
      expect(f.details).toMatch(/line 1, column \d+/);
    });
  }

  const createQuery = (name: string, select: string) =>
    t.client.unary<{ id: string }>('CreateQuery', { sql: `CREATE STREAM ${name} AS ${select}`, queryName: `${name}_q` }, LONG_DEADLINE);

  it('a WHERE of 10,000 ANDed terms is an ordinary query: CreateQuery accepts it', async () => {
    const sql = anded(10_000);
    const q = await t.client.unary<{ id: string }>('CreateQuery', { sql: `CREATE STREAM hostile_and AS ${sql}`, queryName: 'hostile_and_q' }, LONG_DEADLINE);
    expect(q.id).toBeTruthy();
    await t.client.unary('TerminateQuery', { queryId: q.id }, LONG_DEADLINE);
  });

  it('100 nested parentheses and a chain of 200 operators are still fine', async () => {
    expect((await createQuery('hostile_p100', parens(100))).id).toBeTruthy();
    expect((await createQuery('hostile_plus200', `SELECT a${' + 1'.repeat(200)} AS x FROM hostile EMIT CHANGES;`)).id).toBeTruthy();
  });

  it('a chain of 10,000 + is refused with INVALID_ARGUMENT (its tree would be 10,000 deep)', async () => {
    const f = await expectFailure(t.client.unary('ParseSql', { sql: `SELECT a${' + 1'.repeat(10_000)} AS x FROM hostile EMIT CHANGES;` }, LONG_DEADLINE), status.INVALID_ARGUMENT);
    expect(f.details).toMatch(/nested too deeply: more than 256 levels of operators/);
  });

  it('nested function calls bind in linear time (ABS(ABS(…)) 60 deep used to take hours: the binder re-typed each argument)', async () => {
    const sql = `SELECT ${'ABS('.repeat(60)}a${')'.repeat(60)} AS x FROM hostile EMIT CHANGES;`;
    expect((await createQuery('hostile_abs60', sql)).id).toBeTruthy();
    expect(await t.client.unary('Echo', { msg: 'alive' }, DEADLINE)).toEqual({ msg: 'alive' });
  });
});
