/**
 * Stream slots by stream id, and the stream of a shard, from arrays sorted by
 * stream id instead of two Maps. Ids are clock-derived numbers near 2^48: as
 * Map keys each is a boxed number, and with its hash-table entry a Map costs
 * ~53 bytes per stream; two of them were a sixth of a 100k-stream server's
 * heap. Here a stream costs 16 bytes.
 *
 * The stream of shard s is the one with the greatest id below s: the id
 * allocator hands out a stream's id and its shards' ids together, in order
 * and without gaps (ids.ts), so such a "regular" stream's shards are known
 * from their count. A stream stored with other shard ids (none we write;
 * stored data is not ours to assume) is "irregular": its shards are kept in
 * a Map, and it can never be mistaken for another stream.
 */

/** What `byId` and `byShard` return when there is no such stream. */
export const NO_SLOT = -1;

/** Holes left by removals are compacted away once they are this many and half of the entries. */
const MIN_HOLES_TO_COMPACT = 1024;

export class StreamIdIndex {
  /** stream ids, ascending; a removed stream leaves its id with NO_SLOT */
  #ids = new Float64Array(1024);
  #slots = new Int32Array(1024);
  /** a regular stream's shard count; 0 for an irregular one, whose shards are in #irregular */
  #regularShards = new Int32Array(1024);
  #size = 0;
  #holes = 0;
  /** slots of the irregular streams' shards, by shard id */
  readonly #irregular = new Map<number, number>();

  /**
   * Indexes the stream `id` at `slot`. `shards`: the shard count of a regular stream, or the shard
   * ids of an irregular one.
   */
  add(id: number, slot: number, shards: number | readonly number[]): void {
    const at = this.#position(id);
    if (at < this.#size && this.#ids[at] === id) {
      if (this.#slots[at] !== NO_SLOT) throw new TypeError(`stream id ${id} is indexed already`);
      this.#holes--;
    } else {
      this.#insert(at, id);
    }
    this.#slots[at] = slot;
    this.#regularShards[at] = typeof shards === 'number' ? shards : 0;
    if (typeof shards !== 'number') for (const shardId of shards) this.#irregular.set(shardId, slot);
  }

  /** Forgets the stream `id` if it is at `slot`; `shards` as given to add. */
  remove(id: number, slot: number, shards: number | readonly number[]): void {
    const at = this.#position(id);
    if (at >= this.#size || this.#ids[at] !== id || this.#slots[at] !== slot) return;
    this.#slots[at] = NO_SLOT;
    this.#holes++;
    if (typeof shards !== 'number') for (const shardId of shards) if (this.#irregular.get(shardId) === slot) this.#irregular.delete(shardId);
    if (this.#holes >= MIN_HOLES_TO_COMPACT && this.#holes * 2 >= this.#size) this.#compact();
  }

  byId(id: number): number {
    const at = this.#position(id);
    return at < this.#size && this.#ids[at] === id ? this.#slots[at]! : NO_SLOT;
  }

  byShard(shardId: number): number {
    // the entry of the greatest id below shardId
    const at = this.#position(shardId) - 1;
    if (at >= 0 && this.#slots[at] !== NO_SLOT && shardId - this.#ids[at]! <= this.#regularShards[at]!) return this.#slots[at]!;
    return this.#irregular.get(shardId) ?? NO_SLOT;
  }

  /** Every stream's slot, in id order (creation order). */
  *slots(): IterableIterator<number> {
    for (let at = 0; at < this.#size; at++) if (this.#slots[at] !== NO_SLOT) yield this.#slots[at]!;
  }

  /** The first entry whose id is >= `id` (the entry count when there is none). */
  #position(id: number): number {
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #insert(at: number, id: number): void {
    if (this.#size === this.#ids.length) {
      this.#ids = grown(this.#ids);
      this.#slots = grown(this.#slots);
      this.#regularShards = grown(this.#regularShards);
    }
    // new streams have the highest id: an insertion before the end is rare
    if (at < this.#size) {
      this.#ids.copyWithin(at + 1, at, this.#size);
      this.#slots.copyWithin(at + 1, at, this.#size);
      this.#regularShards.copyWithin(at + 1, at, this.#size);
    }
    this.#ids[at] = id;
    this.#size++;
  }

  #compact(): void {
    let to = 0;
    for (let from = 0; from < this.#size; from++) {
      if (this.#slots[from] === NO_SLOT) continue;
      this.#ids[to] = this.#ids[from]!;
      this.#slots[to] = this.#slots[from]!;
      this.#regularShards[to] = this.#regularShards[from]!;
      to++;
    }
    this.#size = to;
    this.#holes = 0;
  }
}

function grown<A extends Float64Array | Int32Array>(array: A): A {
  const bigger = new (array.constructor as new (length: number) => A)(array.length * 2);
  bigger.set(array);
  return bigger;
}
