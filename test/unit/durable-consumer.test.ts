/**
 * The in-process consumer API on the real subscription core (in-memory
 * store): batches as an async iterator, one ack per batch, nack with a
 * retry delay, pause/resume, and close handing unacked records on.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogStore } from '../../storage/index.js';
import { IdAllocator } from '../../src/core/ids.js';
import { StatsRegistry } from '../../src/core/stats.js';
import { StreamCatalog, type StreamInfo } from '../../src/core/streams.js';
import { DurableConsumer, type ConsumedBatch } from '../../src/core/subscriptions/durable-consumer.js';
import { SubscriptionManager } from '../../src/core/subscriptions/manager.js';
import { batch, rawRecords } from '../helpers/records.js';

const log = pino({ level: 'silent' });
let store: LogStore;
let catalog: StreamCatalog;
let manager: SubscriptionManager;
let stream: StreamInfo;

beforeEach(async () => {
  store = await LogStore.open({ location: undefined, sync: false, segment: { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 24 });
  catalog = new StreamCatalog(store, await IdAllocator.load(store.meta), new StatsRegistry(), log);
  manager = new SubscriptionManager(catalog, log, 60_000);
  await manager.load();
  stream = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 2 });
});

afterEach(async () => {
  await manager.close();
  await store.close();
});

/** Appends `batches` batches of `perBatch` records to every shard; returns the payloads. */
async function appendAll(batches: number, perBatch: number, prefix = 'r'): Promise<string[]> {
  const payloads: string[] = [];
  for (const shard of stream.shards) {
    for (let b = 0; b < batches; b++) {
      const records = rawRecords(perBatch, `${prefix}${shard.shardId}-${b}-`);
      payloads.push(...records.map((r) => String(r.payload)));
      const built = batch(records);
      await catalog.append(shard.shardId, { compression: 0, batchSize: built.batchSize, payload: built.payload });
    }
  }
  return payloads;
}

const payloadsOf = (b: ConsumedBatch) => b.records().map((r) => r.payload.toString());

/** Reads from `consumer` until `done` says so or 15 s pass (then fails, naming what it waited for). */
async function consumeUntil(consumer: DurableConsumer, onBatch: (b: ConsumedBatch) => Promise<void> | void, done: () => boolean, what: string): Promise<void> {
  const deadline = setTimeout(() => consumer.close(), 15_000);
  try {
    for await (const b of consumer) {
      await onBatch(b);
      if (done()) return;
    }
  } finally {
    clearTimeout(deadline);
  }
  if (!done()) throw new Error(`gave up waiting for ${what}`);
}

/** Reads and acks every batch until `count` records came; returns their payloads. */
async function ackAll(consumer: DurableConsumer, count: number, what: string): Promise<string[]> {
  const got: string[] = [];
  await consumeUntil(
    consumer,
    (b) => {
      got.push(...payloadsOf(b));
      consumer.ack(b);
    },
    () => got.length >= count,
    what,
  );
  return got;
}

describe('DurableConsumer', () => {
  it('delivers decoded batches; one ack per batch commits them', async () => {
    await manager.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 1000, offset: 'EARLIEST' });
    const written = await appendAll(3, 5);
    const consumer = DurableConsumer.open(manager, 'sub', { name: 'sink' });
    const got = await ackAll(consumer, written.length, 'every record');
    expect(got.sort()).toEqual([...written].sort());
    expect(manager.find('sub')!.unackedRecords).toBe(0);
    expect(manager.offsets('sub').map((o) => o.lsn)).toEqual(stream.shards.map((s) => store.tail(s.shardId)));
    consumer.close();
  });

  it('during a 5 s outage of its target a consumer that nacks with backoff retries a few times, then writes everything exactly once', { timeout: 60_000 }, async () => {
    await manager.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 1000, offset: 'EARLIEST' });
    const written = await appendAll(2, 10);
    // the outage starts with the first delivery, so a slow machine cannot skip it
    let downUntil: number | undefined;
    const target = new Map<string, number>();
    const failures = new Map<string, number>();
    const consumer = DurableConsumer.open(manager, 'sub', { name: 'sink' });
    await consumeUntil(
      consumer,
      (b) => {
        const id = `${b.shardId}:${b.lsn}`;
        downUntil ??= Date.now() + 5_000;
        if (Date.now() < downUntil) {
          const n = (failures.get(id) ?? 0) + 1;
          failures.set(id, n);
          consumer.nack(b, Math.min(250 * 2 ** (n - 1), 4_000));
          return;
        }
        for (const p of payloadsOf(b)) target.set(p, (target.get(p) ?? 0) + 1);
        consumer.ack(b);
      },
      () => target.size === written.length,
      'every record in the target',
    );
    expect([...target.keys()].sort()).toEqual([...written].sort());
    expect([...target.values()].every((n) => n === 1)).toBe(true);
    // 250 + 500 + 1000 + 2000 ms of backoff cover at most 3.75 s: no batch can fail more than 5 times in 5 s
    expect(failures.size).toBeGreaterThanOrEqual(1);
    expect(failures.size).toBeLessThanOrEqual(4);
    expect(Math.max(...failures.values())).toBeLessThanOrEqual(5);
    expect(manager.find('sub')!.unackedRecords).toBe(0);
    consumer.close();
  });

  it('pause holds deliveries back (bounded by the buffer); resume lets the rest through', async () => {
    await manager.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 1000, offset: 'EARLIEST' });
    const consumer = DurableConsumer.open(manager, 'sub', { name: 'sink', buffer: 2 });
    consumer.pause();
    const written = await appendAll(10, 1);
    await new Promise((r) => setTimeout(r, 200));
    // paused: the first delivery to each shard's pump fills the buffer's place, nothing more is taken
    expect(manager.find('sub')!.unackedRecords).toBeLessThanOrEqual(2);
    consumer.resume();
    const got = await ackAll(consumer, written.length, 'every record after resume');
    expect(got.sort()).toEqual([...written].sort());
    consumer.close();
  });

  it('once closed, yields nothing more, not even batches already buffered', async () => {
    await manager.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 1000, offset: 'EARLIEST' });
    const consumer = DurableConsumer.open(manager, 'sub', { name: 'sink', buffer: 8 });
    await appendAll(2, 1);
    const deadline = Date.now() + 10_000;
    while (manager.find('sub')!.unackedRecords < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(manager.find('sub')!.unackedRecords).toBe(4);
    consumer.close();
    const after: ConsumedBatch[] = [];
    for await (const b of consumer) after.push(b);
    expect(after).toEqual([]);
  });

  it('close hands what it did not ack to the next consumer', async () => {
    await manager.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 1000, offset: 'EARLIEST' });
    const written = await appendAll(2, 3);
    const first = DurableConsumer.open(manager, 'sub', { name: 'first' });
    const acked: string[] = [];
    for await (const b of first) {
      acked.push(...payloadsOf(b));
      first.ack(b);
      break; // one batch acked, the rest never
    }
    first.close();
    await new Promise((r) => setImmediate(r));
    const second = DurableConsumer.open(manager, 'sub', { name: 'second' });
    const got = await ackAll(second, written.length - acked.length, 'the rest');
    expect([...acked, ...got].sort()).toEqual([...written].sort());
    second.close();
  });
});
