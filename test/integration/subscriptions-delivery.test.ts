/**
 * StreamingFetch delivery: one ReceivedRecord per stored batch in LSN order,
 * acks moving the commit point, exact redelivery after the ack timeout,
 * maxUnackedRecords flow control, and subscriptions of force-deleted streams.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';
import {
  appendBatches,
  committedOffsets,
  createStream,
  createSubscription,
  TestConsumer,
  type WireRecordId,
} from './subscriptions.helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t.destroy();
});

const lsnOf = (id: string) => id.split('-')[1]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('delivery', () => {
  it('sends one ReceivedRecord per stored batch, in LSN order, with the RecordIds Append returned', async () => {
    const [shard] = await createStream(t.client, 'dl_a');
    const ids = await appendBatches(t.client, 'dl_a', shard!, 20, 3);
    await createSubscription(t.client, 'dl_sub_a', 'dl_a');
    const c = new TestConsumer(t.client, 'dl_sub_a', 'c');
    await c.untilDistinct(60);
    expect(c.deliveries).toHaveLength(20);
    expect(c.deliveries.flatMap((d) => d.ids)).toEqual(ids);
    expect(c.deliveries.every((d) => d.ids.length === 3 && d.payloads.length === 3)).toBe(true);
    expect(c.deliveries[4]!.payloads).toEqual(['r4-0', 'r4-1', 'r4-2']);
    const lsns = c.deliveries.map((d) => Number(d.recordIds[0]!.batchId));
    expect([...lsns].sort((a, b) => a - b)).toEqual(lsns);
    // acks move the commit point to the last batch
    await eventually(async () => (await committedOffsets(t.client, 'dl_sub_a'))[shard!] === lsnOf(ids[59]!));
    await c.close();
  });

  it('keeps the producer compression and reports the store time as publishTime', async () => {
    const [shard] = await createStream(t.client, 'dl_b');
    await createSubscription(t.client, 'dl_sub_b', 'dl_b');
    const before = Date.now();
    for (const compression of ['Gzip', 'Zstd', 'None'] as const) {
      await t.client.unary('Append', { streamName: 'dl_b', shardId: shard, records: batch([{ payload: `p-${compression}` }], compression) });
    }
    const c = new TestConsumer(t.client, 'dl_sub_b', 'c');
    await c.untilDistinct(3);
    expect(c.deliveries.map((d) => [d.compressionType, d.payloads[0]])).toEqual([
      ['Gzip', 'p-Gzip'],
      ['Zstd', 'p-Zstd'],
      ['None', 'p-None'],
    ]);
    for (const d of c.deliveries) {
      const ms = Number(d.publishTime.seconds) * 1000 + d.publishTime.nanos / 1e6;
      expect(ms).toBeGreaterThanOrEqual(before - 1);
      expect(ms).toBeLessThanOrEqual(Date.now());
    }
    await c.close();
  });

  it('follows the tail: records appended while a consumer waits arrive without polling', async () => {
    const shards = await createStream(t.client, 'dl_c', 3);
    await createSubscription(t.client, 'dl_sub_c', 'dl_c', { offset: 'LATEST' });
    const c = new TestConsumer(t.client, 'dl_sub_c', 'c');
    await eventually(async () => (await t.client.unary<{ consumers: unknown[] }>('ListConsumers', { subscriptionId: 'dl_sub_c' })).consumers.length === 1);
    const ids: string[] = [];
    for (const shard of shards) ids.push(...(await appendBatches(t.client, 'dl_c', shard, 5, 2)));
    await c.untilDistinct(30, 5000);
    expect(new Set(c.counts.keys())).toEqual(new Set(ids));
    // per shard, in the order appended
    for (const shard of shards) {
      expect(c.deliveries.flatMap((d) => d.ids).filter((id) => id.startsWith(`${shard}-`))).toEqual(ids.filter((id) => id.startsWith(`${shard}-`)));
    }
    await c.close();
  });

  it('delivers large batches intact: 2700 records of 4 KiB in batches of 100', async () => {
    const [shard] = await createStream(t.client, 'dl_big');
    const ids = await appendBatches(t.client, 'dl_big', shard!, 27, 100, { payloadBytes: 4096, compression: 'Zstd' });
    await createSubscription(t.client, 'dl_sub_big', 'dl_big');
    const c = new TestConsumer(t.client, 'dl_sub_big', 'c');
    await c.untilDistinct(2700, 15_000);
    expect(c.deliveries.flatMap((d) => d.ids)).toEqual(ids);
    expect(c.deliveries.every((d) => d.payloads.every((p) => p.length === 4096))).toBe(true);
    expect(c.deliveries[26]!.payloads[99]!.startsWith('r26-99-')).toBe(true);
    await c.close();
  });
});

describe('redelivery', () => {
  it('with ackTimeoutSeconds 3 and no ack, a record arrives exactly twice within 5 s (same id, payload, publishTime)', async () => {
    const [shard] = await createStream(t.client, 'rd_a');
    await createSubscription(t.client, 'rd_sub_a', 'rd_a', { ackTimeoutSeconds: 3 });
    const [id] = await appendBatches(t.client, 'rd_a', shard!, 1);
    const c = new TestConsumer(t.client, 'rd_sub_a', 'c', { ack: 'none' });
    await c.untilDistinct(1);
    const start = c.deliveries[0]!.atMs;
    await c.until(() => c.deliveries.length === 2, 4000, 'a redelivery');
    const gap = c.deliveries[1]!.atMs - start;
    expect(gap).toBeGreaterThanOrEqual(2900);
    expect(gap).toBeLessThan(3600);
    await sleep(Math.max(0, start + 5000 - Date.now()));
    expect(c.deliveries).toHaveLength(2);
    expect(c.deliveries.map((d) => d.ids)).toEqual([[id], [id]]);
    expect(c.deliveries[1]!.payloads).toEqual(c.deliveries[0]!.payloads);
    expect(c.deliveries[1]!.publishTime).toEqual(c.deliveries[0]!.publishTime);
    await c.close();
  });

  it('each dropped ack leads to exactly one redelivery of just the unacked records, repacked with the same compression', async () => {
    const shards = await createStream(t.client, 'rd_b', 2);
    await createSubscription(t.client, 'rd_sub_b', 'rd_b', { ackTimeoutSeconds: 1 });
    const written: string[] = [];
    const payloadOf = new Map<string, string>();
    for (const shard of shards) {
      const ids = await appendBatches(t.client, 'rd_b', shard, 30, 4, { compression: 'Gzip' });
      ids.forEach((id, p) => payloadOf.set(id, `r${Math.floor(p / 4)}-${p % 4}`));
      written.push(...ids);
    }
    // Drop the ack of a fixed pseudo-random ~20% of records on their first delivery only.
    const dropped = new Set(written.filter((_, i) => (i * 7919) % 10 < 2));
    const seen = new Set<string>();
    const c = new TestConsumer(t.client, 'rd_sub_b', 'c', {
      ack: (id) => {
        const first = !seen.has(id);
        seen.add(id);
        return !(first && dropped.has(id));
      },
    });
    await c.untilDistinct(written.length);
    await c.until(() => c.recordCount === written.length + dropped.size, 5000, 'every dropped record redelivered');
    const last: Record<string, string> = {};
    for (const id of written) last[id.split('-')[0]!] = lsnOf(id);
    await eventually(async () => {
      const offsets = await committedOffsets(t.client, 'rd_sub_b');
      return shards.every((s) => offsets[s] === last[s]);
    }, 5000);
    // Everything is acked now; give a would-be extra redelivery more than one timeout to show up.
    await sleep(1300);
    expect(c.recordCount).toBe(written.length + dropped.size);
    const again = [...c.counts].filter(([, n]) => n > 1).map(([id]) => id);
    expect(new Set(again)).toEqual(dropped);
    expect([...c.counts.values()].every((n) => n <= 2)).toBe(true);
    // Redeliveries carry only the unacked records of their batch, repacked with the same compression.
    const redeliveries = c.deliveries.slice(written.length / 4);
    expect(redeliveries.length).toBeGreaterThan(0);
    for (const d of redeliveries) {
      expect(d.compressionType).toBe('Gzip');
      expect(d.ids.every((id) => dropped.has(id))).toBe(true);
      expect(d.payloads).toEqual(d.ids.map((id) => payloadOf.get(id)));
      const original = c.deliveries.find((o) => o.ids.includes(d.ids[0]!))!;
      expect(d.publishTime).toEqual(original.publishTime);
    }
    await c.close();
  });
});

describe('flow control', () => {
  it('pauses at maxUnackedRecords and resumes as acks free room', async () => {
    const [shard] = await createStream(t.client, 'fc_a');
    await createSubscription(t.client, 'fc_sub_a', 'fc_a', { maxUnackedRecords: 10 });
    const ids = await appendBatches(t.client, 'fc_a', shard!, 50);
    const c = new TestConsumer(t.client, 'fc_sub_a', 'c', { ack: 'none' });
    await c.untilDistinct(10);
    await sleep(300);
    expect(c.recordCount).toBe(10);
    const ack = (from: number, to: number) =>
      c.sendAcks(c.deliveries.slice(from, to).flatMap((d) => d.recordIds as WireRecordId[]));
    ack(0, 5);
    await c.untilDistinct(15);
    await sleep(200);
    expect(c.recordCount).toBe(15);
    // acking the rest as it comes delivers everything
    c.ack = 'all';
    ack(5, 15);
    await c.untilDistinct(50);
    expect(c.deliveries.flatMap((d) => d.ids)).toEqual(ids);
    await c.close();
  });

  it('a batch larger than the limit is still delivered, then delivery waits', async () => {
    const [shard] = await createStream(t.client, 'fc_b');
    await createSubscription(t.client, 'fc_sub_b', 'fc_b', { maxUnackedRecords: 5 });
    await appendBatches(t.client, 'fc_b', shard!, 3, 10);
    const c = new TestConsumer(t.client, 'fc_sub_b', 'c', { ack: 'none' });
    await c.untilDistinct(10);
    await sleep(200);
    expect(c.deliveries).toHaveLength(1);
    c.ack = 'all';
    c.sendAcks(c.deliveries[0]!.recordIds);
    await c.untilDistinct(30);
    await c.close();
  });

  it('never stalls for good: a full budget held by a leaving consumer frees up (regression: upstream PR #1259)', async () => {
    const shards = await createStream(t.client, 'fc_c', 2);
    await createSubscription(t.client, 'fc_sub_c', 'fc_c', { maxUnackedRecords: 10 });
    const ids: string[] = [];
    for (const shard of shards) ids.push(...(await appendBatches(t.client, 'fc_c', shard, 40)));
    const hog = new TestConsumer(t.client, 'fc_sub_c', 'hog', { ack: 'none' });
    await hog.untilDistinct(10);
    // joins while the budget is exhausted: it still gets a shard, and everything once the hog leaves
    const worker = new TestConsumer(t.client, 'fc_sub_c', 'worker');
    await eventually(async () => (await t.client.unary<{ consumers: unknown[] }>('ListConsumers', { subscriptionId: 'fc_sub_c' })).consumers.length === 2);
    hog.cancel();
    await worker.untilDistinct(80, 10_000);
    expect(new Set(worker.counts.keys())).toEqual(new Set(ids));
    await worker.close();
  });
});

describe('force-deleted streams', () => {
  it('their subscriptions still deliver the remaining records; the name can be reused independently', async () => {
    const [oldShard] = await createStream(t.client, 'ds_a');
    const oldIds = await appendBatches(t.client, 'ds_a', oldShard!, 10, 1, { prefix: 'old' });
    await createSubscription(t.client, 'ds_sub_old', 'ds_a');
    const first = new TestConsumer(t.client, 'ds_sub_old', 'c1', { ack: (id) => oldIds.indexOf(id) < 4 });
    await first.untilDistinct(10);
    await first.close();

    await t.client.unary('DeleteStream', { streamName: 'ds_a', force: true });
    const listed = await t.client.unary<{ subscription: Array<{ subscriptionId: string; streamName: string }> }>('ListSubscriptions');
    expect(listed.subscription.find((s) => s.subscriptionId === 'ds_sub_old')?.streamName).toBe('__deleted_stream__');
    // Appending to the deleted stream fails; creating a subscription on its name fails.
    await expect(t.client.unary('Append', { streamName: 'ds_a', shardId: oldShard, records: batch([{ payload: 'x' }]) })).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    await expect(createSubscription(t.client, 'ds_sub_x', 'ds_a')).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });

    // The name is reused by a new stream with its own subscription.
    const [newShard] = await createStream(t.client, 'ds_a');
    expect(newShard).not.toBe(oldShard);
    const newIds = await appendBatches(t.client, 'ds_a', newShard!, 3, 1, { prefix: 'new' });
    await createSubscription(t.client, 'ds_sub_new', 'ds_a');

    const second = new TestConsumer(t.client, 'ds_sub_old', 'c2');
    await second.untilDistinct(6);
    expect([...second.counts.keys()]).toEqual(oldIds.slice(4));
    const fresh = new TestConsumer(t.client, 'ds_sub_new', 'c3');
    await fresh.untilDistinct(3);
    expect([...fresh.counts.keys()]).toEqual(newIds);
    await second.close();
    await fresh.close();

    // Deleting the last subscription of the archived stream releases it; the new stream is untouched.
    await t.client.unary('DeleteSubscription', { subscriptionId: 'ds_sub_old' });
    expect(t.server.context.store.hasLog(Number(oldShard))).toBe(false);
    expect(t.server.context.store.hasLog(Number(newShard))).toBe(true);
  });
});
