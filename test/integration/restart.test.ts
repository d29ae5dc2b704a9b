import { chmodSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batch, rawRecords } from '../helpers/records.js';
import { startTestServer, tempDir } from '../helpers/server.js';

const dataDir = tempDir();
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('clean restart on the same data directory', () => {
  it('keeps streams, shards, data, reader positions, and never reuses a RecordId (even after trimming everything)', async () => {
    let t = await startTestServer({ dataDir });
    await t.client.unary('CreateStream', { streamName: 'durable', replicationFactor: 2, shardCount: 2, backlogDuration: 3600 });
    const { shards } = await t.client.unary<{ shards: Array<{ shardId: string; startHashRangeKey: string }> }>('ListShards', { streamName: 'durable' });
    const shardId = shards[0]!.shardId;
    const appended: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.client.unary<{ recordIds: Array<{ batchId: string }> }>('Append', { streamName: 'durable', shardId, records: batch(rawRecords(3, `${i}-`)) });
      appended.push(res.recordIds[0]!.batchId);
    }
    await t.client.unary('CreateShardReader', { streamName: 'durable', shardId, readerId: 'keeper', shardOffset: { specialOffset: 'EARLIEST' } });
    await t.client.unary('ReadShard', { readerId: 'keeper', maxRecords: 2 });
    const before = await t.client.unary<{ streams: unknown[] }>('ListStreams');
    await t.stop();

    t = await startTestServer({ dataDir });
    expect(await t.client.unary('ListStreams')).toEqual(before);
    expect((await t.client.unary<{ shards: unknown[] }>('ListShards', { streamName: 'durable' })).shards).toEqual(
      shards.map((s) => expect.objectContaining(s)),
    );
    const rest = await t.client.unary<{ receivedRecords: Array<{ recordIds: Array<{ batchId: string }> }> }>('ReadShard', { readerId: 'keeper', maxRecords: 10 });
    expect(rest.receivedRecords.map((r) => r.recordIds[0]!.batchId)).toEqual(appended.slice(2));
    const tail = await t.client.unary<{ tailRecordId: { batchId: string } }>('GetTailRecordId', { streamName: 'durable', shardId });
    expect(tail.tailRecordId.batchId).toBe(appended[4]);

    await t.client.unary('TrimShard', { streamName: 'durable', shardId, trimPoint: { specialOffset: 'LATEST' } });
    await t.stop();

    t = await startTestServer({ dataDir });
    const next = await t.client.unary<{ recordIds: Array<{ batchId: string }> }>('Append', { streamName: 'durable', shardId, records: batch(rawRecords(1)) });
    expect(Number(next.recordIds[0]!.batchId)).toBe(Number(appended[4]) + 1);
    await t.stop();
  });

  it('starts in memory with nothing kept between runs', async () => {
    const t = await startTestServer({ inMemory: true });
    await t.client.unary('CreateStream', { streamName: 'ephemeral', replicationFactor: 1, shardCount: 1 });
    await t.destroy();
    const again = await startTestServer({ inMemory: true });
    expect((await again.client.unary<{ streams: unknown[] }>('ListStreams')).streams).toEqual([]);
    await again.destroy();
  });
});

describe('the data directory', () => {
  it('is made readable by its owner only (it holds connector passwords); an existing one keeps its mode', async () => {
    const parent = tempDir();
    const made = join(parent, 'made', 'data');
    const t = await startTestServer({ dataDir: made });
    await t.client.unary('CreateStream', { streamName: 'private', replicationFactor: 1, shardCount: 1 });
    await t.stop();
    expect(statSync(made).mode & 0o777).toBe(0o700);
    expect(statSync(join(parent, 'made')).mode & 0o777).toBe(0o700);

    const shared = join(parent, 'shared');
    mkdirSync(shared, { mode: 0o755 });
    chmodSync(shared, 0o755);
    const again = await startTestServer({ dataDir: shared });
    await again.stop();
    expect(statSync(shared).mode & 0o777).toBe(0o755);
  });
});
