/**
 * Streams and their shards: the catalogue (cached in memory, persisted in
 * the store's metadata) and the operations on a stream's logs. API-agnostic:
 * handlers translate messages to these calls.
 *
 * A stream force-deleted while subscriptions still read it is archived: it
 * leaves the catalogue (its name can be reused) but its logs stay until the
 * last subscription on it is gone.
 */
import type { Logger } from 'pino';
import { FIRST_LSN, LSN_BASE, type LogStore, type StoredBatch } from '../../storage/index.js';
import {
  alreadyExists,
  ErrorCode,
  failedPrecondition,
  streamNotFound,
  unavailable,
} from '../errors.js';
import type { IdAllocator } from './ids.js';
import { StreamDependents } from './stream-dependents.js';
import { STREAM_PACKING, StreamTable, type LiveStreams, type PackedStream, type ShardInfo, type StreamInfo, type StreamSummary } from './stream-table.js';
import { checkNewStream, retentionMs, type NewStream } from './stream-spec.js';
import { rangeIndexForKey, shardBoundsText, type HashRange } from './shards.js';
import type { StatsRegistry } from './stats.js';

export type { NewStream } from './stream-spec.js';
export type { ShardInfo, StreamInfo, StreamSummary } from './stream-table.js';

const streamPath = (id: number) => `stream/${id}`;

export class StreamCatalog {
  /** live and archived streams, by name, id and shard */
  private table = new StreamTable();
  /** names being created or deleted right now: concurrent requests for them lose at once */
  private readonly busy = new Set<string>();
  private retentionTimer: NodeJS.Timeout | undefined;
  private retentionHold: ((shardId: number) => number | undefined) | undefined;
  /** streams whose stored retention is not a usable number (written by an older version): reported once */
  private readonly unusableRetention = new Set<number>();
  /** each stream's key ranges as numbers, parsed on first use rather than on every keyed append */
  private readonly hashRanges = new WeakMap<StreamInfo, HashRange[]>();
  #listVersion = 0;
  constructor(
    readonly store: LogStore,
    private readonly ids: IdAllocator,
    private readonly stats: StatsRegistry,
    private readonly log: Logger,
    /** subscriptions, queries and connectors register what depends on a stream here */
    readonly dependents = new StreamDependents(),
  ) {
    store.meta.setPacking('stream/', STREAM_PACKING);
  }

  async load(): Promise<void> {
    await this.store.meta.scan<StreamInfo, PackedStream>('stream/', () => {
      this.table = new StreamTable();
      return (stream) => this.table.addPacked(stream);
    });
    this.#listVersion++;
  }

  private index(stream: StreamInfo): void {
    this.table.add(stream);
    this.#listVersion++;
  }

  private unindex(stream: StreamInfo): void {
    this.#listVersion++;
    this.table.remove(stream);
  }

  /** Returns the new stream's description (lookups return the catalogue's own object for it). */
  async create(req: NewStream): Promise<StreamInfo> {
    checkNewStream(req);
    if (this.table.hasName(req.name) || this.busy.has(req.name)) {
      throw alreadyExists(ErrorCode.StreamExists, 'StreamExists', { extra: req.name });
    }
    this.busy.add(req.name);
    try {
      const { ids, op } = this.ids.take(req.shardCount + 1);
      const [streamId, ...shardIds] = ids as [number, ...number[]];
      const ranges = shardBoundsText(req.shardCount);
      const stream: StreamInfo = {
        id: streamId,
        name: req.name,
        replicationFactor: req.replicationFactor,
        backlogDuration: req.backlogDuration,
        shardCount: req.shardCount,
        creationTimeMs: Date.now(),
        archived: false,
        shards: ranges.map((range, i) => ({
          shardId: shardIds[i]!,
          streamId,
          streamName: req.name,
          startHashRangeKey: range.start,
          endHashRangeKey: range.end,
          // upstream gives every new shard epoch = shardCount
          epoch: req.shardCount,
        })),
      };
      await this.store.createLogs(shardIds, [op, { type: 'put', path: streamPath(streamId), value: stream }]);
      this.index(stream);
      // debug: one line per create was a tenth of a create's server CPU when creating streams in bulk
      this.log.debug({ stream: req.name, shardCount: req.shardCount }, 'stream created');
      return stream;
    } finally {
      this.busy.delete(req.name);
    }
  }

  get(name: string): StreamInfo {
    const stream = this.table.byName(name);
    if (!stream) throw streamNotFound(name);
    return stream;
  }

  find(name: string): StreamInfo | undefined {
    return this.table.byName(name);
  }

  byStreamId(id: number): StreamInfo | undefined {
    return this.table.byId(id);
  }

  /** Ids of the force-deleted streams whose logs are kept for their subscriptions. */
  archivedStreamIds(): number[] {
    return this.table.archivedIds();
  }

  /** Changes whenever what `list()` returns may have changed (a listing encoded once can be kept until then). */
  get listVersion(): number {
    return this.#listVersion;
  }

  /** Live streams in creation order; only those something used before are whole StreamInfo objects. */
  list(prefix = ''): StreamSummary[] {
    const live = this.table.live();
    const listed: StreamSummary[] = [];
    for (let i = 0; i < live.count; i++) if (prefix === '' || live.nameAt(i).startsWith(prefix)) listed.push(live.at(i));
    return listed;
  }

  /** `list()` read on demand, for a reply of every stream (see StreamTable.live). */
  listLive(): LiveStreams {
    return this.table.live();
  }

  /** Returns false when the stream was missing and that is allowed. */
  async delete(name: string, options: { ignoreNonExist: boolean; force: boolean }): Promise<boolean> {
    const stream = this.table.byName(name);
    if (!stream || this.busy.has(name)) {
      if (options.ignoreNonExist) return false;
      throw streamNotFound(name);
    }
    const subscribed = this.dependents.holdsData(stream);
    if (subscribed && !options.force) {
      throw failedPrecondition(ErrorCode.StreamFoundSubscription, 'Stream still has subscription');
    }
    this.busy.add(name);
    this.table.unlist(name);
    this.#listVersion++;
    try {
      if (subscribed) {
        const archived = { ...stream, archived: true };
        await this.store.meta.put(streamPath(stream.id), archived);
        this.unindex(stream);
        this.index(archived);
      } else {
        await this.dropLogs(stream);
      }
    } catch (err) {
      this.table.relist(stream);
      this.#listVersion++;
      throw err;
    } finally {
      this.busy.delete(name);
    }
    this.stats.forgetStream(name);
    this.log.info({ stream: name, archived: subscribed, dependents: this.dependents.of(stream) }, 'stream deleted');
    return true;
  }

  /** Called when the last subscription on an archived stream goes away. */
  async releaseArchived(streamId: number): Promise<void> {
    const stream = this.table.byId(streamId);
    if (stream?.archived && !this.dependents.holdsData(stream)) await this.dropLogs(stream);
  }

  private async dropLogs(stream: StreamInfo): Promise<void> {
    this.unindex(stream);
    try {
      await this.store.deleteLogs(
        stream.shards.map((s) => s.shardId),
        [{ type: 'del', path: streamPath(stream.id) }],
      );
    } catch (err) {
      this.index(stream);
      throw err;
    }
  }

  /** The shard and its (live or archived) stream, or undefined. */
  shard(shardId: number): { stream: StreamInfo; shard: ShardInfo } | undefined {
    const stream = this.table.byShard(shardId);
    const shard = stream?.shards.find((s) => s.shardId === shardId);
    return stream && shard && { stream, shard };
  }

  /** The (live or archived) stream a shard belongs to, or undefined. */
  streamOfShard(shardId: number): StreamInfo | undefined {
    return this.table.byShard(shardId);
  }

  shardForKey(stream: StreamInfo, key: string): ShardInfo {
    let ranges = this.hashRanges.get(stream);
    if (!ranges) {
      ranges = stream.shards.map((s) => ({ start: BigInt(s.startHashRangeKey), end: BigInt(s.endHashRangeKey) }));
      this.hashRanges.set(stream, ranges);
    }
    return stream.shards[rangeIndexForKey(ranges, key)]!;
  }

  async append(
    shardId: number,
    batch: { compression: number; batchSize: number; payload: Buffer },
  ): Promise<{ stream: StreamInfo; lsn: number; timeMs: number }> {
    const stream = this.table.byShard(shardId);
    if (!stream || stream.archived) {
      throw unavailable(`NOTFOUND: shard ${shardId} does not exist or its stream was deleted`, { plainText: true });
    }
    const { lsn, timeMs } = await this.store.append(shardId, batch);
    return { stream, lsn, timeMs };
  }

  /** Last LSN of the shard, 0 when the shard never had data. */
  tail(shardId: number): number {
    const tail = this.store.tail(shardId);
    return tail === LSN_BASE ? 0 : tail;
  }

  read(shardId: number, fromLsn: number, toLsn: number, maxBatches: number, maxBytes: number): Promise<StoredBatch[]> {
    return this.store.read(shardId, fromLsn, toLsn, maxBatches, maxBytes);
  }

  /** Removes batches with lsn <= point from a shard. */
  trimShard(shardId: number, point: number): Promise<number> {
    return this.store.trim(shardId, Math.max(point, LSN_BASE));
  }

  /**
   * What retention may drop of a shard at most (an LSN), asked at every
   * sweep: a sink that archives the stream holds it at what it has written.
   */
  setRetentionHold(hold: (shardId: number) => number | undefined): void {
    this.retentionHold = hold;
  }

  startRetention(intervalMs: number): void {
    this.retentionTimer = setInterval(() => void this.sweepRetention(), intervalMs);
    this.retentionTimer.unref();
  }

  stopRetention(): void {
    clearInterval(this.retentionTimer);
  }

  /** Drops whole expired segments of every stream with a backlog duration. */
  async sweepRetention(now = Date.now()): Promise<void> {
    for (const stream of this.table.all()) {
      if (stream.backlogDuration === 0) continue;
      const keepMs = retentionMs(stream.backlogDuration);
      if (keepMs === undefined || !Number.isFinite(now)) {
        // Never guess a cut-off: an unusable one once dropped every batch of its stream.
        if (this.unusableRetention.has(stream.id)) continue;
        this.unusableRetention.add(stream.id);
        this.log.error({ stream: stream.name, backlogDuration: stream.backlogDuration }, 'retention skipped: the stream\'s backlog duration is not a usable number');
        continue;
      }
      for (const shardId of this.table.shardIds(stream.id)) {
        try {
          await this.store.expire(shardId, now - keepMs, this.retentionHold?.(shardId));
        } catch (err) {
          this.log.error({ err, stream: stream.name, shardId }, 'retention sweep failed');
        }
      }
    }
  }
}

export { FIRST_LSN };
