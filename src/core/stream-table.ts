/**
 * The catalogue's streams in columns, with a stream's object made only when
 * something asks for that stream.
 *
 * Why: a StreamInfo object, its shard array and a ShardInfo per shard, with
 * their boxed 2^48-sized ids, were ~250 bytes per stream, and at a restart
 * with 100k streams building them (and copying them through young-generation
 * collections, since they all lived) was the largest part of start-up.
 *
 * A stream we create is "regular": its shards' ids follow its own (ids.ts),
 * they cover the key space as `shardBoundsText` splits it, and their epoch is
 * the shard count. Seven numbers and a name then say all about it, and that
 * is all the table keeps until the stream is asked for. Anything else found
 * in a store ("irregular"; data on disk is not ours to assume) keeps its
 * object as read.
 *
 * An object once made is kept, so a stream is always the same object (for
 * WeakMaps and identity checks), and only streams something used cost one.
 * Listings do not make objects (see `live`).
 */
import type { MetaPacking } from '../../storage/index.js';
import { internBoundText, shardBoundsText } from './shards.js';
import { NO_SLOT, StreamIdIndex } from './stream-id-index.js';

export interface ShardInfo {
  shardId: number;
  streamId: number;
  streamName: string;
  startHashRangeKey: string;
  endHashRangeKey: string;
  epoch: number;
}

export interface StreamInfo {
  id: number;
  name: string;
  replicationFactor: number;
  backlogDuration: number;
  shardCount: number;
  creationTimeMs: number;
  shards: ShardInfo[];
  archived: boolean;
}

/** What listings and sweeps read of a stream: all but its shards. */
export type StreamSummary = Readonly<Omit<StreamInfo, 'shards'>>;

/** A regular stream as the metadata snapshot keeps it: [id, name, replication, backlog, shard count, created, archived 0/1]. */
export type PackedStream = [number, string, number, number, number, number, 0 | 1];

/** Stream records in the metadata snapshot: a regular stream packed, any other as it is stored. */
export const STREAM_PACKING: MetaPacking<StreamInfo, PackedStream | StreamInfo> = {
  format: 'stream-columns-1',
  pack: (s) => (isRegular(s) ? packStream(s) : s),
};

function packStream(s: StreamInfo): PackedStream {
  return [s.id, s.name, s.replicationFactor, s.backlogDuration, s.shardCount, s.creationTimeMs, s.archived ? 1 : 0];
}

/** The live streams as `StreamTable.live` gives them. */
export interface LiveStreams {
  readonly count: number;
  at(i: number): StreamSummary;
  nameAt(i: number): string;
}

const INITIAL_SLOTS = 1024;

export class StreamTable {
  #ids = new Float64Array(INITIAL_SLOTS);
  #backlogDurations = new Float64Array(INITIAL_SLOTS);
  #creationTimes = new Float64Array(INITIAL_SLOTS);
  #replicationFactors = new Int32Array(INITIAL_SLOTS);
  #shardCounts = new Int32Array(INITIAL_SLOTS);
  #archived = new Uint8Array(INITIAL_SLOTS);
  #names: string[] = [];
  /** a stream's object once made; an irregular stream's always (its columns are not used) */
  #objects: Array<StreamInfo | undefined> = [];
  /** slots below this have been used; free ones among them are in #free */
  #highWater = 0;
  readonly #free: number[] = [];
  /** live (not archived) streams' slots */
  readonly #byName = new Map<string, number>();
  readonly #index = new StreamIdIndex();

  /**
   * Adds a stream. A regular one is kept in columns only: `stream` is not the object later lookups
   * return.
   */
  add(stream: StreamInfo): void {
    if (isRegular(stream)) return this.#addRegular(packStream(stream));
    if (this.#index.byId(stream.id) !== NO_SLOT) throw new TypeError(`stream id ${stream.id} is indexed already`);
    // read from JSON, every shard holds its own copies of these strings
    for (const shard of stream.shards) {
      shard.streamName = stream.name;
      shard.startHashRangeKey = internBoundText(shard.startHashRangeKey);
      shard.endHashRangeKey = internBoundText(shard.endHashRangeKey);
    }
    const slot = this.#takeSlot();
    this.#ids[slot] = stream.id;
    this.#names[slot] = stream.name;
    this.#shardCounts[slot] = 0;
    this.#objects[slot] = stream;
    this.#index.add(stream.id, slot, stream.shards.map((s) => s.shardId));
    if (!stream.archived) this.#byName.set(stream.name, slot);
  }

  /** Adds a stream as STREAM_PACKING packed it. */
  addPacked(packed: PackedStream | StreamInfo): void {
    if (Array.isArray(packed)) this.#addRegular(packed);
    else this.add(packed);
  }

  #addRegular([id, name, replicationFactor, backlogDuration, shardCount, creationTimeMs, archived]: PackedStream): void {
    if (this.#index.byId(id) !== NO_SLOT) throw new TypeError(`stream id ${id} is indexed already`);
    const slot = this.#takeSlot();
    this.#ids[slot] = id;
    this.#names[slot] = name;
    this.#backlogDurations[slot] = backlogDuration;
    this.#creationTimes[slot] = creationTimeMs;
    this.#replicationFactors[slot] = replicationFactor;
    this.#shardCounts[slot] = shardCount;
    this.#archived[slot] = archived;
    // #objects[slot] is undefined already: a new slot is past its end, and remove() cleared a freed one
    this.#index.add(id, slot, shardCount);
    if (archived === 0) this.#byName.set(name, slot);
  }

  /** Removes the stream if `stream` is the table's object for it. */
  remove(stream: StreamInfo): void {
    const slot = this.#index.byId(stream.id);
    if (slot === NO_SLOT || this.#objects[slot] !== stream) return;
    this.#index.remove(stream.id, slot, this.#isRegular(slot) ? this.#shardCounts[slot]! : stream.shards.map((s) => s.shardId));
    if (this.#byName.get(stream.name) === slot) this.#byName.delete(stream.name);
    this.#objects[slot] = undefined;
    this.#names[slot] = '';
    this.#free.push(slot);
  }

  /** Takes a live stream's name out of lookups and listings (while it is being deleted). */
  unlist(name: string): void {
    this.#byName.delete(name);
  }

  /** Puts a live stream back under its name if `stream` is still the table's object for it. */
  relist(stream: StreamInfo): void {
    const slot = this.#index.byId(stream.id);
    if (slot !== NO_SLOT && this.#objects[slot] === stream && !stream.archived) this.#byName.set(stream.name, slot);
  }

  hasName(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The live stream of that name. */
  byName(name: string): StreamInfo | undefined {
    const slot = this.#byName.get(name);
    return slot === undefined ? undefined : this.#object(slot);
  }

  /** The live or archived stream of that id. */
  byId(id: number): StreamInfo | undefined {
    const slot = this.#index.byId(id);
    return slot === NO_SLOT ? undefined : this.#object(slot);
  }

  /** The live or archived stream that has that shard. */
  byShard(shardId: number): StreamInfo | undefined {
    const slot = this.#index.byShard(shardId);
    return slot === NO_SLOT ? undefined : this.#object(slot);
  }

  /**
   * The live streams in creation order, read on demand: `at(i)` is the stream's object where one
   * was made and a fresh summary otherwise, so a listing of 100k streams holds no object per stream
   * (an array of them, held while a reply was encoded, was promoted and stayed as garbage). Read it
   * at once: a later change may reuse its slots.
   */
  live(): LiveStreams {
    const slots: number[] = [];
    // listed = found by its name: not archived, not being deleted (unlist), not shadowed by another of that name
    for (const slot of this.#index.slots()) if (this.#byName.get(this.#names[slot]!) === slot) slots.push(slot);
    // ids come from the clock, so id order is creation order almost always: sort only when it is not
    const created = (slot: number) => this.#objects[slot]?.creationTimeMs ?? this.#creationTimes[slot]!;
    for (let i = 1; i < slots.length; i++) {
      if (created(slots[i - 1]!) > created(slots[i]!)) {
        slots.sort((x, y) => created(x) - created(y));
        break;
      }
    }
    return { count: slots.length, at: (i) => this.#summary(slots[i]!), nameAt: (i) => this.#names[slots[i]!]! };
  }

  /** Every stream, archived ones too, in id order (see `live` for what each is). */
  all(): StreamSummary[] {
    return [...this.#index.slots()].map((slot) => this.#summary(slot));
  }

  #summary(slot: number): StreamSummary {
    return (
      this.#objects[slot] ?? {
        id: this.#ids[slot]!,
        name: this.#names[slot]!,
        replicationFactor: this.#replicationFactors[slot]!,
        backlogDuration: this.#backlogDurations[slot]!,
        shardCount: this.#shardCounts[slot]!,
        creationTimeMs: this.#creationTimes[slot]!,
        archived: this.#archived[slot] === 1,
      }
    );
  }

  #isArchived(slot: number): boolean {
    const object = this.#objects[slot];
    return object ? object.archived : this.#archived[slot] === 1;
  }

  /** Ids of the archived streams, in id order. */
  archivedIds(): number[] {
    const ids: number[] = [];
    for (const slot of this.#index.slots()) if (this.#isArchived(slot)) ids.push(this.#ids[slot]!);
    return ids;
  }

  /** The shard ids of the stream of that id ([] when there is none), without making its object. */
  shardIds(id: number): number[] {
    const slot = this.#index.byId(id);
    if (slot === NO_SLOT) return [];
    if (!this.#isRegular(slot)) return this.#objects[slot]!.shards.map((s) => s.shardId);
    return Array.from({ length: this.#shardCounts[slot]! }, (_, i) => id + 1 + i);
  }

  /** Whether the slot's columns describe its stream (an irregular one's shard count column is 0). */
  #isRegular(slot: number): boolean {
    return this.#shardCounts[slot]! > 0;
  }

  #object(slot: number): StreamInfo {
    const known = this.#objects[slot];
    if (known) return known;
    const id = this.#ids[slot]!;
    const name = this.#names[slot]!;
    const shardCount = this.#shardCounts[slot]!;
    const made: StreamInfo = {
      id,
      name,
      replicationFactor: this.#replicationFactors[slot]!,
      backlogDuration: this.#backlogDurations[slot]!,
      shardCount,
      creationTimeMs: this.#creationTimes[slot]!,
      archived: this.#archived[slot] === 1,
      shards: shardBoundsText(shardCount).map((bounds, i) => ({
        shardId: id + 1 + i,
        streamId: id,
        streamName: name,
        startHashRangeKey: bounds.start,
        endHashRangeKey: bounds.end,
        epoch: shardCount,
      })),
    };
    this.#objects[slot] = made;
    return made;
  }

  #takeSlot(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.#highWater === this.#ids.length) {
      this.#ids = grown(this.#ids);
      this.#backlogDurations = grown(this.#backlogDurations);
      this.#creationTimes = grown(this.#creationTimes);
      this.#replicationFactors = grown(this.#replicationFactors);
      this.#shardCounts = grown(this.#shardCounts);
      this.#archived = grown(this.#archived);
    }
    return this.#highWater++;
  }
}

function grown<A extends Float64Array | Int32Array | Uint8Array>(array: A): A {
  const bigger = new (array.constructor as new (length: number) => A)(array.length * 2);
  bigger.set(array);
  return bigger;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 0x7fff_ffff;

/** Whether the columns can describe the stream exactly (see the file comment). */
function isRegular(stream: StreamInfo): boolean {
  const { id, shards, shardCount } = stream;
  if (
    typeof id !== 'number' ||
    typeof stream.name !== 'string' ||
    typeof stream.backlogDuration !== 'number' ||
    typeof stream.creationTimeMs !== 'number' ||
    typeof stream.archived !== 'boolean' ||
    !Number.isInteger(stream.replicationFactor) ||
    Math.abs(stream.replicationFactor) > 0x7fff_ffff ||
    !isCount(shardCount) ||
    !Array.isArray(shards) ||
    shards.length !== shardCount
  ) {
    return false;
  }
  const bounds = shardBoundsText(shardCount);
  for (let i = 0; i < shardCount; i++) {
    const shard = shards[i]!;
    if (
      shard.shardId !== id + 1 + i ||
      shard.streamId !== id ||
      shard.epoch !== shardCount ||
      shard.startHashRangeKey !== bounds[i]!.start ||
      shard.endHashRangeKey !== bounds[i]!.end
    ) {
      return false;
    }
  }
  return true;
}
