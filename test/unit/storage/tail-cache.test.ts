/** The tail cache against a plain model (same answers, the byte bound holds), and inside the log store. */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FIRST_LSN, LogStore } from '../../../storage/index.js';
import type { Kv } from '../../../storage/kv.js';
import { TailCache, type CachedBatch } from '../../../storage/tail-cache.js';
import { rng } from '../../helpers/rng.js';
import { tempDir } from '../../helpers/server.js';

const batch = (shardId: number, lsn: number, bytes: number): CachedBatch => ({
  shardId,
  lsn,
  compression: 0,
  batchSize: 1,
  timeMs: lsn,
  payload: Buffer.alloc(bytes, lsn % 251),
});

describe('TailCache', () => {
  it('serves consecutive batches from a cached LSN within the limits, and nothing it does not hold', () => {
    const cache = new TailCache(1000);
    for (let lsn = 10; lsn < 20; lsn++) cache.add(batch(1, lsn, 10));
    expect(cache.read(1, 12, 100, 3, 1 << 20).map((b) => b.lsn)).toEqual([12, 13, 14]);
    expect(cache.read(1, 17, 18, 100, 1 << 20).map((b) => b.lsn)).toEqual([17, 18]);
    expect(cache.read(1, 15, 100, 100, 15).map((b) => b.lsn)).toEqual([15, 16]);
    expect(cache.read(1, 9, 100, 100, 1 << 20)).toEqual([]);
    expect(cache.read(1, 20, 100, 100, 1 << 20)).toEqual([]);
    expect(cache.read(2, 10, 100, 100, 1 << 20)).toEqual([]);
  });

  it('evicts the oldest batches across shards to stay under its byte bound', () => {
    const cache = new TailCache(100);
    for (let lsn = 1; lsn <= 6; lsn++) {
      cache.add(batch(1, lsn, 10));
      cache.add(batch(2, lsn, 10));
    }
    expect(cache.size).toEqual({ batches: 10, bytes: 100 });
    expect(cache.read(1, 1, 100, 100, 1 << 20)).toEqual([]);
    expect(cache.read(1, 2, 100, 100, 1 << 20).map((b) => b.lsn)).toEqual([2, 3, 4, 5, 6]);
    expect(cache.read(2, 2, 100, 100, 1 << 20).map((b) => b.lsn)).toEqual([2, 3, 4, 5, 6]);
    cache.add(batch(3, 1, 200)); // larger than the whole cache: not kept
    expect(cache.size.bytes).toBe(100);
  });

  it('forgets trimmed batches and restarts a shard whose next LSN does not follow', () => {
    const cache = new TailCache(1000);
    for (let lsn = 1; lsn <= 5; lsn++) cache.add(batch(1, lsn, 10));
    cache.dropUpTo(1, 3);
    expect(cache.read(1, 3, 100, 100, 1 << 20)).toEqual([]);
    expect(cache.read(1, 4, 100, 100, 1 << 20).map((b) => b.lsn)).toEqual([4, 5]);
    cache.add(batch(1, 9, 10));
    expect(cache.read(1, 4, 100, 100, 1 << 20)).toEqual([]);
    expect(cache.read(1, 9, 100, 100, 1 << 20).map((b) => b.lsn)).toEqual([9]);
    cache.dropShard(1);
    expect(cache.size).toEqual({ batches: 0, bytes: 0 });
  });

  it('matches a model under random appends, trims and drops', () => {
    const next = rng(99);
    const maxBytes = 5_000;
    const cache = new TailCache(maxBytes);
    // model: per shard the cached LSN range [first, last]; global FIFO of [shard, lsn, bytes]
    const tails = new Map<number, number>();
    let fifo: Array<{ shardId: number; lsn: number; bytes: number }> = [];
    const modelBytes = () => fifo.reduce((n, e) => n + e.bytes, 0);
    for (let step = 0; step < 20_000; step++) {
      const shardId = Math.floor(next() * 4);
      const r = next();
      if (r < 0.8) {
        const lsn = (tails.get(shardId) ?? 0) + 1;
        tails.set(shardId, lsn);
        const bytes = 1 + Math.floor(next() * 400);
        cache.add(batch(shardId, lsn, bytes));
        fifo.push({ shardId, lsn, bytes });
        while (modelBytes() > maxBytes) fifo.shift();
      } else if (r < 0.97) {
        const upto = (tails.get(shardId) ?? 0) - Math.floor(next() * 10);
        cache.dropUpTo(shardId, upto);
        fifo = fifo.filter((e) => e.shardId !== shardId || e.lsn > upto);
      } else {
        cache.dropShard(shardId);
        fifo = fifo.filter((e) => e.shardId !== shardId);
      }
      expect(cache.size).toEqual({ batches: fifo.length, bytes: modelBytes() });
      if (step % 97 === 0) {
        for (let s = 0; s < 4; s++) {
          const held = fifo.filter((e) => e.shardId === s).map((e) => e.lsn);
          const from = held[0];
          if (from === undefined) continue;
          expect(cache.read(s, from, Number.MAX_SAFE_INTEGER, 1e9, 1e9).map((b) => b.lsn)).toEqual(held);
          expect(cache.read(s, from - 1, Number.MAX_SAFE_INTEGER, 1e9, 1e9)).toEqual([]);
        }
      }
    }
  });
});

describe('LogStore with a tail cache', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A store whose database counts the iterators it opens: a read served from memory opens none. */
  async function openCounting(tailCacheBytes: number): Promise<{ store: LogStore; iterators: () => number }> {
    const dir = tempDir();
    dirs.push(dir);
    let iterators = 0;
    const wrapKv = (kv: Kv): Kv => ({
      ...kv,
      batch: (ops, options) => kv.batch(ops, options),
      get: (key) => kv.get(key),
      clear: (range) => kv.clear(range),
      close: () => kv.close(),
      iterator: (options) => {
        iterators++;
        return kv.iterator(options);
      },
    });
    const store = await LogStore.open({ location: dir, sync: false, segment: { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 20, tailCacheBytes, wrapKv });
    return { store, iterators: () => iterators };
  }

  const append = (store: LogStore, text: string) => store.append(5, { compression: 0, batchSize: 1, payload: Buffer.from(text) });

  it('serves the newest batches from memory, older ones and trimmed ranges from the log', async () => {
    const { store, iterators } = await openCounting(30);
    await store.createLogs([5], []);
    for (let i = 0; i < 6; i++) await append(store, `batch-${i}`); // 7 bytes each: the cache keeps the newest 4
    const before = iterators();
    const newest = await store.read(5, FIRST_LSN + 2, Infinity, 100, 1 << 20);
    expect(newest.map((b) => b.payload.toString())).toEqual(['batch-2', 'batch-3', 'batch-4', 'batch-5']);
    expect(iterators()).toBe(before);
    // older than the cache: read from LevelDB, the same bytes and metadata
    const all = await store.read(5, 0, Infinity, 100, 1 << 20);
    expect(iterators()).toBe(before + 1);
    expect(all.map((b) => b.payload.toString())).toEqual(['batch-0', 'batch-1', 'batch-2', 'batch-3', 'batch-4', 'batch-5']);
    expect(all.slice(2).map(({ lsn, timeMs, batchSize, compression }) => ({ lsn, timeMs, batchSize, compression }))).toEqual(
      newest.map(({ lsn, timeMs, batchSize, compression }) => ({ lsn, timeMs, batchSize, compression })),
    );
    // a trim is never undone by the cache
    await store.trim(5, FIRST_LSN + 3);
    expect((await store.read(5, 0, Infinity, 100, 1 << 20)).map((b) => b.payload.toString())).toEqual(['batch-4', 'batch-5']);
    await store.close();
  });

  it('keeps nothing when it is off', async () => {
    const { store, iterators } = await openCounting(0);
    await store.createLogs([5], []);
    await append(store, 'x');
    const before = iterators();
    expect((await store.read(5, 0, Infinity, 100, 1 << 20)).map((b) => b.payload.toString())).toEqual(['x']);
    expect(iterators()).toBe(before + 1);
    await store.close();
  });
});
