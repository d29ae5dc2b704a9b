import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecords, Compression } from '../../src/records.js';
import { expectFailure, status } from '../helpers/expect.js';
import { createStream, type RecordIdMsg, type Received } from '../helpers/streams.js';
import { batch, rawRecords } from '../helpers/records.js';
import { startTestServer, type TestServer } from '../helpers/server.js';


let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.destroy());

const stream = (name: string, shardCount = 1) => createStream(t.client, name, shardCount);

const append = (streamName: string, shardId: string, records: unknown) =>
  t.client.unary<{ streamName: string; shardId: string; recordIds: RecordIdMsg[] }>('Append', { streamName, shardId, records });

const readAll = async (shardId: string) =>
  (
    await t.client.collect<{ receivedRecords: Received[] }>('ReadShardStream', {
      readerId: 'r',
      shardId,
      from: { specialOffset: 'EARLIEST' },
      until: { specialOffset: 'LATEST' },
    })
  ).flatMap((m) => m.receivedRecords);

describe('Append', () => {
  it('returns one RecordId per record, batchIndex 0..n-1, and the request names', async () => {
    const [shardId] = await stream('app_basic');
    const res = await append('app_basic', shardId!, batch(rawRecords(2), 'Gzip'));
    expect(res.streamName).toBe('app_basic');
    expect(res.shardId).toBe(shardId);
    expect(res.recordIds.map((r) => r.batchIndex)).toEqual([0, 1]);
    expect(new Set(res.recordIds.map((r) => r.batchId)).size).toBe(1);
    expect(res.recordIds[0]!.batchId).toBe(String(2 ** 32 + 1));
  });

  it('gives increasing batch ids of constant decimal width, so string order equals numeric order', async () => {
    const [shardId] = await stream('app_order');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await append('app_order', shardId!, batch(rawRecords(1)))).recordIds[0]!.batchId);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((a, b) => a - b));
    expect(new Set(ids.map((id) => id.length)).size).toBe(1);
  });

  it.each(['None', 'Gzip', 'Zstd'] as const)('stores %s batches byte for byte and reads them back', async (compression) => {
    const [shardId] = await stream(`app_${compression}`);
    const sent = batch(rawRecords(5, compression, 'k'), compression);
    await append(`app_${compression}`, shardId!, sent);
    const [got] = await readAll(shardId!);
    expect(got!.record.compressionType).toBe(compression);
    expect(Buffer.from(got!.record.payload).equals(sent.payload)).toBe(true);
    const records = decodeRecords(Compression[compression], Buffer.from(got!.record.payload));
    expect(records.map((r) => r.payload.toString())).toEqual(rawRecords(5, compression).map((r) => r.payload));
    expect(records.every((r) => r.header.key === 'k')).toBe(true);
  });

  it('sets publishTime on read to the store time, not the producer time', async () => {
    const [shardId] = await stream('app_time');
    const before = Date.now();
    await append('app_time', shardId!, { ...batch(rawRecords(1)), publishTime: { seconds: '1000', nanos: 0 } });
    const after = Date.now();
    const [got] = await readAll(shardId!);
    const ms = Number(got!.record.publishTime.seconds) * 1000 + got!.record.publishTime.nanos / 1e6;
    expect(ms).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it('refuses a missing or empty batch (INVALID_ARGUMENT 206) and stores nothing', async () => {
    const [shardId] = await stream('app_empty');
    await expectFailure(append('app_empty', shardId!, null), status.INVALID_ARGUMENT, 206);
    await expectFailure(append('app_empty', shardId!, { batchSize: 0, payload: Buffer.from('x') }), status.INVALID_ARGUMENT, 206);
    await expectFailure(append('app_empty', shardId!, { batchSize: 1, payload: Buffer.alloc(0) }), status.INVALID_ARGUMENT, 206);
    expect(await readAll(shardId!)).toEqual([]);
  });

  it('refuses a batch over 1 MiB (INVALID_ARGUMENT 207 with the size) and keeps serving', async () => {
    const [shardId] = await stream('app_big');
    const f = await expectFailure(
      append('app_big', shardId!, { batchSize: 1, payload: Buffer.alloc(1024 * 1024 + 20) }),
      status.INVALID_ARGUMENT,
      207,
    );
    expect(f.body!.extra).toBeGreaterThan(1024 * 1024);
    await expect(append('app_big', shardId!, { batchSize: 1, payload: Buffer.alloc(1000 * 1000) })).resolves.toBeTruthy();
  });

  it('refuses an unknown compression type', async () => {
    const [shardId] = await stream('app_comp');
    await expectFailure(append('app_comp', shardId!, { compressionType: 7, batchSize: 1, payload: Buffer.from('x') }), status.INVALID_ARGUMENT);
  });

  it('answers appends to a deleted stream or an unknown shard with UNAVAILABLE in plain text', async () => {
    const [shardId] = await stream('app_gone');
    await t.client.unary('DeleteStream', { streamName: 'app_gone' });
    await expectFailure(append('app_gone', shardId!, batch(rawRecords(1))), status.UNAVAILABLE, null);
    await expectFailure(append('x', '12345', batch(rawRecords(1))), status.UNAVAILABLE, null);
    await expectFailure(append('x', '99999999999999999999', batch(rawRecords(1))), status.UNAVAILABLE, null);
  });

  it('keeps concurrent appends to one shard all-distinct and gapless in acknowledgement order', async () => {
    const [shardId] = await stream('app_conc');
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) => append('app_conc', shardId!, batch(rawRecords(3, `c${i}-`)))));
    const batchIds = results.map((r) => Number(r.recordIds[0]!.batchId)).sort((a, b) => a - b);
    expect(new Set(batchIds).size).toBe(64);
    expect(batchIds[63]! - batchIds[0]!).toBe(63);
    const read = await readAll(shardId!);
    expect(read.map((r) => Number(r.recordIds[0]!.batchId))).toEqual(batchIds);
  });
});

describe('GetTailRecordId', () => {
  it('returns the last batch of the shard, and NOT_FOUND for an unknown shard', async () => {
    const [shardId] = await stream('tail_s');
    const empty = await t.client.unary<{ tailRecordId: RecordIdMsg }>('GetTailRecordId', { streamName: 'tail_s', shardId });
    expect(empty.tailRecordId).toEqual({ shardId, batchId: '0', batchIndex: 0 });
    await append('tail_s', shardId!, batch(rawRecords(2)));
    const last = await append('tail_s', shardId!, batch(rawRecords(4)));
    const tail = await t.client.unary<{ tailRecordId: RecordIdMsg }>('GetTailRecordId', { streamName: 'tail_s', shardId });
    expect(tail.tailRecordId).toEqual({ shardId, batchId: last.recordIds[0]!.batchId, batchIndex: 0 });
    await expectFailure(t.client.unary('GetTailRecordId', { streamName: 'tail_s', shardId: '42' }), status.NOT_FOUND);
  });
});

describe('stats', () => {
  it('reports append rates per stream once it has data, and nothing before', async () => {
    const [shardId] = await stream('stat_s');
    const none = await t.client.unary<{ stats: unknown }>('PerStreamTimeSeriesStats', {
      method: 'appends',
      streamName: 'stat_s',
      intervals: { intervals: [10_000] },
    });
    expect(none.stats).toBeNull();
    await append('stat_s', shardId!, batch(rawRecords(10)));
    const one = await t.client.unary<{ stats: { vals: number[] } }>('PerStreamTimeSeriesStats', {
      method: 'appends',
      streamName: 'stat_s',
      intervals: { intervals: [10_000, 60_000] },
    });
    expect(one.stats.vals).toHaveLength(2);
    expect(one.stats.vals[0]).toBeGreaterThan(0);
    const all = await t.client.unary<{ stats: Record<string, { vals: number[] }> }>('PerStreamTimeSeriesStatsAll', {
      method: 'append_in_records',
      intervals: { intervals: [10_000] },
    });
    expect(all.stats['stat_s']!.vals[0]).toBeCloseTo(1, 5);
    const totals = await t.client.unary<{ statsValues: Array<{ statValues: Record<string, string> }> }>('GetStats', {
      stats: [{ streamStat: 'AppendInRecords' }],
    });
    expect(totals.statsValues[0]!.statValues['stat_s']).toBe('10');
    await expectFailure(t.client.unary('GetStats', { stats: [] }), status.INVALID_ARGUMENT);
    await expectFailure(
      t.client.unary('PerStreamTimeSeriesStats', { method: 'bogus', streamName: 'stat_s', intervals: { intervals: [1000] } }),
      status.INVALID_ARGUMENT,
    );
  });
});
