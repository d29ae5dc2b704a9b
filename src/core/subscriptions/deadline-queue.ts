/**
 * Redelivery deadlines of one subscription. Every delivery gets the same ack
 * timeout, so deadlines are pushed in (almost) increasing order and a FIFO
 * is enough: push and pop are O(1), no heap. Deadlines a consumer chooses
 * (a nack's retry delay) can come in any order: they go to a small sorted
 * list beside the FIFO. Entries are never removed when
 * their batch gets acked; the checker drops them when they come due (lazy
 * deletion), and `compact` bounds what stale entries can cost.
 *
 * Pure: no timers, no I/O.
 */

export interface Deadline {
  /** epoch ms when the entry comes due */
  dueMs: number;
}

const COMPACT_MIN_HEAD = 1024;

export class DeadlineQueue<T extends Deadline> {
  #items: (T | undefined)[] = [];
  #head = 0;
  /** entries that must go before every timed one (dueMs ignored) */
  #urgent: T[] = [];
  /** entries pushed with `pushAnyOrder`, by dueMs ascending */
  #sorted: T[] = [];

  get size(): number {
    return this.#items.length - this.#head + this.#urgent.length + this.#sorted.length;
  }

  /** When the next entry comes due: 0 when one is urgent, undefined when empty. */
  nextDueMs(): number | undefined {
    if (this.#urgent.length > 0) return 0;
    const fifo = this.#head < this.#items.length ? this.#items[this.#head]!.dueMs : undefined;
    const sorted = this.#sorted[0]?.dueMs;
    if (fifo === undefined) return sorted;
    return sorted === undefined ? fifo : Math.min(fifo, sorted);
  }

  /** Adds an entry whose deadline may be earlier than others already queued (kept sorted: O(n), for rare entries). */
  pushAnyOrder(entry: T): void {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#sorted[mid]!.dueMs <= entry.dueMs) lo = mid + 1;
      else hi = mid;
    }
    this.#sorted.splice(lo, 0, entry);
  }

  /**
   * Adds an entry. An entry due earlier than the current tail (a clock step
   * back, or a shorter timeout) still comes out no later than the tail.
   */
  push(entry: T): void {
    this.#items.push(entry);
  }

  /** Adds an entry that comes out at the next poll, before any timed one. */
  pushUrgent(entry: T): void {
    this.#urgent.push(entry);
  }

  /** Removes and returns the next entry due at `nowMs`, or undefined. */
  pollDue(nowMs: number): T | undefined {
    const urgent = this.#urgent.shift();
    if (urgent) return urgent;
    const sorted = this.#sorted[0];
    if (sorted && sorted.dueMs <= nowMs && (this.#head >= this.#items.length || sorted.dueMs <= this.#items[this.#head]!.dueMs)) {
      return this.#sorted.shift();
    }
    if (this.#head >= this.#items.length) return undefined;
    const first = this.#items[this.#head]!;
    if (first.dueMs > nowMs) return undefined;
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_MIN_HEAD && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return first;
  }

  /** Drops every entry for which `keep` is false (O(n); callers run it rarely). */
  compact(keep: (entry: T) => boolean): void {
    const live: T[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const e = this.#items[i]!;
      if (keep(e)) live.push(e);
    }
    this.#items = live;
    this.#head = 0;
    this.#urgent = this.#urgent.filter(keep);
    this.#sorted = this.#sorted.filter(keep);
  }

  /** Every queued entry, urgent first (for scans such as "what did this consumer hold"). */
  *entries(): IterableIterator<T> {
    yield* this.#urgent;
    yield* this.#sorted;
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i]!;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#urgent = [];
    this.#sorted = [];
  }
}
