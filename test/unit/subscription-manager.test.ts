/**
 * The subscription core without gRPC: an in-memory store, the stream
 * catalogue and the manager, with consumers that record what they are sent.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogStore } from '../../storage/index.js';
import { IdAllocator } from '../../src/core/ids.js';
import { StatsRegistry } from '../../src/core/stats.js';
import { StreamCatalog } from '../../src/core/streams.js';
import type { DeliveredBatch } from '../../src/core/subscriptions/consumer.js';
import { SubscriptionManager } from '../../src/core/subscriptions/manager.js';
import { batch, rawRecords } from '../helpers/records.js';

const log = pino({ level: 'silent' });
let store: LogStore;
let catalog: StreamCatalog;

beforeEach(async () => {
  store = await LogStore.open({ location: undefined, sync: false, segment: { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 24 });
  catalog = new StreamCatalog(store, await IdAllocator.load(store.meta), new StatsRegistry(), log);
});

afterEach(async () => {
  await store.close();
});

async function manager(checkpointIntervalMs = 60_000): Promise<SubscriptionManager> {
  const m = new SubscriptionManager(catalog, log, checkpointIntervalMs);
  await m.load();
  return m;
}

/**
 * A consumer that records what it is sent. With `fillsOn`, its transport
 * fills for good on the first write that `fillsOn` picks (a client that
 * stopped reading but stays connected).
 */
function fakeConsumer(name: string, fillsOn?: (b: DeliveredBatch, seenBefore: boolean) => boolean) {
  const controller = new AbortController();
  const received: DeliveredBatch[] = [];
  let waiter: (() => void) | undefined;
  let filled = false;
  return {
    received,
    get filled() {
      return filled;
    },
    controller,
    options: {
      name,
      uri: 'test',
      userAgent: 'test',
      signal: controller.signal,
      deliver: (b: DeliveredBatch) => {
        const seenBefore = received.some((r) => r.shardId === b.shardId && r.lsn === b.lsn);
        received.push(b);
        waiter?.();
        if (fillsOn === undefined) return Promise.resolve();
        filled ||= fillsOn(b, seenBefore);
        return filled ? new Promise<void>(() => undefined) : undefined;
      },
      kick: () => controller.abort(),
    },
    async until(n: number): Promise<void> {
      const deadline = Date.now() + 5000;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`${name}: ${received.length} of ${n} batches`);
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

async function appendMany(shardId: number, n: number, perBatch = 1): Promise<void> {
  for (let i = 0; i < n; i++) {
    const b = batch(rawRecords(perBatch, `b${i}-`));
    await catalog.append(shardId, { compression: 0, batchSize: b.batchSize, payload: b.payload });
  }
}

const acksFor = (b: DeliveredBatch) =>
  Array.from({ length: b.batchSize }, (_, i) => ({ shardId: String(b.shardId), batchId: String(b.lsn), batchIndex: b.indexes?.[i] ?? i }));

describe('SubscriptionManager', () => {
  it('close() persists committed offsets that the checkpoint timer has not written yet', async () => {
    const m = await manager(60_000);
    const stream = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 1 });
    const shardId = stream.shards[0]!.shardId;
    await m.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 100, offset: 'EARLIEST' });
    await appendMany(shardId, 5);
    const c = fakeConsumer('c');
    const { subscription } = m.attach('sub', c.options);
    await c.until(5);
    for (const b of c.received) subscription.ack(acksFor(b));
    const last = c.received[4]!.lsn;
    expect(await store.meta.get(`ckpt/sub/${shardId}`)).toBe(0);
    await m.close();
    expect(await store.meta.get(`ckpt/sub/${shardId}`)).toBe(last);

    // a new manager on the same store starts from there
    const again = await manager();
    expect(again.offsets('sub')).toEqual([{ shardId, lsn: last }]);
    await again.close();
  });

  it('a checkpoint pending at delete time does not bring the subscription back', async () => {
    const m = await manager(20);
    const stream = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 1 });
    const shardId = stream.shards[0]!.shardId;
    await m.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 100, offset: 'EARLIEST' });
    await appendMany(shardId, 3);
    const c = fakeConsumer('c');
    const { subscription } = m.attach('sub', c.options);
    await c.until(3);
    for (const b of c.received) subscription.ack(acksFor(b));
    await m.delete('sub', true);
    expect(c.controller.signal.aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    await m.flush();
    expect(await store.meta.list('ckpt/sub/')).toEqual([]);
    expect(await store.meta.get('sub/sub')).toBeUndefined();
    await m.close();
  });

  it('idle subscriptions and attached consumers with nothing outstanding cost no timers; a delivery arms one', async () => {
    const m = await manager();
    const stream = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 4 });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const consumers: Array<ReturnType<typeof fakeConsumer>> = [];
    try {
      for (let i = 0; i < 500; i++) {
        await m.create({ subscriptionId: `sub${i}`, streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 100, offset: 'LATEST' });
      }
      // 1,000 consumers attached (two per subscription), nothing to deliver
      for (let i = 0; i < 500; i++) {
        for (const name of ['a', 'b']) {
          const c = fakeConsumer(`${name}${i}`);
          m.attach(`sub${i}`, c.options);
          consumers.push(c);
        }
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(setIntervalSpy).not.toHaveBeenCalled();
      // the one above is this test's own
      expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
      setTimeoutSpy.mockClear();
      // one record for sub7's consumers: its ack deadline arms the one shared timer
      await appendMany(stream.shards[0]!.shardId, 1);
      await consumers[14]!.until(1).catch(() => consumers[15]!.until(1));
      const deadlineTimers = setTimeoutSpy.mock.calls.filter(([, ms]) => typeof ms === 'number' && ms > 50_000 && ms <= 60_000);
      expect(deadlineTimers.length).toBe(1);
    } finally {
      vi.restoreAllMocks();
    }
    for (const c of consumers) c.controller.abort();
    await new Promise((r) => setImmediate(r));
    await m.close();
  });

  it('subscriptions follow their stream by internal id, not by name', async () => {
    const m = await manager();
    const old = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 1 });
    await m.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 100, offset: 'EARLIEST' });
    await appendMany(old.shards[0]!.shardId, 2);
    await catalog.delete('s', { ignoreNonExist: false, force: true });
    const fresh = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 1 });
    await appendMany(fresh.shards[0]!.shardId, 3);
    const c = fakeConsumer('c');
    m.attach('sub', c.options);
    await c.until(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.received.map((b) => b.shardId)).toEqual([old.shards[0]!.shardId, old.shards[0]!.shardId]);
    expect(m.list()[0]!.streamName).toBe('__deleted_stream__');
    c.controller.abort();
    await new Promise((r) => setImmediate(r));
    await m.delete('sub', false);
    expect(store.hasLog(old.shards[0]!.shardId)).toBe(false);
    await m.close();
  });

  it('at load, drops the logs of a force-deleted stream whose last subscription is gone (crash in between)', async () => {
    const m = await manager();
    const stream = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 1 });
    await m.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 100, offset: 'EARLIEST' });
    await catalog.delete('s', { ignoreNonExist: false, force: true });
    // the subscription's records go, but the process dies before the stream's logs are dropped
    await store.meta.write([
      { type: 'del', path: 'sub/sub' },
      { type: 'del', path: `ckpt/sub/${stream.shards[0]!.shardId}` },
    ]);
    expect(store.hasLog(stream.shards[0]!.shardId)).toBe(true);
    catalog = new StreamCatalog(store, await IdAllocator.load(store.meta), new StatsRegistry(), log);
    await catalog.load();
    const again = await manager();
    expect(again.list()).toEqual([]);
    expect(store.hasLog(stream.shards[0]!.shardId)).toBe(false);
    await again.close();
  });

  it('acks a call received before it ended still count (the consumer is detached a turn later)', async () => {
    const m = await manager();
    const stream = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 1 });
    await m.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 100, offset: 'EARLIEST' });
    await appendMany(stream.shards[0]!.shardId, 3);
    const c = fakeConsumer('c');
    const { subscription } = m.attach('sub', c.options);
    await c.until(3);
    c.controller.abort();
    await Promise.resolve();
    for (const b of c.received) subscription.ack(acksFor(b));
    await new Promise((r) => setImmediate(r));
    expect(subscription.consumerCount).toBe(0);
    expect(m.offsets('sub')[0]!.lsn).toBe(c.received[2]!.lsn);
    await m.close();
  });

  /** Acks everything `worker` gets; returns the distinct batches it got by `deadline`. */
  async function drain(worker: ReturnType<typeof fakeConsumer>, ack: (b: DeliveredBatch) => void, want: number, deadline: number): Promise<string[]> {
    const seen = new Set<string>();
    while (seen.size < want && Date.now() < deadline) {
      for (const b of worker.received.splice(0)) {
        seen.add(`${b.shardId}/${b.lsn}`);
        ack(b);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return [...seen].sort();
  }

  // A batch waiting for room behind a full transport belongs to no one else until that transport
  // drains; when its shard moves to another consumer it must go there, or it is never delivered
  // (and the shard's commit point never passes it) while the stuck client stays connected.
  // Five batches per shard are appended before anyone reads, so each pump reads them all at once;
  // the stuck consumer fills on a write of the high shard, the one a joining consumer takes.
  it.each([
    {
      when: 'the first write of the moving shard (its next batch is already read)',
      fillsOn: (b: DeliveredBatch, seenBefore: boolean, high: number) => !seenBefore && b.shardId === high,
    },
    {
      when: 'the first redelivery of the moving shard (its other redeliveries wait for room)',
      fillsOn: (b: DeliveredBatch, seenBefore: boolean, high: number) => seenBefore && b.shardId === high,
    },
  ])('a consumer whose transport fills for good on $when: a joining consumer gets every record', async ({ fillsOn }) => {
    const m = await manager();
    const stream = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 2 });
    await m.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 1, maxUnackedRecords: 100, offset: 'EARLIEST' });
    const [low, high] = [...stream.shards].sort((a, b) => a.shardId - b.shardId);
    await appendMany(low!.shardId, 5);
    await appendMany(high!.shardId, 5);
    const stuck = fakeConsumer('stuck', (b, seenBefore) => fillsOn(b, seenBefore, high!.shardId));
    m.attach('sub', stuck.options);
    const deadline = Date.now() + 15_000;
    while (!stuck.filled && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(stuck.filled).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const worker = fakeConsumer('worker');
    const { subscription } = m.attach('sub', worker.options);
    const workerGot = await drain(worker, (b) => subscription.ack(acksFor(b)), 10, deadline);
    expect(workerGot, `the stuck consumer was sent ${stuck.received.map((b) => `${b.shardId}/${b.lsn}`).join(' ')}`).toHaveLength(10);
    stuck.controller.abort();
    worker.controller.abort();
    await m.close();
  });

  it('a second delete while one is under way is ABORTED', async () => {
    const m = await manager();
    await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 1 });
    await m.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 100, offset: 'EARLIEST' });
    const first = m.delete('sub', true);
    await expect(m.delete('sub', true)).rejects.toMatchObject({ kind: 'aborted', errorCode: 0, message: 'SubscriptionIsDeleting' });
    await first;
    expect(m.exists('sub')).toBe(false);
    await m.close();
  });
});
