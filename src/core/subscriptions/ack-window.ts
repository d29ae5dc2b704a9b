/**
 * Per-shard acknowledgement window for a subscription.
 *
 * Owns the bookkeeping between "batch delivered" and "shard commit point
 * advanced": which records of which delivered batches are still unacked, and
 * how far the contiguous fully-acked prefix reaches. Semantics follow hstream
 * `Core/Common.hs` / `AckSpec.hs`: acks for unknown batches, out-of-range
 * indexes, duplicates, or ids at/below the commit point are ignored.
 *
 * Pure data structure: it must not import anything (no I/O, no timers, no
 * logging) so it can be unit-tested and reused without the server.
 */

/** Mutable per-batch state; one object per tracked batch, never per record. */
interface BatchState {
  readonly lsn: number;
  readonly size: number;
  /**
   * Records acked so far. While `bits` is undefined every ack arrived in
   * order, so exactly indexes [0, acked) are acked — the common case costs an
   * increment and no allocation.
   */
  acked: number;
  /** Allocated on the first out-of-order ack only; bit i set = index i acked. */
  bits: Uint32Array | undefined;
}

// Compacting the deque on every commit would make commit O(n) in pending
// batches; only shift once the dead prefix is both large and the majority.
const COMPACT_MIN_HEAD = 1024;

export class ShardAckWindow {
  #committed: number;
  #highest: number;
  /** Deque ordered by LSN; live entries are batches[head..], dead ones are cleared. */
  #batches: (BatchState | undefined)[] = [];
  #head = 0;
  /** Slot of the last ack hit: in-order consumers hit the same batch repeatedly. */
  #lastSlot = -1;
  #pendingBatches = 0;
  #unackedRecords = 0;

  constructor(committedLsn: number) {
    if (!Number.isSafeInteger(committedLsn)) {
      throw new RangeError(`committedLsn must be a safe integer, got ${committedLsn}`);
    }
    this.#committed = committedLsn;
    this.#highest = committedLsn;
  }

  get committedLsn(): number {
    return this.#committed;
  }

  /**
   * Register a batch as delivered. Must be called in strictly increasing LSN
   * order; returns false (and changes nothing) for an LSN at or below the
   * highest tracked / committed LSN — which covers re-registration — or for a
   * batchSize that is not a positive integer (an empty batch could never be
   * acked by a client and carries nothing to deliver).
   */
  track(lsn: number, batchSize: number): boolean {
    if (!Number.isSafeInteger(lsn) || lsn <= this.#highest) return false;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) return false;
    this.#batches.push({ lsn, size: batchSize, acked: 0, bits: undefined });
    this.#highest = lsn;
    this.#pendingBatches++;
    this.#unackedRecords += batchSize;
    return true;
  }

  /** Apply an ack; true only if it newly acknowledged a record. */
  ack(lsn: number, index: number): boolean {
    if (lsn <= this.#committed) return false;
    const slot = this.#find(lsn);
    if (slot < 0) return false;
    const b = this.#batches[slot]!;
    // Integer check also rejects NaN and fractional indexes.
    if (!Number.isInteger(index) || index < 0 || index >= b.size) return false;
    if (b.acked === b.size) return false;

    if (b.bits === undefined) {
      if (index < b.acked) return false;
      if (index === b.acked) {
        b.acked++;
      } else {
        // First out-of-order ack: materialise the in-order prefix as bits.
        const bits = new Uint32Array((b.size + 31) >>> 5);
        const full = b.acked >>> 5;
        bits.fill(0xffffffff, 0, full);
        const rem = b.acked & 31;
        if (rem !== 0) bits[full] = (1 << rem) - 1;
        bits[index >>> 5]! |= 1 << (index & 31);
        b.bits = bits;
        b.acked++;
      }
    } else {
      const word = index >>> 5;
      const mask = 1 << (index & 31);
      const cur = b.bits[word]!;
      if ((cur & mask) !== 0) return false;
      b.bits[word] = cur | mask;
      b.acked++;
    }

    this.#unackedRecords--;
    if (b.acked === b.size) {
      this.#pendingBatches--;
      // Completed batches never need their bitset again; free it before commit.
      b.bits = undefined;
    }
    return true;
  }

  /**
   * Apply acks of indexes from..to (inclusive) of one batch, as a client
   * acking a whole delivery sends them; returns how many were newly acked.
   * The in-order case is one addition instead of a call per record.
   */
  ackRange(lsn: number, from: number, to: number): number {
    if (lsn <= this.#committed) return 0;
    const slot = this.#find(lsn);
    if (slot < 0) return 0;
    const b = this.#batches[slot]!;
    if (b.bits === undefined && from === b.acked && Number.isInteger(from) && Number.isInteger(to) && to >= from && to < b.size) {
      const n = to - from + 1;
      b.acked += n;
      this.#unackedRecords -= n;
      if (b.acked === b.size) this.#pendingBatches--;
      return n;
    }
    let n = 0;
    for (let i = from; i <= to; i++) if (this.ack(lsn, i)) n++;
    return n;
  }

  /**
   * Advance the commit point over every fully acked batch at the head.
   * Returns the new committed LSN if it moved, otherwise undefined.
   */
  commit(): number | undefined {
    const batches = this.#batches;
    let head = this.#head;
    const start = head;
    while (head < batches.length) {
      const b = batches[head]!;
      if (b.acked !== b.size) break;
      this.#committed = b.lsn;
      head++;
    }
    if (head === start) return undefined;

    if (head === batches.length) {
      batches.length = 0;
      head = 0;
    } else if (head >= COMPACT_MIN_HEAD && head * 2 >= batches.length) {
      batches.copyWithin(0, head);
      batches.length -= head;
      head = 0;
    } else {
      // Let the dropped states be collected even before compaction.
      batches.fill(undefined, start, head);
    }
    this.#head = head;
    this.#lastSlot = -1;
    return this.#committed;
  }

  /** Unacked indexes of a tracked batch, ascending; undefined if not tracked. */
  unackedIndexes(lsn: number): number[] | undefined {
    if (lsn <= this.#committed) return undefined;
    const slot = this.#find(lsn);
    if (slot < 0) return undefined;
    const b = this.#batches[slot]!;
    const out: number[] = [];
    if (b.acked === b.size) return out;
    if (b.bits === undefined) {
      for (let i = b.acked; i < b.size; i++) out.push(i);
    } else {
      for (let i = 0; i < b.size; i++) {
        if ((b.bits[i >>> 5]! & (1 << (i & 31))) === 0) out.push(i);
      }
    }
    return out;
  }

  /** Tracked batches that are not yet fully acked. */
  get pendingBatches(): number {
    return this.#pendingBatches;
  }

  /** Unacked records across all tracked batches. */
  get unackedRecords(): number {
    return this.#unackedRecords;
  }

  /**
   * Highest LSN tracked since construction or the last reset (committedLsn if
   * none) — the position delivery continues after.
   */
  get highestTrackedLsn(): number {
    return this.#highest;
  }

  /**
   * Forget every tracked-but-uncommitted batch, including fully acked ones
   * that commit() has not yet passed (call commit() first to keep those).
   * Rewinds highestTrackedLsn to committedLsn so re-read batches from
   * committed+1 can be tracked again. Returns the unacked records dropped.
   */
  reset(): number {
    const dropped = this.#unackedRecords;
    this.#batches = [];
    this.#head = 0;
    this.#lastSlot = -1;
    this.#pendingBatches = 0;
    this.#unackedRecords = 0;
    this.#highest = this.#committed;
    return dropped;
  }

  /** Slot of the batch with this LSN in the live deque, or -1. */
  #find(lsn: number): number {
    const batches = this.#batches;
    const last = this.#lastSlot;
    if (last >= this.#head && last < batches.length && batches[last]!.lsn === lsn) return last;
    let lo = this.#head;
    let hi = batches.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const midLsn = batches[mid]!.lsn;
      if (midLsn < lsn) lo = mid + 1;
      else if (midLsn > lsn) hi = mid - 1;
      else {
        this.#lastSlot = mid;
        return mid;
      }
    }
    return -1;
  }
}
