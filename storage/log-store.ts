/**
 * The append-only log: one log per shard, one LevelDB value per appended
 * batch, LSNs assigned per shard, segments for retention and time search.
 *
 * Writes go through a single group-commit writer: while one LevelDB batch is
 * being written, new appends queue up and are written together in the next
 * batch, so concurrent appends share one write (and one fsync in sync mode).
 * An append resolves only after its batch is in LevelDB's log, so a resolved
 * append survives kill -9 (and power loss with `sync`).
 *
 * Segment metadata is written only when a segment opens (together with the
 * final state of the one it seals), never per append: a metadata key in every
 * write made each LevelDB memtable span from the data keys to the metadata
 * keys, so no flushed file could be moved down the levels without a merge and
 * compaction rewrote the whole log again and again (append throughput fell to
 * a third within seconds; see bench/README.md). The open segment's end is
 * rebuilt from the log's last batch at recovery.
 *
 * A failed write makes the store refuse every later write (LevelDB itself
 * does the same after a failed sync): the outcome of the failed batch is
 * unknown, so nothing more may be acknowledged until the store is reopened.
 *
 * Must not import from src/ or sql/.
 */
import { decodeEntry, encodeEntry, entryTimeMs, type BatchEntry } from './codec.js';
import { StoreError } from './errors.js';
import { dataKey, decodeDataKey, shardEndKey } from './keys.js';
import { openKv, readAll, type Kv, type KvOp } from './kv.js';
import { MetaStore, metaOpToKv, type MetaOp } from './meta-store.js';
import { firstSegmentAtOrAfter, segmentFor, segmentPath, segmentPrefix, type Segment, type SegmentPolicy } from './segment.js';

/** LSNs start above 2^32 like LogDevice's (epoch 1, esn 1): ids keep a constant decimal width for a long time. */
export const LSN_BASE = 2 ** 32;
export const FIRST_LSN = LSN_BASE + 1;

export interface LogStoreOptions {
  /** Directory of the LevelDB database; undefined keeps everything in memory. */
  location: string | undefined;
  /** fsync every write batch (group-committed) before acknowledging. */
  sync: boolean;
  segment: SegmentPolicy;
  /** Appends waiting for the writer may hold at most this many payload bytes. */
  maxQueuedBytes: number;
}

export interface StoredBatch extends BatchEntry {
  shardId: number;
  lsn: number;
}

export interface AppendResult {
  lsn: number;
  timeMs: number;
}

interface LogMeta {
  shardId: number;
  /** every LSN <= trimPoint has been removed */
  trimPoint: number;
}

interface LogState {
  meta: LogMeta;
  /** last committed (readable) LSN; LSN_BASE when nothing was ever appended */
  tail: number;
  /** last LSN handed out by the writer; > tail only while a write is in flight */
  assigned: number;
  lastTimeMs: number;
  segments: Segment[];
  /** the last segment came from a restart: the next batch opens a new one */
  openSegmentSealed: boolean;
  waiters: Set<() => void>;
}

interface PendingAppend {
  shardId: number;
  entry: Omit<BatchEntry, 'timeMs'>;
  resolve: (result: AppendResult) => void;
  reject: (err: unknown) => void;
}

const logPath = (shardId: number) => `log/${shardId}`;
const READ_HIGH_WATER_MARK_BYTES = 1024 * 1024;

export class LogStore {
  readonly meta: MetaStore;
  private readonly logs = new Map<number, LogState>();
  private queue: PendingAppend[] = [];
  private queuedBytes = 0;
  private writing = false;
  private idle: Array<() => void> = [];
  private failure: StoreError | undefined;
  private state: 'open' | 'closing' | 'closed' = 'open';

  private constructor(
    private readonly kv: Kv,
    private readonly options: LogStoreOptions,
  ) {
    this.meta = new MetaStore(kv, () => options.sync);
  }

  static async open(options: LogStoreOptions): Promise<LogStore> {
    const kv = await openKv(options.location);
    const store = new LogStore(kv, options);
    try {
      await store.recover();
    } catch (err) {
      await kv.close().catch(() => undefined);
      throw err;
    }
    return store;
  }

  /** Rebuilds each log's in-memory state: its tail is the last key in its range. */
  private async recover(): Promise<void> {
    const metas = await this.meta.list<LogMeta>('log/');
    for (const { value: meta } of metas) {
      const segments = (await this.meta.list<Segment>(segmentPrefix(meta.shardId))).map((row) => row.value);
      const [last] = await readAll(this.kv, {
        gte: dataKey(meta.shardId, 0),
        lt: shardEndKey(meta.shardId),
        reverse: true,
        limit: 1,
      });
      const lastLsn = last ? decodeDataKey(last[0]).lsn : LSN_BASE;
      const tail = Math.max(lastLsn, meta.trimPoint, LSN_BASE);
      const lastTimeMs = last ? entryTimeMs(last[1]) : 0;
      const open = segments[segments.length - 1];
      if (open && last && lastLsn >= open.firstLsn) {
        // Its stored end is where it was opened (or sealed): the log's last batch is its real end.
        // LSNs are dense, so the batch count is exact; its byte size is not, so it takes no more batches.
        open.lastLsn = lastLsn;
        open.lastTimeMs = lastTimeMs;
        open.batches = lastLsn - open.firstLsn + 1;
      }
      this.logs.set(meta.shardId, { meta, tail, assigned: tail, lastTimeMs, segments, openSegmentSealed: open !== undefined, waiters: new Set() });
      // A trim is recorded before its data is cleared; finish one a crash interrupted.
      if (meta.trimPoint > LSN_BASE) await this.clearData(meta.shardId, meta.trimPoint);
    }
    await this.clearOrphanData();
  }

  /** Removes data of logs whose metadata is gone (a delete interrupted by a crash). */
  private async clearOrphanData(): Promise<void> {
    let from = dataKey(0, 0);
    for (;;) {
      const [first] = await readAll(this.kv, { gte: from, lt: Buffer.of(0x65), limit: 1 });
      if (!first) return;
      const { shardId } = decodeDataKey(first[0]);
      if (!this.logs.has(shardId)) await this.kv.clear({ gte: dataKey(shardId, 0), lt: shardEndKey(shardId) });
      from = dataKey(shardId + 1, 0);
    }
  }

  private assertWritable(): void {
    if (this.state !== 'open') throw new StoreError('STORE_CLOSED', 'the store is shutting down');
    if (this.failure) throw this.failure;
  }

  private log(shardId: number): LogState {
    const log = this.logs.get(shardId);
    if (!log) throw new StoreError('STORE_SHARD_NOT_FOUND', `shard ${shardId} does not exist`);
    return log;
  }

  hasLog(shardId: number): boolean {
    return this.logs.has(shardId);
  }

  /** Creates empty logs together with the metadata that describes them, atomically. */
  async createLogs(shardIds: number[], metaOps: MetaOp[]): Promise<void> {
    this.assertWritable();
    const ops: MetaOp[] = [...metaOps];
    for (const shardId of shardIds) {
      if (this.logs.has(shardId)) throw new TypeError(`log ${shardId} already exists`);
      ops.push({ type: 'put', path: logPath(shardId), value: { shardId, trimPoint: LSN_BASE } satisfies LogMeta });
    }
    await this.writeMeta(ops);
    for (const shardId of shardIds) {
      this.logs.set(shardId, {
        meta: { shardId, trimPoint: LSN_BASE },
        tail: LSN_BASE,
        assigned: LSN_BASE,
        lastTimeMs: 0,
        segments: [],
        openSegmentSealed: false,
        waiters: new Set(),
      });
    }
  }

  /** Deletes logs and their data; `metaOps` are written in the same atomic batch as the log records. */
  async deleteLogs(shardIds: number[], metaOps: MetaOp[]): Promise<void> {
    this.assertWritable();
    const ops: MetaOp[] = [...metaOps];
    const removed: LogState[] = [];
    for (const shardId of shardIds) {
      const log = this.logs.get(shardId);
      if (!log) continue;
      ops.push({ type: 'del', path: logPath(shardId) });
      for (const seg of log.segments) ops.push({ type: 'del', path: segmentPath(shardId, seg.firstLsn) });
      removed.push(log);
    }
    // Appends already queued for these shards fail in the writer once the log is gone.
    for (const log of removed) this.logs.delete(log.meta.shardId);
    try {
      await this.writeMeta(ops);
    } catch (err) {
      for (const log of removed) this.logs.set(log.meta.shardId, log);
      throw err;
    }
    for (const log of removed) {
      wake(log);
      await this.kv.clear({ gte: dataKey(log.meta.shardId, 0), lt: shardEndKey(log.meta.shardId) });
    }
  }

  private async writeMeta(ops: MetaOp[]): Promise<void> {
    try {
      await this.kv.batch(ops.map(metaOpToKv), { sync: this.options.sync });
    } catch (err) {
      throw this.fail(err);
    }
  }

  /** Appends one batch; resolves once it is written (and synced in sync mode). */
  append(shardId: number, entry: Omit<BatchEntry, 'timeMs'>): Promise<AppendResult> {
    try {
      this.assertWritable();
      this.log(shardId);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.queuedBytes + entry.payload.length > this.options.maxQueuedBytes && this.queue.length > 0) {
      return Promise.reject(
        new StoreError('STORE_OVERLOADED', `more than ${this.options.maxQueuedBytes} bytes are waiting to be written`),
      );
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ shardId, entry, resolve, reject });
      this.queuedBytes += entry.payload.length;
      if (!this.writing) void this.drainQueue();
    });
  }

  private async drainQueue(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      this.queuedBytes = 0;
      await this.writeGroup(group);
    }
    this.writing = false;
    for (const done of this.idle.splice(0)) done();
  }

  private async writeGroup(group: PendingAppend[]): Promise<void> {
    if (this.failure || this.state === 'closed') {
      const err = this.failure ?? new StoreError('STORE_CLOSED', 'the store is closed');
      for (const p of group) p.reject(err);
      return;
    }
    const ops: KvOp[] = [];
    const accepted: Array<{ p: PendingAppend; log: LogState; lsn: number; timeMs: number }> = [];
    for (const p of group) {
      const log = this.logs.get(p.shardId);
      if (!log) {
        p.reject(new StoreError('STORE_SHARD_NOT_FOUND', `shard ${p.shardId} does not exist`));
        continue;
      }
      const lsn = ++log.assigned;
      // Store time never goes backwards within a shard, so time search can bisect.
      const timeMs = Math.max(Date.now(), log.lastTimeMs);
      log.lastTimeMs = timeMs;
      const value = encodeEntry({ ...p.entry, timeMs });
      const sealed = log.segments[log.segments.length - 1];
      const seg = segmentFor(log.segments, lsn, timeMs, value.length, this.options.segment, log.openSegmentSealed);
      if (seg !== sealed) {
        log.openSegmentSealed = false;
        if (sealed) ops.push(metaOpToKv({ type: 'put', path: segmentPath(p.shardId, sealed.firstLsn), value: sealed }));
        ops.push(metaOpToKv({ type: 'put', path: segmentPath(p.shardId, seg.firstLsn), value: seg }));
      }
      seg.lastLsn = lsn;
      seg.lastTimeMs = timeMs;
      seg.bytes += value.length;
      seg.batches += 1;
      ops.push({ type: 'put', key: dataKey(p.shardId, lsn), value });
      accepted.push({ p, log, lsn, timeMs });
    }
    if (accepted.length === 0) return;
    try {
      await this.kv.batch(ops, { sync: this.options.sync });
    } catch (err) {
      const failure = this.fail(err);
      for (const { p } of accepted) p.reject(failure);
      return;
    }
    const grown = new Set<LogState>();
    for (const { p, log, lsn, timeMs } of accepted) {
      log.tail = lsn;
      grown.add(log);
      p.resolve({ lsn, timeMs });
    }
    for (const log of grown) wake(log);
  }

  private fail(err: unknown): StoreError {
    if (!this.failure) {
      const message = `write to the data directory failed: ${(err as Error).message}`;
      this.failure = new StoreError('STORE_IO', message, { cause: err });
    }
    return this.failure;
  }

  /** The store's sticky write failure, if any. */
  get writeFailure(): StoreError | undefined {
    return this.failure;
  }

  /** Last readable LSN of a shard (LSN_BASE if nothing was ever appended). */
  tail(shardId: number): number {
    return this.log(shardId).tail;
  }

  /** First LSN that may still be read. */
  head(shardId: number): number {
    return this.log(shardId).meta.trimPoint + 1;
  }

  /**
   * Reads batches with fromLsn <= lsn <= toLsn in LSN order, at most
   * `maxBatches` and about `maxBytes` (always at least one batch if any).
   */
  async read(shardId: number, fromLsn: number, toLsn: number, maxBatches: number, maxBytes: number): Promise<StoredBatch[]> {
    const log = this.log(shardId);
    const from = Math.max(fromLsn, log.meta.trimPoint + 1);
    const to = Math.min(toLsn, log.tail);
    if (from > to || maxBatches <= 0) return [];
    const it = this.kv.iterator({
      gte: dataKey(shardId, from),
      lte: dataKey(shardId, to),
      limit: maxBatches,
      highWaterMarkBytes: Math.min(maxBytes, READ_HIGH_WATER_MARK_BYTES),
    });
    const out: StoredBatch[] = [];
    let bytes = 0;
    // Every LSN from the trim point to the tail holds a batch (one writer assigns them in order and
    // a crash only loses a suffix), so a hole means LevelDB lost data, e.g. a damaged WAL record
    // that recovery skipped: say so instead of skipping it (test/reliability, storage faults).
    let expected = from;
    try {
      while (out.length < maxBatches && bytes < maxBytes) {
        const rows = await this.nextRows(it, maxBatches - out.length, shardId);
        if (rows.length === 0) {
          if (expected <= to) this.checkMissing(shardId, log, expected, to);
          break;
        }
        for (const [key, value] of rows) {
          const { lsn } = decodeDataKey(key);
          if (lsn !== expected) this.checkMissing(shardId, log, expected, lsn - 1);
          const entry = decodeEntry(value, `${shardId}-${lsn}`);
          out.push({ shardId, lsn, ...entry });
          bytes += value.length;
          expected = lsn + 1;
        }
      }
    } finally {
      await it.close();
    }
    return out;
  }

  private async nextRows(it: ReturnType<Kv['iterator']>, size: number, shardId: number): Promise<Array<[Buffer, Buffer]>> {
    try {
      return await it.nextv(size);
    } catch (err) {
      const corrupt = (err as { code?: string }).code === 'LEVEL_CORRUPTION';
      throw new StoreError(corrupt ? 'STORE_CORRUPTION' : 'STORE_IO', `cannot read shard ${shardId}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Batches first..last are absent: fine if a trim removed them meanwhile, data loss otherwise. */
  private checkMissing(shardId: number, log: LogState, first: number, last: number): void {
    if (last <= log.meta.trimPoint) return;
    throw new StoreError('STORE_CORRUPTION', `batches ${first}..${last} of shard ${shardId} are missing from the data directory`);
  }

  /** First LSN whose store time is >= timeMs; tail + 1 if there is none yet. */
  async findLsnByTime(shardId: number, timeMs: number): Promise<number> {
    const log = this.log(shardId);
    const segIndex = firstSegmentAtOrAfter(log.segments, timeMs);
    if (segIndex < 0) return log.tail + 1;
    const seg = log.segments[segIndex]!;
    let lo = Math.max(seg.firstLsn, log.meta.trimPoint + 1);
    let hi = Math.min(seg.lastLsn, log.tail);
    let answer: number | undefined;
    while (lo <= hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const [row] = await readAll(this.kv, { gte: dataKey(shardId, mid), lte: dataKey(shardId, hi), limit: 1 });
      if (!row) {
        hi = mid - 1;
        continue;
      }
      const { lsn } = decodeDataKey(row[0]);
      if (entryTimeMs(row[1]) >= timeMs) {
        answer = lsn;
        hi = mid - 1;
      } else {
        lo = lsn + 1;
      }
    }
    return answer ?? Math.min(seg.lastLsn + 1, log.tail + 1);
  }

  /** Removes every batch with lsn <= uptoLsn (never past the tail). Returns the new trim point. */
  async trim(shardId: number, uptoLsn: number): Promise<number> {
    this.assertWritable();
    const log = this.log(shardId);
    const point = Math.min(uptoLsn, log.tail);
    if (point <= log.meta.trimPoint) return log.meta.trimPoint;
    const dropped = log.segments.filter((seg) => seg.lastLsn <= point);
    const ops: MetaOp[] = [{ type: 'put', path: logPath(shardId), value: { ...log.meta, trimPoint: point } }];
    for (const seg of dropped) ops.push({ type: 'del', path: segmentPath(shardId, seg.firstLsn) });
    await this.writeMeta(ops);
    log.meta = { ...log.meta, trimPoint: point };
    log.segments = log.segments.filter((seg) => seg.lastLsn > point);
    await this.clearData(shardId, point);
    return point;
  }

  /** Drops whole segments whose newest batch is older than `cutoffMs`. */
  async expire(shardId: number, cutoffMs: number): Promise<void> {
    const log = this.logs.get(shardId);
    if (!log) return;
    let upto = 0;
    for (const seg of log.segments) {
      if (seg.lastTimeMs >= cutoffMs || seg.lastLsn > log.tail) break;
      upto = seg.lastLsn;
    }
    if (upto > 0) await this.trim(shardId, upto);
  }

  segments(shardId: number): readonly Segment[] {
    return this.log(shardId).segments;
  }

  private clearData(shardId: number, uptoLsn: number): Promise<void> {
    return this.kv.clear({ gte: dataKey(shardId, 0), lte: dataKey(shardId, uptoLsn) });
  }

  /**
   * Resolves when the shard has a readable batch after `afterLsn` (its tail
   * moved past both `afterLsn` and the trim point), the log is deleted,
   * `timeoutMs` passes or `signal` aborts. Returns true when data arrived.
   *
   * The trim point counts because batches at or below it cannot be read: a
   * reader positioned below a trim point of a shard trimmed up to its tail
   * used to get "data arrived" at once, read nothing, and ask again, a
   * microtask loop that starved the event loop and hung the whole server
   * (found by the reliability suite: TrimShard LATEST, then a tail-following
   * ReadShardStream from EARLIEST).
   */
  waitForAppend(shardId: number, afterLsn: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const log = this.logs.get(shardId);
    const readable = () => log !== undefined && log.tail > Math.max(afterLsn, log.meta.trimPoint);
    if (!log || readable() || signal?.aborted) return Promise.resolve(readable());
    return new Promise<boolean>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        log.waiters.delete(finish);
        resolve(readable() && this.logs.get(shardId) === log);
      };
      const timer = setTimeout(finish, timeoutMs);
      signal?.addEventListener('abort', finish, { once: true });
      log.waiters.add(finish);
    });
  }

  /** Waits until every queued append is written, then closes the database. */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closing';
    if (this.writing) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.state = 'closed';
    for (const log of this.logs.values()) wake(log);
    await this.kv.close();
  }
}

function wake(log: LogState): void {
  for (const waiter of [...log.waiters]) waiter();
}
