/**
 * One timer for every subscription's deadlines (redeliveries, nack retries,
 * stalled consumers). Each subscription asks to be woken at its earliest
 * deadline; the timer is armed at the earliest of all. Idle subscriptions,
 * and attached consumers with nothing outstanding, cost no wake-ups at all
 * (a per-subscription 100 ms interval did, 10 per second each).
 */

export interface Wakeable {
  /** Runs what is due at `nowMs`; asks again (through `wake`) for its next deadline. */
  runDue(nowMs: number): void;
}

interface Entry {
  dueMs: number;
  target: Wakeable;
}

export class Wakeups {
  /** min-heap by dueMs; an entry is stale when its target was since asked for an earlier time or has run */
  readonly #heap: Entry[] = [];
  /** the earliest time each target is waiting for */
  readonly #asked = new Map<Wakeable, number>();
  #timer: NodeJS.Timeout | undefined;
  #timerDueMs = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Wakes `target` at `dueMs` (epoch ms) or soon after, unless it already waits for an earlier time. */
  wake(target: Wakeable, dueMs: number): void {
    if (this.#closed) return;
    const asked = this.#asked.get(target);
    if (asked !== undefined && asked <= dueMs) return;
    this.#asked.set(target, dueMs);
    this.#push({ dueMs, target });
    this.#arm();
  }

  /** Forgets a target (stopped subscription). */
  cancel(target: Wakeable): void {
    this.#asked.delete(target);
  }

  /** Number of targets waiting (for tests and metrics). */
  get waiting(): number {
    return this.#asked.size;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#asked.clear();
    this.#heap.length = 0;
  }

  #arm(): void {
    while (this.#heap.length > 0 && this.#asked.get(this.#heap[0]!.target) !== this.#heap[0]!.dueMs) this.#pop();
    const next = this.#heap[0]?.dueMs;
    if (next === undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerDueMs = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.#timer !== undefined && this.#timerDueMs <= next) return;
    clearTimeout(this.#timer);
    this.#timerDueMs = next;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, next - Date.now()));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDueMs = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const due: Wakeable[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.dueMs <= now) {
      const entry = this.#pop()!;
      if (this.#asked.get(entry.target) !== entry.dueMs) continue;
      this.#asked.delete(entry.target);
      due.push(entry.target);
    }
    for (const target of due) {
      try {
        target.runDue(now);
      } catch (err) {
        // one target's failure must not cost the others their deadlines
        this.onError(err);
      }
    }
    this.#arm();
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.dueMs <= heap[i]!.dueMs) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  #pop(): Entry | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < heap.length && heap[l]!.dueMs < heap[min]!.dueMs) min = l;
        if (r < heap.length && heap[r]!.dueMs < heap[min]!.dueMs) min = r;
        if (min === i) break;
        [heap[min], heap[i]] = [heap[i]!, heap[min]!];
        i = min;
      }
    }
    return top;
  }
}
