/**
 * The append-only log: one log per shard, one LevelDB value per appended
 * batch, LSNs assigned per shard, segments for retention and time search.
 *
 * Writes go through a single group-commit writer: while one LevelDB batch is
 * being written, new appends queue up and are written together in the next
 * batch, so concurrent appends share one write (and one fsync in sync mode).
 * An append resolves only after its batch is in LevelDB's log, so a resolved
 * append survives kill -9 (and power loss with `sync`). Metadata writes and
 * the deletes of trims go through the same writer: nothing else writes.
 *
 * Segment metadata is written only when a segment opens (together with the
 * final state of the one it seals), never per append: a metadata key in every
 * write made each LevelDB memtable span from the data keys to the metadata
 * keys, so no flushed file could be moved down the levels without a merge and
 * compaction rewrote the whole log again and again (append throughput fell to
 * a third within seconds; keys.ts puts metadata before the data for the same
 * reason). The open segment's end is rebuilt from the log's last batch at
 * recovery.
 *
 * A failed write makes the store refuse writes until the database has been
 * reopened (database.ts) and the logs' state rebuilt from it (recovery.ts).
 * The LogStore object and its logs' state objects stay the same, so readers,
 * waiters and subscriptions carry on. Reads are in batch-reader.ts, the
 * in-memory state of a log and its waiters in log-state.ts.
 *
 * Acknowledged tails are also kept in a small file outside LevelDB (see
 * tail-marker.ts): when LevelDB recovers less than was acknowledged, the
 * missing batches read as STORE_CORRUPTION and new appends continue above.
 * After a clean shutdown that marker is complete, and recovery takes the
 * tails from it instead of from the data (clean-shutdown.ts).
 *
 * Must not import from src/ or sql/.
 */
import { findLsnByTime, readRange, type StoredBatch } from './batch-reader.js';
import { encodeEntry, type BatchEntry } from './codec.js';
import { recordCleanShutdown, takeCleanShutdown } from './clean-shutdown.js';
import { Database, openDatabaseKv } from './database.js';
import { StoreError } from './errors.js';
import { dataKey, shardEndKey } from './keys.js';
import { readAll, type Kv, type KvOp, type KvRange } from './kv.js';
import { openLayout } from './layout.js';
import { emptyLog, LOG_META_PACKING, LSN_BASE, logPath, NEVER_WRITTEN, wake, waitForGrowth, type LogMeta, type LogState } from './log-state.js';
import { silentLogger, type StoreLogger } from './logger.js';
import { takeMetaSnapshot, writeMetaSnapshot, type MetaSnapshot } from './meta-snapshot.js';
import { MetaStore, metaOpToKv, type MetaOp } from './meta-store.js';
import { loadLogs, type KnownTails } from './recovery.js';
import { segmentFor, segmentPath, type Segment, type SegmentPolicy } from './segment.js';
import { TailCache } from './tail-cache.js';
import { TailMarker, type OpenedMarker } from './tail-marker.js';
import { WriteScratch } from './write-scratch.js';

export { FIRST_LSN, LSN_BASE } from './log-state.js';
export type { StoredBatch } from './batch-reader.js';

/** Holds a group of 32 in-flight 100 KiB appends; bigger groups frame the rest in fresh buffers. */
const WRITE_SCRATCH_BYTES = 4 * 1024 * 1024;

export interface LogStoreOptions {
  /** Directory of the LevelDB database; undefined keeps everything in memory. */
  location: string | undefined;
  /** fsync every write batch (group-committed) before acknowledging. */
  sync: boolean;
  segment: SegmentPolicy;
  /** Appends waiting for the writer may hold at most this many payload bytes. */
  maxQueuedBytes: number;
  /** where write failures, reopening and lost data are reported; silent if not given */
  logger?: StoreLogger;
  /** delays between attempts to reopen the database after a write failure (default 100 ms doubling to 5 s) */
  reopenBackoffMs?: { first: number; max: number };
  /** wraps every database the store opens (tests inject faults with it) */
  wrapKv?: (kv: Kv) => Kv;
  /** payload bytes of the newest batches kept in memory for tail readers (see tail-cache.ts); 0 or unset = none. On disk only. */
  tailCacheBytes?: number;
}

export interface AppendResult {
  lsn: number;
  timeMs: number;
}


interface PendingAppend {
  shardId: number;
  entry: Omit<BatchEntry, 'timeMs'>;
  resolve: (result: AppendResult) => void;
  reject: (err: unknown) => void;
}

/** Other writes (metadata, deletes) that share the writer's batches. */
interface PendingWrite {
  ops: KvOp[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

type Pending = PendingAppend | PendingWrite;

/** Deletes of a trim or a dropped log go through the writer in batches of this many keys. */
const CLEAR_CHUNK_KEYS = 2000;

export class LogStore {
  readonly meta: MetaStore;
  /**
   * every log by shard id; at open, the very map recovery built (see adopt). Never-written logs
   * share NEVER_WRITTEN until `writable` gives them their own state.
   */
  private logs = new Map<number, LogState>();
  private readonly logger: StoreLogger;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private writing = false;
  private idle: Array<() => void> = [];
  private readonly db: Database;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private readonly cache: TailCache | undefined;
  /** framing memory reused by every write group; on disk only (see write-scratch.ts) */
  private readonly scratch: WriteScratch | undefined;
  /** trims and deletes whose data is not cleared yet: a shutdown meanwhile is not clean */
  private clearing = 0;
  /** recovery reported lost batches: the next start must look at the data again to report them again */
  private lossReported = false;
  /**
   * The metadata a clean shutdown left (meta-snapshot.ts), served instead of LevelDB's until the
   * first write or the end of start-up (startupDone).
   */
  private startupMeta: MetaSnapshot | undefined;

  private constructor(
    kv: Kv,
    private readonly options: LogStoreOptions,
    private readonly marker: TailMarker | undefined,
  ) {
    this.logger = options.logger ?? silentLogger;
    // an in-memory store holds every batch in memory already
    if (options.location !== undefined && (options.tailCacheBytes ?? 0) > 0) this.cache = new TailCache(options.tailCacheBytes!);
    if (options.location !== undefined) this.scratch = new WriteScratch(WRITE_SCRATCH_BYTES);
    this.db = new Database(kv, options, this.logger, { exclusive: (fn) => this.exclusive(fn), recover: (fresh) => this.recover(fresh) });
    this.meta = new MetaStore({ read: (fn) => this.withKv(fn), write: (ops) => this.write(ops), snapshot: () => this.startupMeta });
    this.meta.setPacking('log/', LOG_META_PACKING);
  }

  static async open(options: LogStoreOptions): Promise<LogStore> {
    const logger = options.logger ?? silentLogger;
    // Before LevelDB opens: opening replays its write-ahead log into a table and deletes it.
    const clean = options.location === undefined ? undefined : takeCleanShutdown(options.location);
    const kv = await openDatabaseKv(options);
    const snapshot = options.location === undefined ? undefined : takeMetaSnapshot(options.location, clean?.metaSnapshotCrc32);
    let opened: OpenedMarker;
    let store: LogStore;
    try {
      opened =
        options.location === undefined
          ? { marker: undefined, tails: new Map(), times: new Map(), digest: undefined }
          : TailMarker.open(options.location, options.sync, logger);
      store = new LogStore(kv, options, opened.marker);
    } catch (err) {
      snapshot?.close();
      await kv.close().catch(() => undefined);
      throw err;
    }
    const { marker, tails } = opened;
    // the marker must be the very one the shutdown left, every slot readable and written
    const trusted = clean !== undefined && opened.marker?.intact === true && opened.digest === clean.markerCrc32;
    const known: KnownTails | undefined = trusted ? { times: opened.times, check: clean.walShards } : undefined;
    try {
      // an upgrade rewrote the metadata the snapshot copies
      const startupMeta = (await openLayout(kv, store.logger)) ? undefined : snapshot;
      const recovered = await loadLogs(kv, tails, store.logger, known, startupMeta);
      store.startupMeta = startupMeta;
      store.lossReported = recovered.lossReported;
      store.adopt(recovered.logs, tails, opened.times);
    } catch (err) {
      snapshot?.close();
      await marker?.close();
      await kv.close().catch(() => undefined);
      throw err;
    }
    // an upgrade skipped it
    if (store.startupMeta !== snapshot) snapshot?.close();
    return store;
  }

  /**
   * Makes recovered state the store's: existing state objects are updated in place (waiters and
   * readers hold on to them), logs gone from the database are dropped (a delete whose write
   * failed may have been stored after all), and the tail marker learns tails it lags behind.
   */
  private adopt(recovered: Map<number, LogState>, vouched: ReadonlyMap<number, number>, timed?: ReadonlyMap<number, number>): void {
    // At open nothing holds a state object yet: recovery's map becomes the store's as it is
    // (copying 100k entries into a second map was a tenth of the store's start-up).
    const atOpen = this.logs.size === 0;
    if (atOpen) this.logs = recovered;
    for (const [shardId, log] of this.logs === recovered ? [] : this.logs) {
      if (recovered.has(shardId)) continue;
      this.logs.delete(shardId);
      this.logger.warn({ shardId }, 'a log is gone after reopening the data directory: a delete whose write failed was stored after all');
      wake(log);
    }
    for (const [shardId, fresh] of recovered) {
      // taken over as it is, with no tail for the marker to learn (two lookups per log were 5% of a 100k-log start)
      if (atOpen && fresh === NEVER_WRITTEN) continue;
      const log = this.logs.get(shardId);
      if (log === fresh) {
        // taken over as it is (at open)
      } else if (log && log !== NEVER_WRITTEN) {
        const grew = fresh.tail > log.tail;
        log.trimPoint = fresh.trimPoint;
        log.tail = fresh.tail;
        log.assigned = fresh.assigned;
        log.lastTimeMs = fresh.lastTimeMs;
        // the shared empty list is frozen: this log may be written again
        log.segments = fresh === NEVER_WRITTEN ? [] : fresh.segments;
        log.openSegmentSealed = fresh.openSegmentSealed;
        if (grew) wake(log);
      } else {
        this.logs.set(shardId, fresh);
      }
      // Recovery made what it found durable (LevelDB writes it to a synced table file). A slot
      // without a time (an older version wrote it) gets one, so the next start needs no read.
      const stale = fresh.tail > (vouched.get(shardId) ?? LSN_BASE) || (timed !== undefined && fresh.tail > LSN_BASE && !timed.has(shardId));
      if (stale) this.marker?.set(shardId, fresh.tail, fresh.lastTimeMs);
    }
    this.marker?.retain(recovered);
  }

  private assertWritable(): void {
    if (this.state !== 'open') throw new StoreError('STORE_CLOSED', 'the store is shutting down');
    if (this.db.failure) throw this.db.failure;
  }

  /** The log's state to read (the shared NEVER_WRITTEN for a log nothing was written to). */
  private log(shardId: number): Readonly<LogState> {
    const log = this.logs.get(shardId);
    if (!log) throw new StoreError('STORE_SHARD_NOT_FOUND', `shard ${shardId} does not exist`);
    return log;
  }

  /** The log's own state, to change or to wait on; undefined when there is no such log. */
  private writable(shardId: number): LogState | undefined {
    const log = this.logs.get(shardId);
    if (log !== NEVER_WRITTEN) return log;
    const own = emptyLog();
    this.logs.set(shardId, own);
    return own;
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
    for (const shardId of shardIds) this.logs.set(shardId, NEVER_WRITTEN);
  }

  /** Deletes logs and their data; `metaOps` are written in the same atomic batch as the log records. */
  async deleteLogs(shardIds: number[], metaOps: MetaOp[]): Promise<void> {
    this.assertWritable();
    const ops: MetaOp[] = [...metaOps];
    const removed: Array<{ shardId: number; log: LogState }> = [];
    for (const shardId of shardIds) {
      const log = this.logs.get(shardId);
      if (!log) continue;
      ops.push({ type: 'del', path: logPath(shardId) });
      for (const seg of log.segments) ops.push({ type: 'del', path: segmentPath(shardId, seg.firstLsn) });
      removed.push({ shardId, log });
    }
    // Appends already queued for these shards fail in the writer once the log is gone.
    for (const { shardId } of removed) this.logs.delete(shardId);
    this.clearing++;
    try {
      try {
        await this.writeMeta(ops);
      } catch (err) {
        for (const { shardId, log } of removed) this.logs.set(shardId, log);
        throw err;
      }
      for (const { shardId, log } of removed) {
        this.marker?.drop(shardId);
        this.cache?.dropShard(shardId);
        wake(log);
        await this.clearRange({ gte: dataKey(shardId, 0), lt: shardEndKey(shardId) });
      }
    } finally {
      this.clearing--;
    }
  }

  private writeMeta(ops: MetaOp[]): Promise<void> {
    return this.write(ops.map(metaOpToKv));
  }

  /** Writes one atomic batch through the writer (in the same LevelDB batch as concurrent appends). */
  private write(ops: KvOp[]): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new StoreError('STORE_CLOSED', 'the store is closed'));
    if (this.db.failure) return Promise.reject(this.db.failure);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!this.writing) void this.drainQueue();
    });
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

  /** Runs `fn` while no group is being written and none starts (the writer waits for it). */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.writing) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.writing = true;
    try {
      return await fn();
    } finally {
      this.writing = false;
      if (this.queue.length > 0) void this.drainQueue();
      else for (const done of this.idle.splice(0)) done();
    }
  }

  private async writeGroup(group: Pending[]): Promise<void> {
    // from now on LevelDB may differ from what the clean shutdown left
    this.endStartupMeta();
    if (this.db.failure || this.state === 'closed') {
      const err = this.db.failure ?? new StoreError('STORE_CLOSED', 'the store is closed');
      for (const p of group) p.reject(err);
      return;
    }
    // The previous group's write has settled: its values were copied by LevelDB.
    this.scratch?.reset();
    const ops: KvOp[] = [];
    const accepted: Array<{ p: PendingAppend; log: LogState; lsn: number; timeMs: number }> = [];
    const writes: PendingWrite[] = [];
    for (const p of group) {
      if ('ops' in p) {
        for (const op of p.ops) ops.push(op);
        writes.push(p);
        continue;
      }
      const log = this.writable(p.shardId);
      if (!log) {
        p.reject(new StoreError('STORE_SHARD_NOT_FOUND', `shard ${p.shardId} does not exist`));
        continue;
      }
      const lsn = ++log.assigned;
      // Store time never goes backwards within a shard, so time search can bisect.
      const timeMs = Math.max(Date.now(), log.lastTimeMs);
      log.lastTimeMs = timeMs;
      const value = encodeEntry({ ...p.entry, timeMs }, this.scratch?.alloc);
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
    if (accepted.length === 0 && writes.length === 0) return;
    try {
      await this.db.batch(ops, this.options.sync);
    } catch (failure) {
      // The store's write failure (database.ts reopens). LSNs handed out to this group's appends
      // were not acknowledged: the reopened store may assign them again (if the batch did not
      // reach the log), which no reader can notice.
      for (const { p } of accepted) p.reject(failure);
      for (const p of writes) p.reject(failure);
      return;
    }
    /** each grown log with its shard id */
    const grown = new Map<LogState, number>();
    for (const { p, log, lsn, timeMs } of accepted) {
      log.tail = lsn;
      grown.set(log, p.shardId);
      this.cache?.add({ shardId: p.shardId, lsn, timeMs, ...p.entry });
      p.resolve({ lsn, timeMs });
    }
    for (const p of writes) p.resolve();
    for (const [log, shardId] of grown) {
      // the group's last batch of the log is its tail: lastTimeMs is that batch's time
      this.marker?.set(shardId, log.tail, log.lastTimeMs);
      wake(log);
    }
  }

  /** Runs a read against the current database (see database.ts). */
  private withKv<T>(fn: (kv: Kv) => Promise<T>): Promise<T> {
    return this.db.withKv(fn);
  }

  /**
   * Start-up has read what it needs: metadata reads go to LevelDB from now on (and the copy a
   * clean shutdown left is freed).
   */
  startupDone(): void {
    this.endStartupMeta();
  }

  private endStartupMeta(): void {
    this.startupMeta?.close();
    this.startupMeta = undefined;
  }

  /** State from a reopened database; runs while the writer is held. */
  private async recover(kv: Kv): Promise<() => void> {
    this.endStartupMeta();
    // Everything acknowledged must be there: the in-memory tails vouch for it.
    const vouched = new Map([...this.logs].map(([shardId, log]) => [shardId, log.tail]));
    const recovered = await loadLogs(kv, vouched, this.logger);
    return () => {
      // what the reopened database holds is the truth now, checks included: nothing from before is served from memory
      this.cache?.clear();
      if (recovered.lossReported) this.lossReported = true;
      this.adopt(recovered.logs, vouched);
    };
  }

  /** The store's write failure while it lasts (until the database is reopened). */
  get writeFailure(): StoreError | undefined {
    return this.db.failure;
  }

  /** Last readable LSN of a shard (LSN_BASE if nothing was ever appended). */
  tail(shardId: number): number {
    return this.log(shardId).tail;
  }

  /** First LSN that may still be read. */
  head(shardId: number): number {
    return this.log(shardId).trimPoint + 1;
  }

  /**
   * Reads batches with fromLsn <= lsn <= toLsn in LSN order, at most
   * `maxBatches` and about `maxBytes` (always at least one batch if any).
   */
  async read(shardId: number, fromLsn: number, toLsn: number, maxBatches: number, maxBytes: number): Promise<StoredBatch[]> {
    const log = this.log(shardId);
    const from = Math.max(fromLsn, log.trimPoint + 1);
    const to = Math.min(toLsn, log.tail);
    if (from > to || maxBatches <= 0) return [];
    const cached = this.cache?.read(shardId, from, to, maxBatches, maxBytes);
    if (cached && cached.length > 0) return cached;
    return this.withKv((kv) => readRange(kv, shardId, log, from, to, maxBatches, maxBytes));
  }

  /** First LSN whose store time is >= timeMs; tail + 1 if there is none yet. */
  findLsnByTime(shardId: number, timeMs: number): Promise<number> {
    return findLsnByTime(shardId, this.log(shardId), timeMs, (fn) => this.withKv(fn));
  }

  /** Removes every batch with lsn <= uptoLsn (never past the tail). Returns the new trim point. */
  async trim(shardId: number, uptoLsn: number): Promise<number> {
    if (!Number.isSafeInteger(uptoLsn)) throw new TypeError(`trim of shard ${shardId}: the trim point is ${uptoLsn}`);
    this.assertWritable();
    const found = this.log(shardId);
    const point = Math.min(uptoLsn, found.tail);
    if (point <= found.trimPoint) return found.trimPoint;
    // a log with batches above its trim point was written to: it has its own state
    const log = this.writable(shardId)!;
    const dropped = log.segments.filter((seg) => seg.lastLsn <= point);
    const ops: MetaOp[] = [{ type: 'put', path: logPath(shardId), value: { shardId, trimPoint: point } satisfies LogMeta }];
    for (const seg of dropped) ops.push({ type: 'del', path: segmentPath(shardId, seg.firstLsn) });
    this.clearing++;
    try {
      await this.writeMeta(ops);
      log.trimPoint = point;
      log.segments = log.segments.filter((seg) => seg.lastLsn > point);
      this.cache?.dropUpTo(shardId, point);
      await this.clearRange({ gte: dataKey(shardId, 0), lte: dataKey(shardId, point) });
    } finally {
      this.clearing--;
    }
    return point;
  }

  /** Drops whole segments whose newest batch is older than `cutoffMs` and at most `maxLsn`. */
  async expire(shardId: number, cutoffMs: number, maxLsn = Number.POSITIVE_INFINITY): Promise<void> {
    // NaN compares false with every time, so every segment, the open one included, would go.
    if (!Number.isFinite(cutoffMs)) throw new TypeError(`expire of shard ${shardId}: the cut-off time is ${cutoffMs}`);
    const log = this.logs.get(shardId);
    if (!log) return;
    let upto = 0;
    for (const seg of log.segments) {
      if (seg.lastTimeMs >= cutoffMs || seg.lastLsn > log.tail || seg.lastLsn > maxLsn) break;
      upto = seg.lastLsn;
    }
    if (upto > 0) await this.trim(shardId, upto);
  }

  segments(shardId: number): readonly Segment[] {
    return this.log(shardId).segments;
  }

  /**
   * Deletes a range through the writer, a chunk at a time (appends go on in between). A crash or
   * failure part way leaves data that recovery clears (below a trim point, or of a deleted log).
   */
  private async clearRange(range: KvRange): Promise<void> {
    for (;;) {
      const rows = await this.withKv((kv) => readAll(kv, { ...range, limit: CLEAR_CHUNK_KEYS, values: false }));
      if (rows.length === 0) return;
      await this.write(rows.map(([key]) => ({ type: 'del', key })));
      if (rows.length < CLEAR_CHUNK_KEYS) return;
    }
  }

  /**
   * Resolves when the shard has a readable batch after `afterLsn`, the log is
   * deleted, `timeoutMs` passes or `signal` aborts (see log-state.ts). Returns
   * true when data arrived.
   */
  waitForAppend(shardId: number, afterLsn: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const log = this.writable(shardId);
    if (!log) return Promise.resolve(false);
    return waitForGrowth(log, afterLsn, timeoutMs, signal, () => this.logs.get(shardId) === log);
  }

  /** Writes the metadata snapshot for the next start; undefined if that failed (it then reads LevelDB). */
  private async snapshotMeta(dir: string): Promise<number | undefined> {
    try {
      return await this.withKv((kv) => writeMetaSnapshot(kv, dir, this.meta.packings));
    } catch (err) {
      this.logger.warn({ err }, 'cannot write the metadata snapshot: the next start reads the metadata from the database');
      return undefined;
    }
  }

  /** Waits until every queued write is written (and a reopen under way is done), then closes the database. */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.db.stopReopening();
    while (this.writing) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.state = 'closed';
    for (const log of this.logs.values()) wake(log);
    this.endStartupMeta();
    const clean = this.options.location !== undefined && !this.db.failure && this.clearing === 0 && !this.lossReported;
    // Nothing writes any more: the snapshot is what the next open finds (unless the record naming it is missing).
    const snapshotDigest = clean ? await this.snapshotMeta(this.options.location!) : undefined;
    const digest = await this.marker?.close(clean);
    await this.db.close();
    if (clean && digest !== undefined) {
      try {
        recordCleanShutdown(this.options.location!, digest, snapshotDigest);
      } catch (err) {
        this.logger.warn({ err }, 'cannot record the clean shutdown: the next start reads every shard\'s newest batch');
      }
    }
  }
}
