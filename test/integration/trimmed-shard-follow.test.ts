/**
 * Regression found by the hostile-input scenario of test/reliability: a
 * tail-following read positioned below the trim point of a shard trimmed up
 * to its tail spun in a microtask loop (wait said "data arrived", the read
 * returned nothing, repeat), so the event loop never ran again and the whole
 * server stopped answering, for good.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Received } from '../helpers/streams.js';
import { createStream } from '../helpers/streams.js';
import { batch, rawRecords } from '../helpers/records.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.destroy());

describe('following a shard trimmed up to its tail', () => {
  it('waits for new appends instead of spinning, and delivers them', async () => {
    const [shardId] = (await createStream(t.client, 'trimmed_follow', 1)) as [string];
    for (let i = 0; i < 3; i++) await t.client.unary('Append', { streamName: 'trimmed_follow', shardId, records: batch(rawRecords(2, `old${i}-`)) });
    await t.client.unary('TrimShard', { streamName: 'trimmed_follow', shardId, trimPoint: { specialOffset: 'LATEST' } });

    const call = t.client.serverStream<{ receivedRecords: Received[] }>('ReadShardStream', {
      readerId: 'follower',
      shardId,
      from: { specialOffset: 'EARLIEST' },
    });
    const received: Received[] = [];
    call.on('data', (m: { receivedRecords: Received[] }) => received.push(...m.receivedRecords));
    call.on('error', () => undefined);
    try {
      // the server still answers while the follower waits
      const started = Date.now();
      expect(await t.client.unary('Echo', { msg: 'alive' }, { deadlineMs: 2_000 })).toEqual({ msg: 'alive' });
      expect(Date.now() - started).toBeLessThan(1_000);

      const res = await t.client.unary<{ recordIds: Array<{ batchId: string }> }>(
        'Append',
        { streamName: 'trimmed_follow', shardId, records: batch(rawRecords(1, 'new')) },
        { deadlineMs: 2_000 },
      );
      const deadline = Date.now() + 5_000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(received.map((r) => r.recordIds[0]!.batchId)).toEqual([res.recordIds[0]!.batchId]);
    } finally {
      call.cancel();
    }
  });

  it('ReadStream (all shards) from EARLIEST behaves the same', async () => {
    const [shardId] = (await createStream(t.client, 'trimmed_follow_all', 1)) as [string];
    await t.client.unary('Append', { streamName: 'trimmed_follow_all', shardId, records: batch(rawRecords(1)) });
    await t.client.unary('TrimStream', { streamName: 'trimmed_follow_all', trimPoint: { specialOffset: 'LATEST' } });
    const call = t.client.serverStream('ReadStream', { readerId: 'all', streamName: 'trimmed_follow_all', from: { specialOffset: 'EARLIEST' } });
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    try {
      expect(await t.client.unary('Echo', { msg: 'alive' }, { deadlineMs: 2_000 })).toEqual({ msg: 'alive' });
    } finally {
      call.cancel();
    }
  });
});
