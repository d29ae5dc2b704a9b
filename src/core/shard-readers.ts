/**
 * Stateful shard readers (CreateShardReader / ReadShard): the position of
 * each reader is kept on the server between calls and persisted, so a
 * reader continues where it stopped, even after a restart.
 */
import { alreadyExists, ErrorCode, failedPrecondition, notFound } from '../errors.js';
import type { StoredBatch } from '../../storage/index.js';
import { checkRange, resolveStart, ShardCursor, UNBOUNDED, type Offset } from './readers.js';
import type { StreamCatalog } from './streams.js';

export interface ReaderInfo {
  readerId: string;
  streamName: string;
  shardId: number;
  /** next LSN to read */
  next: number;
  timeoutMs: number;
}

const readerPath = (id: string) => `reader/${id}`;
/** ReadShard returns at most this many bytes of batches per call, whatever maxRecords says. */
const MAX_READ_BYTES = 2 * 1024 * 1024;

export class ShardReaders {
  private readonly readers = new Map<string, ReaderInfo>();
  /** calls on one reader run one after another */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly catalog: StreamCatalog) {}

  async load(): Promise<void> {
    for (const { value } of await this.catalog.store.meta.list<ReaderInfo>('reader/')) this.readers.set(value.readerId, value);
  }

  async create(req: { readerId: string; streamName: string; shardId: number; offset: Offset; timeoutMs: number }): Promise<ReaderInfo> {
    if (this.readers.has(req.readerId)) {
      throw alreadyExists(ErrorCode.InternalError, 'ShardReaderExists', { extra: req.readerId });
    }
    const found = this.catalog.shard(req.shardId);
    if (!found || found.stream.archived) {
      throw notFound(ErrorCode.InternalError, 'ShardNotFound', { extra: `shard ${req.shardId} does not exist` });
    }
    const start = await resolveStart(this.catalog, req.shardId, req.offset);
    checkRange(start, UNBOUNDED);
    if (this.readers.has(req.readerId)) {
      throw alreadyExists(ErrorCode.InternalError, 'ShardReaderExists', { extra: req.readerId });
    }
    const info: ReaderInfo = { readerId: req.readerId, streamName: req.streamName, shardId: req.shardId, next: start.lsn, timeoutMs: req.timeoutMs };
    this.readers.set(req.readerId, info);
    try {
      await this.catalog.store.meta.put(readerPath(req.readerId), info);
    } catch (err) {
      this.readers.delete(req.readerId);
      throw err;
    }
    return info;
  }

  private get(readerId: string): ReaderInfo {
    const info = this.readers.get(readerId);
    if (!info) throw failedPrecondition(ErrorCode.InternalError, 'EmptyShardReader', { extra: `shard reader ${readerId} does not exist` });
    return info;
  }

  /** Reads up to `maxBatches` batches, waiting up to the reader's timeout when there are none yet. */
  read(readerId: string, maxBatches: number): Promise<StoredBatch[]> {
    const info = this.get(readerId);
    const previous = this.locks.get(readerId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.readLocked(info, maxBatches));
    this.locks.set(readerId, run);
    void run.finally(() => {
      if (this.locks.get(readerId) === run) this.locks.delete(readerId);
    }).catch(() => undefined);
    return run;
  }

  private async readLocked(info: ReaderInfo, maxBatches: number): Promise<StoredBatch[]> {
    if (!this.catalog.store.hasLog(info.shardId)) {
      throw notFound(ErrorCode.InternalError, 'ShardNotFound', { extra: `shard ${info.shardId} no longer exists` });
    }
    const cursor = new ShardCursor(this.catalog, info.shardId, info.next, UNBOUNDED);
    const limits = { maxBatches: Math.max(1, Math.min(maxBatches || 1, 10_000)), maxBytes: MAX_READ_BYTES };
    let batches = await cursor.read(limits);
    if (batches.length === 0 && info.timeoutMs > 0 && (await cursor.waitForData(info.timeoutMs))) {
      batches = await cursor.read(limits);
    }
    if (cursor.next !== info.next && this.readers.get(info.readerId) === info) {
      info.next = cursor.next;
      await this.catalog.store.meta.put(readerPath(info.readerId), info);
    }
    return batches;
  }

  async delete(readerId: string): Promise<void> {
    this.get(readerId);
    this.readers.delete(readerId);
    await this.catalog.store.meta.del(readerPath(readerId));
  }

  list(): string[] {
    return [...this.readers.keys()];
  }
}
