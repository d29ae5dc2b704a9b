/**
 * Consumer groups: each shard has exactly one owner, shards are shared out
 * as consumers join and leave, and a leaving consumer's unacked records go
 * to the new owner at once rather than after the ack timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';
import { appendBatches, createStream, createSubscription, TestConsumer, within } from './subscriptions.helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t.destroy();
});

const shardOf = (id: string) => id.split('-')[0]!;
const shardsSeen = (c: TestConsumer) => new Set([...c.counts.keys()].map(shardOf));

async function consumerCount(subscriptionId: string): Promise<number> {
  return (await t.client.unary<{ consumers: unknown[] }>('ListConsumers', { subscriptionId })).consumers.length;
}

describe('shard ownership', () => {
  it('1 shard + 2 consumers: one consumer receives everything', async () => {
    const [shard] = await createStream(t.client, 'gr_a');
    await createSubscription(t.client, 'gr_sub_a', 'gr_a');
    const c1 = new TestConsumer(t.client, 'gr_sub_a', 'c1');
    const c2 = new TestConsumer(t.client, 'gr_sub_a', 'c2');
    await eventually(async () => (await consumerCount('gr_sub_a')) === 2);
    const ids = await appendBatches(t.client, 'gr_a', shard!, 50, 2);
    await eventually(() => c1.distinct + c2.distinct === 100);
    const [winner, loser] = c1.distinct > 0 ? [c1, c2] : [c2, c1];
    expect(loser.recordCount).toBe(0);
    expect(winner.deliveries.flatMap((d) => d.ids)).toEqual(ids);
    await Promise.all([c1.close(), c2.close()]);
    // both gone: ListConsumers is empty and a plain delete works
    expect(await consumerCount('gr_sub_a')).toBe(0);
    await t.client.unary('DeleteSubscription', { subscriptionId: 'gr_sub_a' });
  });

  it('4 shards + 2 consumers: 2 shards each, every record to exactly one of them', async () => {
    const shards = await createStream(t.client, 'gr_b', 4);
    await createSubscription(t.client, 'gr_sub_b', 'gr_b');
    const c1 = new TestConsumer(t.client, 'gr_sub_b', 'c1');
    const c2 = new TestConsumer(t.client, 'gr_sub_b', 'c2');
    await eventually(async () => (await consumerCount('gr_sub_b')) === 2);
    const ids: string[] = [];
    for (const shard of shards) ids.push(...(await appendBatches(t.client, 'gr_b', shard, 10)));
    await eventually(() => c1.distinct + c2.distinct === 40);
    expect(shardsSeen(c1).size).toBe(2);
    expect(shardsSeen(c2).size).toBe(2);
    expect([...shardsSeen(c1)].some((s) => shardsSeen(c2).has(s))).toBe(false);
    expect(new Set([...c1.counts.keys(), ...c2.counts.keys()])).toEqual(new Set(ids));
    expect(c1.recordCount + c2.recordCount).toBe(40);
    await Promise.all([c1.close(), c2.close()]);
  });

  it('a joining consumer takes shards from the busiest one; new records follow the new owners', async () => {
    const shards = await createStream(t.client, 'gr_c', 4);
    await createSubscription(t.client, 'gr_sub_c', 'gr_c');
    const c1 = new TestConsumer(t.client, 'gr_sub_c', 'c1');
    for (const shard of shards) await appendBatches(t.client, 'gr_c', shard, 2, 1, { prefix: 'a' });
    await c1.untilDistinct(8);
    expect(shardsSeen(c1).size).toBe(4);
    const c2 = new TestConsumer(t.client, 'gr_sub_c', 'c2');
    await eventually(async () => (await consumerCount('gr_sub_c')) === 2);
    const before = c1.distinct;
    for (const shard of shards) await appendBatches(t.client, 'gr_c', shard, 2, 1, { prefix: 'b' });
    await eventually(() => c1.distinct - before + c2.distinct === 8);
    expect(c2.distinct).toBe(4);
    expect(shardsSeen(c2).size).toBe(2);
    expect(c1.distinct - before).toBe(4);
    await Promise.all([c1.close(), c2.close()]);
  });
});

describe('leaving consumers', () => {
  it('a consumer leaving with 100 unacked records: a new consumer gets all 100 promptly, long before the ack timeout', async () => {
    const [shard] = await createStream(t.client, 'gr_d');
    await createSubscription(t.client, 'gr_sub_d', 'gr_d', { ackTimeoutSeconds: 30 });
    const ids = await appendBatches(t.client, 'gr_d', shard!, 10, 10);
    const leaver = new TestConsumer(t.client, 'gr_sub_d', 'leaver', { ack: 'none' });
    await leaver.untilDistinct(100);
    leaver.cancel();
    await eventually(async () => (await consumerCount('gr_sub_d')) === 0);
    const started = Date.now();
    const next = new TestConsumer(t.client, 'gr_sub_d', 'next');
    await next.untilDistinct(100, 3000);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(next.deliveries.flatMap((d) => d.ids)).toEqual(ids);
    await next.close();
  });

  it('an idle consumer already attached takes over the shard and its unacked records at once', async () => {
    const [shard] = await createStream(t.client, 'gr_e');
    await createSubscription(t.client, 'gr_sub_e', 'gr_e', { ackTimeoutSeconds: 30 });
    const owner = new TestConsumer(t.client, 'gr_sub_e', 'owner', { ack: 'none' });
    await eventually(async () => (await consumerCount('gr_sub_e')) === 1);
    const standby = new TestConsumer(t.client, 'gr_sub_e', 'standby');
    await eventually(async () => (await consumerCount('gr_sub_e')) === 2);
    const ids = await appendBatches(t.client, 'gr_e', shard!, 100);
    await owner.untilDistinct(100);
    expect(standby.recordCount).toBe(0);
    await owner.close();
    await standby.untilDistinct(100, 3000);
    expect(standby.deliveries.flatMap((d) => d.ids)).toEqual(ids);
    await standby.close();
  });

  it('records held on a shard that was handed over earlier also go to the current owner at once', async () => {
    const shards = await createStream(t.client, 'gr_f', 2);
    await createSubscription(t.client, 'gr_sub_f', 'gr_f', { ackTimeoutSeconds: 30 });
    const ids: string[] = [];
    for (const shard of shards) ids.push(...(await appendBatches(t.client, 'gr_f', shard, 5)));
    const first = new TestConsumer(t.client, 'gr_sub_f', 'first', { ack: 'none' });
    await first.untilDistinct(10);
    // second takes one shard while first still holds that shard's unacked records
    const second = new TestConsumer(t.client, 'gr_sub_f', 'second');
    await eventually(async () => (await consumerCount('gr_sub_f')) === 2);
    first.cancel();
    await second.untilDistinct(10, 3000);
    expect(new Set(second.counts.keys())).toEqual(new Set(ids));
    await second.close();
  });

  it('partially acked batches come back whole to the next owner (at-least-once)', async () => {
    const [shard] = await createStream(t.client, 'gr_g');
    await createSubscription(t.client, 'gr_sub_g', 'gr_g', { ackTimeoutSeconds: 30 });
    const ids = await appendBatches(t.client, 'gr_g', shard!, 4, 4);
    // acks all of batch 0 and the first half of every other batch
    const first = new TestConsumer(t.client, 'gr_sub_g', 'first', {
      ack: (id) => ids.indexOf(id) < 4 || Number(id.split('-')[2]) < 2,
    });
    await first.untilDistinct(16);
    await eventually(async () => {
      const res = await t.client.unary<{ offsets: Array<{ batchId: string }> }>('GetSubscription', { id: 'gr_sub_g' });
      return res.offsets[0]!.batchId === ids[0]!.split('-')[1];
    });
    await first.close();
    const next = new TestConsumer(t.client, 'gr_sub_g', 'next');
    await next.untilDistinct(12, 3000);
    expect(next.deliveries.flatMap((d) => d.ids)).toEqual(ids.slice(4));
    await next.close();
  });

  it('consumers joining and leaving while records are produced: every record is received and acked', async () => {
    const shards = await createStream(t.client, 'gr_h', 4);
    await createSubscription(t.client, 'gr_sub_h', 'gr_h', { ackTimeoutSeconds: 30 });
    const all = new Set<string>();
    const consumers: TestConsumer[] = [];
    const union = () => new Set(consumers.flatMap((c) => [...c.counts.keys()]));
    for (let round = 0; round < 6; round++) {
      consumers.push(new TestConsumer(t.client, 'gr_sub_h', `c${round}`));
      for (const shard of shards) for (const id of await appendBatches(t.client, 'gr_h', shard, 3, 5, { prefix: `x${round}` })) all.add(id);
      if (round % 2 === 1) consumers[round - 1]!.cancel();
    }
    const last = new TestConsumer(t.client, 'gr_sub_h', 'last');
    consumers.push(last);
    await eventually(() => union().size === all.size, 10_000);
    expect(union()).toEqual(all);
    const tails: Record<string, string> = {};
    for (const id of all) if (Number(id.split('-')[1]) > Number(tails[shardOf(id)] ?? 0)) tails[shardOf(id)] = id.split('-')[1]!;
    await eventually(async () => {
      const res = await t.client.unary<{ offsets: Array<{ shardId: string; batchId: string }> }>('GetSubscription', { id: 'gr_sub_h' });
      return res.offsets.every((o) => o.batchId === tails[o.shardId]);
    });
    await Promise.all(consumers.map((c) => c.close()));
  });

  // Every wait is bounded and named, so a failure says which step did not happen; the bounds
  // are eventual (this takes about 2 s even with both cores busy), not real-time claims.
  it('a consumer that stops reading (still connected) loses its shards after the ack timeout; another consumer gets everything', { timeout: 120_000 }, async () => {
    const shards = await within(createStream(t.client, 'gr_i', 2), 15_000, 'CreateStream');
    await within(createSubscription(t.client, 'gr_sub_i', 'gr_i', { ackTimeoutSeconds: 1, maxUnackedRecords: 40 }), 15_000, 'CreateSubscription');
    const stuck = new TestConsumer(t.client, 'gr_sub_i', 'stuck');
    stuck.call.pause();
    await eventually(async () => (await within(consumerCount('gr_sub_i'), 5_000, 'ListConsumers')) === 1, 15_000);
    const ids: string[] = [];
    // 64 KiB records: a few fill the stuck consumer's transport
    for (const shard of shards) ids.push(...(await within(appendBatches(t.client, 'gr_i', shard, 20, 1, { payloadBytes: 64 * 1024 }), 15_000, 'appends while a consumer is stuck')));
    const worker = new TestConsumer(t.client, 'gr_sub_i', 'worker');
    await worker.until(() => ids.every((id) => worker.counts.has(id)), 30_000, 'every record');
    // reading again, the stuck consumer takes part again: the next records are shared out
    stuck.call.resume();
    const more: string[] = [];
    for (const shard of shards) more.push(...(await within(appendBatches(t.client, 'gr_i', shard, 5, 1, { prefix: 'more' }), 15_000, 'appends after resume')));
    await eventually(() => more.every((id) => worker.counts.has(id) || stuck.counts.has(id)), 30_000);
    await Promise.all([stuck.close(), worker.close()]);
  });
});
