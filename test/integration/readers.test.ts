import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Compression, decodeRecords } from '../../src/records.js';
import { expectFailure, status } from '../helpers/expect.js';
import { createStream, type RecordIdMsg, type Received } from '../helpers/streams.js';
import { batch, rawRecords } from '../helpers/records.js';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';


let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.destroy());

const stream = (name: string, shardCount = 1) => createStream(t.client, name, shardCount);

async function appendN(name: string, shardId: string, batches: number, prefix = 'b'): Promise<RecordIdMsg[]> {
  const ids: RecordIdMsg[] = [];
  for (let i = 0; i < batches; i++) {
    const res = await t.client.unary<{ recordIds: RecordIdMsg[] }>('Append', {
      streamName: name,
      shardId,
      records: batch(rawRecords(2, `${prefix}${i}-`)),
    });
    ids.push(res.recordIds[0]!);
  }
  return ids;
}

const payloads = (received: Received[]) =>
  received.flatMap((r) => decodeRecords(Compression.None, Buffer.from(r.record.payload)).map((x) => x.payload.toString()));

const readShardStream = async (shardId: string, from: unknown, until?: unknown, maxReadBatches?: number) =>
  (
    await t.client.collect<{ receivedRecords: Received[] }>('ReadShardStream', { readerId: 'r', shardId, from, until, maxReadBatches })
  ).flatMap((m) => m.receivedRecords);

describe('stateful shard readers', () => {
  it('continue where the previous ReadShard stopped, in batches', async () => {
    const [shardId] = await stream('rd_state');
    await appendN('rd_state', shardId!, 5);
    await t.client.unary('CreateShardReader', { streamName: 'rd_state', shardId, readerId: 'reader1', shardOffset: { specialOffset: 'EARLIEST' } });
    const first = await t.client.unary<{ receivedRecords: Received[] }>('ReadShard', { readerId: 'reader1', maxRecords: 2 });
    const second = await t.client.unary<{ receivedRecords: Received[] }>('ReadShard', { readerId: 'reader1', maxRecords: 10 });
    expect(first.receivedRecords).toHaveLength(2);
    expect(second.receivedRecords).toHaveLength(3);
    expect(payloads([...first.receivedRecords, ...second.receivedRecords])).toEqual(
      Array.from({ length: 5 }, (_, i) => [`b${i}-0`, `b${i}-1`]).flat(),
    );
    const { readerId } = await t.client.unary<{ readerId: string[] }>('ListShardReaders');
    expect(readerId).toContain('reader1');
    await t.client.unary('DeleteShardReader', { readerId: 'reader1' });
    await expectFailure(t.client.unary('ReadShard', { readerId: 'reader1', maxRecords: 1 }), status.FAILED_PRECONDITION);
    await expectFailure(t.client.unary('DeleteShardReader', { readerId: 'reader1' }), status.FAILED_PRECONDITION);
  });

  it('from a RecordId with a timeout returns exactly the remaining records over several reads', async () => {
    const [shardId] = await stream('rd_rid');
    const ids = await appendN('rd_rid', shardId!, 10);
    await t.client.unary('CreateShardReader', {
      streamName: 'rd_rid',
      shardId,
      readerId: 'reader2',
      shardOffset: { recordOffset: ids[4] },
      timeout: 100,
    });
    const got: Received[] = [];
    for (let i = 0; i < 5; i++) got.push(...(await t.client.unary<{ receivedRecords: Received[] }>('ReadShard', { readerId: 'reader2', maxRecords: 1000 })).receivedRecords);
    expect(got.map((r) => r.recordIds[0]!.batchId)).toEqual(ids.slice(4).map((id) => id.batchId));
  });

  it('waits up to its timeout for data that arrives during the read', async () => {
    const [shardId] = await stream('rd_wait');
    await t.client.unary('CreateShardReader', { streamName: 'rd_wait', shardId, readerId: 'reader3', shardOffset: { specialOffset: 'LATEST' }, timeout: 5000 });
    const pending = t.client.unary<{ receivedRecords: Received[] }>('ReadShard', { readerId: 'reader3', maxRecords: 10 });
    await new Promise((r) => setTimeout(r, 50));
    await appendN('rd_wait', shardId!, 1, 'late');
    expect(payloads((await pending).receivedRecords)).toEqual(['late0-0', 'late0-1']);
  });

  it('refuses a duplicate id, an unknown shard and a missing offset', async () => {
    const [shardId] = await stream('rd_err');
    const req = { streamName: 'rd_err', shardId, readerId: 'dupreader', shardOffset: { specialOffset: 'EARLIEST' } };
    await t.client.unary('CreateShardReader', req);
    await expectFailure(t.client.unary('CreateShardReader', req), status.ALREADY_EXISTS, 0);
    await expectFailure(t.client.unary('CreateShardReader', { ...req, readerId: 'other', shardId: '777' }), status.NOT_FOUND);
    await expectFailure(t.client.unary('CreateShardReader', { ...req, readerId: 'other2', shardOffset: null }), status.INVALID_ARGUMENT, 208);
    await expectFailure(t.client.unary('CreateShardReader', { ...req, readerId: '9bad' }), status.INVALID_ARGUMENT, 900);
  });
});

describe('ReadShardStream', () => {
  it('reads EARLIEST to LATEST inclusive', async () => {
    const [shardId] = await stream('rs_all');
    const ids = await appendN('rs_all', shardId!, 25);
    const got = await readShardStream(shardId!, { specialOffset: 'EARLIEST' }, { specialOffset: 'LATEST' });
    expect(got.map((r) => r.recordIds[0]!.batchId)).toEqual(ids.map((i) => i.batchId));
    expect(got.every((r) => r.recordIds.length === r.record.batchSize)).toBe(true);
  });

  it('from a RecordId returns that whole batch and all later ones; until a RecordId is inclusive', async () => {
    const [shardId] = await stream('rs_rid');
    const ids = await appendN('rs_rid', shardId!, 10);
    const got = await readShardStream(shardId!, { recordOffset: { ...ids[3], batchIndex: 1 } }, { recordOffset: ids[6] });
    expect(got.map((r) => r.recordIds[0]!.batchId)).toEqual(ids.slice(3, 7).map((i) => i.batchId));
    expect(got[0]!.recordIds.map((r) => r.batchIndex)).toEqual([0, 1]);
  });

  it('from a timestamp returns exactly the batches stored at or after it', async () => {
    const [shardId] = await stream('rs_time');
    await appendN('rs_time', shardId!, 3, 'old');
    await new Promise((r) => setTimeout(r, 20));
    const cut = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    const later = await appendN('rs_time', shardId!, 3, 'new');
    const got = await readShardStream(shardId!, { timestampOffset: { timestampInMs: String(cut), strictAccuracy: true } }, { specialOffset: 'LATEST' });
    expect(got.map((r) => r.recordIds[0]!.batchId)).toEqual(later.map((i) => i.batchId));
    const future = await readShardStream(shardId!, { timestampOffset: { timestampInMs: String(cut - 3_600_000) } }, { specialOffset: 'LATEST' });
    expect(future).toHaveLength(6);
  });

  it('until a timestamp stops before batches stored after it', async () => {
    const [shardId] = await stream('rs_until_time');
    const early = await appendN('rs_until_time', shardId!, 2, 'a');
    await new Promise((r) => setTimeout(r, 20));
    const cut = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    await appendN('rs_until_time', shardId!, 2, 'b');
    const got = await readShardStream(shardId!, { specialOffset: 'EARLIEST' }, { timestampOffset: { timestampInMs: String(cut) } });
    expect(got.map((r) => r.recordIds[0]!.batchId)).toEqual(early.map((i) => i.batchId));
  });

  it('reads from the beginning when no start is given, as upstream does', async () => {
    const [shardId] = await stream('rs_nofrom');
    const ids = await appendN('rs_nofrom', shardId!, 3);
    const got = await readShardStream(shardId!, null, { specialOffset: 'LATEST' });
    expect(got.map((r) => r.recordIds[0]!.batchId)).toEqual(ids.map((i) => i.batchId));
  });

  it('caps the number of batches with maxReadBatches, then ends OK', async () => {
    const [shardId] = await stream('rs_cap');
    await appendN('rs_cap', shardId!, 30);
    expect(await readShardStream(shardId!, { specialOffset: 'EARLIEST' }, undefined, 13)).toHaveLength(13);
  });

  it('follows the tail from LATEST when no end is given', async () => {
    const [shardId] = await stream('rs_follow');
    await appendN('rs_follow', shardId!, 2, 'before');
    const call = t.client.serverStream<{ receivedRecords: Received[] }>('ReadShardStream', {
      readerId: 'f',
      shardId,
      from: { specialOffset: 'LATEST' },
    });
    const got: Received[] = [];
    call.on('data', (m: { receivedRecords: Received[] }) => got.push(...m.receivedRecords));
    call.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 50));
    await appendN('rs_follow', shardId!, 3, 'after');
    await eventually(() => got.length === 3);
    call.cancel();
    expect(payloads(got)).toEqual(['after0-0', 'after0-1', 'after1-0', 'after1-1', 'after2-0', 'after2-1']);
  });

  it('refuses offsets that conflict (901), a missing start (208) and an unknown shard', async () => {
    const [shardId, otherShard] = await stream('rs_err', 2);
    const ids = await appendN('rs_err', shardId!, 3);
    const otherIds = await appendN('rs_err', otherShard!, 1);
    await expectFailure(readShardStream(shardId!, { recordOffset: ids[2] }, { recordOffset: ids[0] }), status.INVALID_ARGUMENT, 901);
    await expectFailure(readShardStream(shardId!, { recordOffset: otherIds[0] }, { specialOffset: 'LATEST' }), status.INVALID_ARGUMENT, 901);
    await expectFailure(readShardStream(shardId!, {}, { specialOffset: 'LATEST' }), status.INVALID_ARGUMENT, 208);
    await expectFailure(readShardStream('31337', { specialOffset: 'EARLIEST' }, { specialOffset: 'LATEST' }), status.NOT_FOUND);
  });
});

describe('ReadSingleShardStream and ReadStream', () => {
  it('ReadSingleShardStream reads a one-shard stream and refuses a multi-shard one (902)', async () => {
    const [shardId] = await stream('single1');
    await appendN('single1', shardId!, 4);
    const got = (
      await t.client.collect<{ receivedRecords: Received[] }>('ReadSingleShardStream', {
        readerId: 'x',
        streamName: 'single1',
        from: { specialOffset: 'EARLIEST' },
        until: { specialOffset: 'LATEST' },
      })
    ).flatMap((m) => m.receivedRecords);
    expect(got).toHaveLength(4);
    await stream('multi2', 2);
    await expectFailure(
      t.client.collect('ReadSingleShardStream', { readerId: 'x', streamName: 'multi2', from: { specialOffset: 'EARLIEST' } }),
      status.INVALID_ARGUMENT,
      902,
    );
  });

  it('ReadStream reads every shard to its end, skipping empty shards, and caps with maxReadBatches', async () => {
    const shards = await stream('rstream', 3);
    await appendN('rstream', shards[0]!, 5, 's0-');
    await appendN('rstream', shards[2]!, 7, 's2-');
    const req = { readerId: 'x', streamName: 'rstream', from: { specialOffset: 'EARLIEST' }, until: { specialOffset: 'LATEST' } };
    const got = (await t.client.collect<{ receivedRecords: Received[] }>('ReadStream', req)).flatMap((m) => m.receivedRecords);
    expect(got).toHaveLength(12);
    for (const shardId of [shards[0], shards[2]]) {
      const ids = got.filter((r) => r.recordIds[0]!.shardId === shardId).map((r) => Number(r.recordIds[0]!.batchId));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    const capped = (await t.client.collect<{ receivedRecords: Received[] }>('ReadStream', { ...req, maxReadBatches: 6 })).flatMap((m) => m.receivedRecords);
    expect(capped).toHaveLength(6);
    await expectFailure(t.client.collect('ReadStream', { ...req, streamName: 'missing' }), status.NOT_FOUND, 200);
  });
});

describe('ReadStreamByKey', () => {
  it.each(['None', 'Gzip', 'Zstd'] as const)('returns exactly the records of one key, in order, with their RecordIds (%s)', async (compression) => {
    const name = `bykey_${compression}`;
    await stream(name, 2);
    const { shards } = await t.client.unary<{ shards: Array<{ shardId: string; startHashRangeKey: string; endHashRangeKey: string }> }>('ListShards', { streamName: name });
    const { hashPartitionKey } = await import('../../src/core/shards.js');
    const shardFor = (key: string) => shards.find((s) => BigInt(s.startHashRangeKey) <= hashPartitionKey(key) && hashPartitionKey(key) <= BigInt(s.endHashRangeKey))!.shardId;
    const expected: Array<{ payload: string; id: RecordIdMsg }> = [];
    for (let b = 0; b < 5; b++) {
      const recs = Array.from({ length: 15 }, (_, i) => ({ key: i % 3 === 0 ? 'dev-1' : `dev-${i % 3 + 1}`, payload: `p${b}-${i}` }));
      // a client sends each record to the shard its key hashes to
      const byShard = new Map<string, typeof recs>();
      for (const r of recs) byShard.set(shardFor(r.key), [...(byShard.get(shardFor(r.key)) ?? []), r]);
      for (const [shardId, group] of byShard) {
        const res = await t.client.unary<{ recordIds: RecordIdMsg[] }>('Append', { streamName: name, shardId, records: batch(group, compression) });
        group.forEach((r, i) => {
          if (r.key === 'dev-1') expected.push({ payload: r.payload, id: res.recordIds[i]! });
        });
      }
    }
    const call = t.client.bidi<unknown, { recordIds: RecordIdMsg[]; receivedRecords: Array<{ payload: Buffer; header: { key: string } }> }>('ReadStreamByKey');
    const got: Array<{ payload: string; id: RecordIdMsg; key: string }> = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m) => {
        m.receivedRecords.forEach((r, i) => got.push({ payload: Buffer.from(r.payload).toString(), id: m.recordIds[i]!, key: r.header.key }));
        if (got.length % 4 === 0 && got.length < expected.length) call.write({ readRecordCount: 4 });
      });
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write({ readerId: 'k', streamName: name, key: 'dev-1', from: { specialOffset: 'EARLIEST' }, until: { specialOffset: 'LATEST' }, readRecordCount: 4 });
    await done;
    expect(got.every((g) => g.key === 'dev-1')).toBe(true);
    expect(got.map((g) => g.payload)).toEqual(expected.map((e) => e.payload));
    expect(got.map((g) => g.id)).toEqual(expected.map((e) => e.id));
  });

  it('returns nothing for a key that was never written, and NOT_FOUND for a missing stream', async () => {
    const [shardId] = await stream('bykey_none');
    await t.client.unary('Append', { streamName: 'bykey_none', shardId, records: batch(rawRecords(3, 'x', 'a')) });
    const call = t.client.bidi<unknown, { recordIds: unknown[] }>('ReadStreamByKey');
    const got: unknown[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m) => got.push(...m.recordIds));
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write({ readerId: 'k', streamName: 'bykey_none', key: 'zzz', from: { specialOffset: 'EARLIEST' }, readRecordCount: 100 });
    await done;
    expect(got).toEqual([]);
    const missing = t.client.bidi('ReadStreamByKey');
    const err = new Promise<{ code: number; details: string }>((resolve) => missing.on('error', resolve));
    missing.on('data', () => undefined);
    missing.write({ readerId: 'k', streamName: 'nothere', key: 'a', readRecordCount: 1 });
    await expectFailure(err.then((e) => Promise.reject(e)), status.NOT_FOUND, 200);
  });
});
