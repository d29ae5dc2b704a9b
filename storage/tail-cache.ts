/**
 * The newest appended batches of every shard, kept in memory after they are
 * written, so the readers that follow a log's tail (subscriptions, tailing
 * shard readers, queries) get them without a LevelDB read: for a stream that
 * is consumed as it is written, that is nearly every read. A read through
 * LevelDB costs a copy on a LevelDB thread, another into a JS buffer and a
 * checksum pass (about 130 µs per 100 KiB batch on the reference machine);
 * a cached batch is the producer's bytes, already in memory.
 *
 * Per shard the cache holds a run of consecutive LSNs ending at the tail
 * (LSNs are dense and appended in order), so a lookup is an index. It is
 * bounded by payload bytes over all shards and evicts the oldest batch first.
 */
import type { BatchEntry } from './codec.js';

export interface CachedBatch extends BatchEntry {
  shardId: number;
  lsn: number;
}

/** A cached batch; a dropped one lets go of its batch at once and is skipped when eviction reaches it. */
interface Slot {
  batch: CachedBatch | undefined;
}

/** One shard's cached run: slots[i] holds LSN firstLsn + i (slots before `head` are gone). */
interface ShardRun {
  firstLsn: number;
  slots: Slot[];
  head: number;
}

export class TailCache {
  private readonly runs = new Map<number, ShardRun>();
  /** every slot in insertion order, for eviction across shards */
  private order: Slot[] = [];
  private orderHead = 0;
  private live = 0;
  private bytes = 0;

  constructor(readonly maxBytes: number) {}

  get size(): { batches: number; bytes: number } {
    return { batches: this.live, bytes: this.bytes };
  }

  /** Remembers a batch just written; it must follow the shard's last cached LSN, else the shard's run restarts at it. */
  add(batch: CachedBatch): void {
    if (batch.payload.length > this.maxBytes) return;
    let run = this.runs.get(batch.shardId);
    if (run && run.firstLsn + run.slots.length !== batch.lsn) {
      this.dropShard(batch.shardId);
      run = undefined;
    }
    if (!run) {
      run = { firstLsn: batch.lsn, slots: [], head: 0 };
      this.runs.set(batch.shardId, run);
    }
    const slot: Slot = { batch };
    run.slots.push(slot);
    this.order.push(slot);
    this.live++;
    this.bytes += batch.payload.length;
    while (this.bytes > this.maxBytes) this.evictOldest();
  }

  /**
   * Batches from `fromLsn` on, up to `toLsn`, at most `maxBatches` and about
   * `maxBytes` (at least one), if `fromLsn` is cached; [] otherwise (the
   * caller reads the log). Never a partial answer with a gap.
   */
  read(shardId: number, fromLsn: number, toLsn: number, maxBatches: number, maxBytes: number): CachedBatch[] {
    const run = this.runs.get(shardId);
    if (!run) return [];
    const start = fromLsn - run.firstLsn;
    if (start < run.head || start >= run.slots.length) return [];
    const out: CachedBatch[] = [];
    let bytes = 0;
    for (let i = start; i < run.slots.length && out.length < maxBatches && bytes < maxBytes; i++) {
      const batch = run.slots[i]!.batch!;
      if (batch.lsn > toLsn) break;
      out.push(batch);
      bytes += batch.payload.length;
    }
    return out;
  }

  /** Forgets every batch of a shard with lsn <= uptoLsn (trim). */
  dropUpTo(shardId: number, uptoLsn: number): void {
    const run = this.runs.get(shardId);
    if (!run) return;
    while (run.head < run.slots.length && run.slots[run.head]!.batch!.lsn <= uptoLsn) this.release(run.slots[run.head++]!);
    this.tidy(shardId, run);
    // dropped slots wait in `order` without their batches; rebuild it before they outnumber the live ones
    const dead = this.order.length - this.orderHead - this.live;
    if (dead > 1024 && dead > this.live) {
      this.order = this.order.slice(this.orderHead).filter((slot) => slot.batch !== undefined);
      this.orderHead = 0;
    }
  }

  dropShard(shardId: number): void {
    const run = this.runs.get(shardId);
    if (run) this.dropUpTo(shardId, Number.MAX_SAFE_INTEGER);
  }

  clear(): void {
    this.runs.clear();
    this.order = [];
    this.orderHead = 0;
    this.live = 0;
    this.bytes = 0;
  }

  private release(slot: Slot): void {
    this.bytes -= slot.batch!.payload.length;
    this.live--;
    slot.batch = undefined;
  }

  private evictOldest(): void {
    while (this.orderHead < this.order.length) {
      const slot = this.order[this.orderHead++]!;
      if (slot.batch === undefined) continue;
      const shardId = slot.batch.shardId;
      const run = this.runs.get(shardId)!;
      // a shard's slots are in insertion order too, so the oldest live slot is its run's head
      this.release(run.slots[run.head++]!);
      this.tidy(shardId, run);
      break;
    }
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
  }

  /** Removes an emptied run and keeps a run's array from growing at its evicted front. */
  private tidy(shardId: number, run: ShardRun): void {
    if (run.head === run.slots.length) {
      this.runs.delete(shardId);
      return;
    }
    if (run.head > 1024 && run.head * 2 > run.slots.length) {
      run.slots = run.slots.slice(run.head);
      run.firstLsn += run.head;
      run.head = 0;
    }
  }
}
