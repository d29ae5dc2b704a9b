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
    const started = Date.now();
    const f = await expectFailure(
      t.client.unary('Append', { streamName: 'hostile', shardId, records: { compressionType: 'None', batchSize: 4294967295, payload: Buffer.from('xx') } }, DEADLINE),
      status.INVALID_ARGUMENT,
    );
    expect(f.body?.message).toBe('InvalidBatchSize');
    expect(Date.now() - started).toBeLessThan(1_000);
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
