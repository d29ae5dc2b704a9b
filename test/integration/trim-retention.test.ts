import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFailure, status } from '../helpers/expect.js';
import { createStream, type RecordIdMsg } from '../helpers/streams.js';
import { batch, rawRecords } from '../helpers/records.js';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';


let t: TestServer;
beforeAll(async () => {
  // small segments and a fast sweep so retention is observable in a test
  t = await startTestServer({ segmentMaxAgeSeconds: 1, retentionCheckSeconds: 1 });
});
afterAll(() => t.destroy());

const stream = (name: string, shardCount = 1, backlogDuration = 0) => createStream(t.client, name, shardCount, { backlogDuration });

async function appendN(name: string, shardId: string, n: number): Promise<RecordIdMsg[]> {
  const ids: RecordIdMsg[] = [];
  for (let i = 0; i < n; i++) {
    ids.push((await t.client.unary<{ recordIds: RecordIdMsg[] }>('Append', { streamName: name, shardId, records: batch(rawRecords(2, `${i}-`)) })).recordIds[0]!);
  }
  return ids;
}

const batchIds = async (shardId: string) =>
  (
    await t.client.collect<{ receivedRecords: Array<{ recordIds: RecordIdMsg[] }> }>('ReadShardStream', {
      readerId: 'r',
      shardId,
      from: { specialOffset: 'EARLIEST' },
      until: { specialOffset: 'LATEST' },
    })
  ).flatMap((m) => m.receivedRecords.map((r) => r.recordIds[0]!.batchId));

describe('trims', () => {
  it('TrimShard to a RecordId removes that batch and everything before it', async () => {
    const [shardId] = await stream('trim_shard');
    const ids = await appendN('trim_shard', shardId!, 6);
    await t.client.unary('TrimShard', { streamName: 'trim_shard', shardId, trimPoint: { recordOffset: ids[2] } });
    expect(await batchIds(shardId!)).toEqual(ids.slice(3).map((i) => i.batchId));
    await expectFailure(t.client.unary('TrimShard', { streamName: 'trim_shard', shardId: '5', trimPoint: { specialOffset: 'LATEST' } }), status.NOT_FOUND);
    await expectFailure(t.client.unary('TrimShard', { streamName: 'trim_shard', shardId, trimPoint: null }), status.INVALID_ARGUMENT, 208);
  });

  it('TrimStream LATEST empties every shard, EARLIEST removes nothing, and new appends keep increasing ids', async () => {
    const shards = await stream('trim_stream', 2);
    await appendN('trim_stream', shards[0]!, 3);
    const last = await appendN('trim_stream', shards[1]!, 3);
    await t.client.unary('TrimStream', { streamName: 'trim_stream', trimPoint: { specialOffset: 'EARLIEST' } });
    expect(await batchIds(shards[0]!)).toHaveLength(3);
    await t.client.unary('TrimStream', { streamName: 'trim_stream', trimPoint: { specialOffset: 'LATEST' } });
    expect(await batchIds(shards[0]!)).toEqual([]);
    expect(await batchIds(shards[1]!)).toEqual([]);
    const next = await appendN('trim_stream', shards[1]!, 1);
    expect(Number(next[0]!.batchId)).toBeGreaterThan(Number(last[2]!.batchId));
    await expectFailure(t.client.unary('TrimStream', { streamName: 'nope', trimPoint: { specialOffset: 'LATEST' } }), status.NOT_FOUND, 200);
    await expectFailure(t.client.unary('TrimStream', { streamName: 'trim_stream' }), status.INVALID_ARGUMENT, 208);
  });

  it('TrimStream to a timestamp removes the batches stored before it', async () => {
    const [shardId] = await stream('trim_time');
    await appendN('trim_time', shardId!, 3);
    await new Promise((r) => setTimeout(r, 20));
    const cut = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    const kept = await appendN('trim_time', shardId!, 2);
    await t.client.unary('TrimStream', { streamName: 'trim_time', trimPoint: { timestampOffset: { timestampInMs: String(cut) } } });
    expect(await batchIds(shardId!)).toEqual(kept.map((i) => i.batchId));
  });

  it('TrimShards trims each shard before its smallest given RecordId and reports the ids used', async () => {
    const shards = await stream('trim_shards', 2);
    const a = await appendN('trim_shards', shards[0]!, 5);
    const b = await appendN('trim_shards', shards[1]!, 5);
    const text = (id: RecordIdMsg) => `${id.shardId}-${id.batchId}-${id.batchIndex}`;
    const res = await t.client.unary<{ trimPoints: Record<string, string> }>('TrimShards', {
      streamName: 'trim_shards',
      recordIds: [text(a[3]!), text(a[2]!), text({ ...b[1]!, batchIndex: 1 })],
    });
    // 64-bit map keys arrive in protobufjs's hash form; decode them to the decimal shard ids
    const decoded = Object.fromEntries(Object.entries(res.trimPoints).map(([k, v]) => [String(protobuf.util.LongBits.fromHash(k).toNumber(true)), v]));
    expect(decoded).toEqual({ [shards[0]!]: text(a[2]!), [shards[1]!]: text({ ...b[1]!, batchIndex: 1 }) });
    expect(await batchIds(shards[0]!)).toEqual(a.slice(2).map((i) => i.batchId));
    expect(await batchIds(shards[1]!)).toEqual(b.slice(1).map((i) => i.batchId));
    const empty = await t.client.unary<{ trimPoints: Record<string, string> }>('TrimShards', { streamName: 'trim_shards', recordIds: [] });
    expect(empty.trimPoints).toEqual({});
    await expectFailure(t.client.unary('TrimShards', { streamName: 'trim_shards', recordIds: ['not-an-id'] }), status.INVALID_ARGUMENT, 209);
    await expectFailure(t.client.unary('TrimShards', { streamName: 'trim_shards', recordIds: ['12-4294967297-0'] }), status.INVALID_ARGUMENT, 210);
  });

  it('TrimShards answers the smallest RecordId of a shard when several share a batch (batchId, then index)', async () => {
    const [shardId] = await stream('trim_same_batch');
    const ids = await appendN('trim_same_batch', shardId!, 3);
    const at = (i: number, index: number) => `${shardId}-${ids[i]!.batchId}-${index}`;
    // same batch given with the larger index first, a later batch in between, then index 0
    const res = await t.client.unary<{ trimPoints: Record<string, string> }>('TrimShards', {
      streamName: 'trim_same_batch',
      recordIds: [at(1, 1), at(2, 0), at(1, 0), at(1, 1)],
    });
    expect(Object.values(res.trimPoints)).toEqual([at(1, 0)]);
    expect(await batchIds(shardId!)).toEqual(ids.slice(1).map((i) => i.batchId));
  });
});

describe('retention', () => {
  it('drops whole segments older than the stream backlog and keeps recent ones', async () => {
    const [shardId] = await stream('retained', 1, 1);
    const [keep] = await stream('kept_forever', 1, 0);
    await appendN('retained', shardId!, 3);
    await appendN('kept_forever', keep!, 3);
    // segments close after 1 s and expire 1 s after their last batch; the sweep runs every second
    await eventually(async () => (await batchIds(shardId!)).length === 0, 8000, 200);
    const fresh = await appendN('retained', shardId!, 2);
    expect(await batchIds(shardId!)).toEqual(fresh.map((i) => i.batchId));
    expect(await batchIds(keep!)).toHaveLength(3);
  });
});
