/**
 * Streams by id, and the stream of a shard, from one array sorted by stream
 * id instead of two Maps. Ids are clock-derived numbers near 2^48: as Map
 * keys each is a boxed number, and with its hash-table entry a Map costs
 * ~53 bytes per stream; two of them were a sixth of a 100k-stream server's
 * heap. Here a stream costs two array slots.
 *
 * The stream of shard s is the one with the greatest id below s: the id
 * allocator hands out a stream's id and its shards' ids together, in order
 * and without gaps (ids.ts). A lookup checks that the shard found is s, so a
 * stream stored with other shard ids (none we write; stored data is not ours
 * to assume) can never be mistaken for another: such streams' shards are
 * kept in a Map.
 */

export interface IndexedStream {
  readonly id: number;
  readonly shards: ReadonlyArray<{ readonly shardId: number }>;
}

/** Holes left by removals are compacted away once they are this many and half of the slots. */
const MIN_HOLES_TO_COMPACT = 1024;

export class StreamIdIndex<T extends IndexedStream> {
  /** stream ids, ascending; removed streams leave their id with a hole in #items */
  #ids = new Float64Array(1024);
  #items: Array<T | undefined> = [];
  #holes = 0;
  /** shards whose ids do not follow their stream's, by shard id */
  readonly #irregular = new Map<number, T>();

  /** Adds many at once: one sort instead of an insertion each (load order is not id order). */
  addAll(items: readonly T[]): void {
    for (const item of [...items].sort((a, b) => a.id - b.id)) this.add(item);
  }

  add(item: T): void {
    const at = this.#position(item.id);
    if (at < this.#items.length && this.#ids[at] === item.id) {
      if (this.#items[at] !== undefined) throw new TypeError(`stream id ${item.id} is indexed already`);
      this.#items[at] = item;
      this.#holes--;
    } else {
      this.#insert(at, item);
    }
    if (!follows(item)) for (const shard of item.shards) this.#irregular.set(shard.shardId, item);
  }

  remove(item: T): void {
    const at = this.#position(item.id);
    if (this.#items[at] !== item) return;
    this.#items[at] = undefined;
    this.#holes++;
    if (!follows(item)) for (const shard of item.shards) if (this.#irregular.get(shard.shardId) === item) this.#irregular.delete(shard.shardId);
    if (this.#holes >= MIN_HOLES_TO_COMPACT && this.#holes * 2 >= this.#items.length) this.#compact();
  }

  byId(id: number): T | undefined {
    const at = this.#position(id);
    return at < this.#items.length && this.#ids[at] === id ? this.#items[at] : undefined;
  }

  byShard(shardId: number): T | undefined {
    // the slot of the greatest id below shardId
    const at = this.#position(shardId) - 1;
    const candidate = at >= 0 ? this.#items[at] : undefined;
    if (candidate !== undefined && candidate.shards[shardId - candidate.id - 1]?.shardId === shardId) return candidate;
    return this.#irregular.get(shardId);
  }

  /** Every stream, in id order (creation order). */
  *values(): IterableIterator<T> {
    for (const item of this.#items) if (item !== undefined) yield item;
  }

  /** The first slot whose id is >= `id` (the slot count when there is none). */
  #position(id: number): number {
    let lo = 0;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #insert(at: number, item: T): void {
    const size = this.#items.length;
    if (size === this.#ids.length) {
      const grown = new Float64Array(this.#ids.length * 2);
      grown.set(this.#ids);
      this.#ids = grown;
    }
    // new streams have the highest id: an insertion before the end is rare
    if (at < size) this.#ids.copyWithin(at + 1, at, size);
    this.#ids[at] = item.id;
    if (at === size) this.#items.push(item);
    else this.#items.splice(at, 0, item);
  }

  #compact(): void {
    let to = 0;
    for (let from = 0; from < this.#items.length; from++) {
      const item = this.#items[from];
      if (item === undefined) continue;
      this.#ids[to] = this.#ids[from]!;
      this.#items[to] = item;
      to++;
    }
    this.#items.length = to;
    this.#holes = 0;
  }
}

/** Whether the stream's shard ids are its own id + 1, + 2, ... in order. */
function follows(item: IndexedStream): boolean {
  for (let i = 0; i < item.shards.length; i++) if (item.shards[i]!.shardId !== item.id + 1 + i) return false;
  return true;
}
