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
 * A failed write makes the store refuse every later write (LevelDB itself
 * does the same after a failed sync): the outcome of the failed batch is
 * unknown, and after a failed unsynced write LevelDB's log may end in a torn
 * record that later records would follow (recovery drops the rest of a block
 * after a bad record), so nothing more may be written to that database. The
 * store then reopens the database in the background (backoff 100 ms doubling
 * to 5 s, once there is room to: see reopenBlocker), rebuilds the logs' state
 * from it and accepts writes again. The LogStore object and its logs' state
 * objects stay the same, so readers, waiters and subscriptions carry on;
 * reads use the old database until the swap and wait for it during it.
 *
 * Acknowledged tails are also kept in a small file outside LevelDB (see
 * tail-marker.ts): when LevelDB recovers less than was acknowledged, the
 * missing batches read as STORE_CORRUPTION and new appends continue above.
 *
 * Must not import from src/ or sql/.
 */
import { decodeEntry, encodeEntry, entryTimeMs, type BatchEntry } from './codec.js';
import { StoreError } from './errors.js';
import { dataKey, decodeDataKey, shardEndKey } from './keys.js';
import { openKv, readAll, reopenBlocker, type Kv, type KvOp, type KvRange } from './kv.js';
import { openLayout } from './layout.js';
import { silentLogger, type StoreLogger } from './logger.js';
import { listMeta, MetaStore, metaOpToKv, type MetaOp } from './meta-store.js';
import { firstSegmentAtOrAfter, segmentFor, segmentPath, segmentPrefix, type Segment, type SegmentPolicy } from './segment.js';
import { TailCache } from './tail-cache.js';
import { TailMarker } from './tail-marker.js';
import { WriteScratch } from './write-scratch.js';

/** LSNs start above 2^32 like LogDevice's (epoch 1, esn 1): ids keep a constant decimal width for a long time. */
export const LSN_BASE = 2 ** 32;
export const FIRST_LSN = LSN_BASE + 1;
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

/** Other writes (metadata, deletes) that share the writer's batches. */
interface PendingWrite {
  ops: KvOp[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

type Pending = PendingAppend | PendingWrite;

const logPath = (shardId: number) => `log/${shardId}`;
const READ_HIGH_WATER_MARK_BYTES = 1024 * 1024;
/** Deletes of a trim or a dropped log go through the writer in batches of this many keys. */
const CLEAR_CHUNK_KEYS = 2000;
const DEFAULT_REOPEN_BACKOFF_MS = { first: 100, max: 5000 };
/** While the database cannot be reopened, say why at most this often. */
const BLOCKED_LOG_INTERVAL_MS = 60_000;

export class LogStore {
  readonly meta: MetaStore;
  private readonly logs = new Map<number, LogState>();
  private readonly logger: StoreLogger;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private writing = false;
  private idle: Array<() => void> = [];
  private failure: StoreError | undefined;
  private failedAt = 0;
  private reopenTimer: NodeJS.Timeout | undefined;
  private blockedLoggedAt = 0;
  /** false while a reopen after a write failure has closed the database and not opened it again */
  private kvOpen = true;
  /** set while the database is being swapped: reads wait for it */
  private gate: Promise<void> | undefined;
  private activeReads = 0;
  private readsDrained: (() => void) | undefined;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private readonly cache: TailCache | undefined;
  /** framing memory reused by every write group; on disk only (see write-scratch.ts) */
  private readonly scratch: WriteScratch | undefined;

  private constructor(
    private kv: Kv,
    private readonly options: LogStoreOptions,
    private readonly marker: TailMarker | undefined,
  ) {
    this.logger = options.logger ?? silentLogger;
    // an in-memory store holds every batch in memory already
    if (options.location !== undefined && (options.tailCacheBytes ?? 0) > 0) this.cache = new TailCache(options.tailCacheBytes!);
    if (options.location !== undefined) this.scratch = new WriteScratch(WRITE_SCRATCH_BYTES);
    this.meta = new MetaStore({ read: (fn) => this.withKv(fn), write: (ops) => this.write(ops) });
  }

  static async open(options: LogStoreOptions): Promise<LogStore> {
    const kv = await openWrapped(options);
    const { marker, tails } =
      options.location === undefined
        ? { marker: undefined, tails: new Map<number, number>() }
        : TailMarker.open(options.location, options.sync, options.logger ?? silentLogger);
    const store = new LogStore(kv, options, marker);
    try {
      await openLayout(kv, store.logger);
      store.adopt(await store.loadLogs(kv, tails), tails);
    } catch (err) {
      await marker?.close();
      await kv.close().catch(() => undefined);
      throw err;
    }
    return store;
  }

  /**
   * Rebuilds each log's state from `kv`: its tail is the last key in its range, or what `vouched`
   * (acknowledged tails: the tail marker at open, the in-memory tails at a reopen) says if that
   * is more. Batches between are acknowledged data that LevelDB lost (a damaged write-ahead log
   * record at its end leaves no hole to see): they read as missing, and their LSNs are not reused.
   */
  private async loadLogs(kv: Kv, vouched: ReadonlyMap<number, number>): Promise<Map<number, LogState>> {
    const logs = new Map<number, LogState>();
    for (const { value: meta } of await listMeta<LogMeta>(kv, 'log/')) {
      const segments = (await listMeta<Segment>(kv, segmentPrefix(meta.shardId))).map((row) => row.value);
      const [last] = await readAll(kv, {
        gte: dataKey(meta.shardId, 0),
        lt: shardEndKey(meta.shardId),
        reverse: true,
        limit: 1,
      });
      const lastLsn = last ? decodeDataKey(last[0]).lsn : LSN_BASE;
      let tail = Math.max(lastLsn, meta.trimPoint, LSN_BASE);
      const acknowledged = vouched.get(meta.shardId) ?? LSN_BASE;
      if (acknowledged > tail) {
        this.logger.error(
          { shardId: meta.shardId, firstLost: tail + 1, lastLost: acknowledged, batches: acknowledged - tail },
          `acknowledged batches ${tail + 1}..${acknowledged} of shard ${meta.shardId} are missing from the data directory ` +
            `(LevelDB recovered its log only up to ${tail}): reads of them fail with data loss, new appends continue at ${acknowledged + 1}`,
        );
        tail = acknowledged;
      }
      const lastTimeMs = last ? entryTimeMs(last[1]) : 0;
      const open = segments[segments.length - 1];
      if (open && last && lastLsn >= open.firstLsn) {
        // Its stored end is where it was opened (or sealed): the log's last batch is its real end.
        // LSNs are dense, so the batch count is exact; its byte size is not, so it takes no more batches.
        open.lastLsn = lastLsn;
        open.lastTimeMs = lastTimeMs;
        open.batches = lastLsn - open.firstLsn + 1;
      }
      logs.set(meta.shardId, { meta, tail, assigned: tail, lastTimeMs, segments, openSegmentSealed: open !== undefined, waiters: new Set() });
      // A trim is recorded before its data is cleared; finish one a crash interrupted.
      if (meta.trimPoint > LSN_BASE) await kv.clear({ gte: dataKey(meta.shardId, 0), lte: dataKey(meta.shardId, meta.trimPoint) });
    }
    await clearOrphanData(kv, logs);
    return logs;
  }

  /**
   * Makes recovered state the store's: existing state objects are updated in place (waiters and
   * readers hold on to them), logs gone from the database are dropped (a delete whose write
   * failed may have been stored after all), and the tail marker learns tails it lags behind.
   */
  private adopt(recovered: Map<number, LogState>, vouched: ReadonlyMap<number, number>): void {
    for (const [shardId, log] of this.logs) {
      if (recovered.has(shardId)) continue;
      this.logs.delete(shardId);
      this.logger.warn({ shardId }, 'a log is gone after reopening the data directory: a delete whose write failed was stored after all');
      wake(log);
    }
    for (const [shardId, fresh] of recovered) {
      const log = this.logs.get(shardId);
      if (log) {
        const grew = fresh.tail > log.tail;
        log.meta = fresh.meta;
        log.tail = fresh.tail;
        log.assigned = fresh.assigned;
        log.lastTimeMs = fresh.lastTimeMs;
        log.segments = fresh.segments;
        log.openSegmentSealed = fresh.openSegmentSealed;
        if (grew) wake(log);
      } else {
        this.logs.set(shardId, fresh);
      }
      // Recovery made what it found durable (LevelDB writes it to a synced table file).
      if (fresh.tail > (vouched.get(shardId) ?? LSN_BASE)) this.marker?.set(shardId, fresh.tail);
    }
    this.marker?.retain(new Set(recovered.keys()));
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
      this.marker?.drop(log.meta.shardId);
      this.cache?.dropShard(log.meta.shardId);
      wake(log);
      await this.clearRange({ gte: dataKey(log.meta.shardId, 0), lt: shardEndKey(log.meta.shardId) });
    }
  }

  private writeMeta(ops: MetaOp[]): Promise<void> {
    return this.write(ops.map(metaOpToKv));
  }

  /** Writes one atomic batch through the writer (in the same LevelDB batch as concurrent appends). */
  private write(ops: KvOp[]): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new StoreError('STORE_CLOSED', 'the store is closed'));
    if (this.failure) return Promise.reject(this.failure);
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
    if (this.failure || this.state === 'closed') {
      const err = this.failure ?? new StoreError('STORE_CLOSED', 'the store is closed');
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
      const log = this.logs.get(p.shardId);
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
      await this.kv.batch(ops, { sync: this.options.sync });
    } catch (err) {
      // LSNs handed out to this group's appends were not acknowledged: the reopened store may
      // assign them again (if the batch did not reach the log), which no reader can notice.
      const failure = this.fail(err);
      for (const { p } of accepted) p.reject(failure);
      for (const p of writes) p.reject(failure);
      return;
    }
    const grown = new Set<LogState>();
    for (const { p, log, lsn, timeMs } of accepted) {
      log.tail = lsn;
      grown.add(log);
      this.cache?.add({ shardId: p.shardId, lsn, timeMs, ...p.entry });
      p.resolve({ lsn, timeMs });
    }
    for (const p of writes) p.resolve();
    for (const log of grown) {
      this.marker?.set(log.meta.shardId, log.tail);
      wake(log);
    }
  }

  private fail(err: unknown): StoreError {
    if (this.failure) return this.failure;
    const message = `write to the data directory failed: ${(err as Error).message}`;
    this.failure = new StoreError('STORE_IO', message, { cause: err });
    this.failedAt = Date.now();
    if (this.options.location === undefined) {
      this.logger.error({ err }, 'a write to the in-memory store failed: it refuses writes from now on');
    } else {
      this.logger.warn({ err }, 'a write to the data directory failed: writes are refused until the database is reopened');
      this.scheduleReopen(this.backoff().first);
    }
    return this.failure;
  }

  private backoff(): { first: number; max: number } {
    return this.options.reopenBackoffMs ?? DEFAULT_REOPEN_BACKOFF_MS;
  }

  private scheduleReopen(delayMs: number): void {
    if (this.state !== 'open') return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      void this.tryReopen(delayMs);
    }, delayMs);
    this.reopenTimer.unref();
  }

  private async tryReopen(delayMs: number): Promise<void> {
    const location = this.options.location!;
    const next = Math.min(delayMs * 2, this.backoff().max);
    const blocked = await reopenBlocker(location);
    if (this.state !== 'open') return;
    if (blocked) {
      if (Date.now() - this.blockedLoggedAt >= BLOCKED_LOG_INTERVAL_MS) {
        this.blockedLoggedAt = Date.now();
        this.logger.warn({ reason: blocked, location }, 'the data directory cannot be reopened yet: writes are still refused');
      }
      this.scheduleReopen(next);
      return;
    }
    if (!(await this.exclusive(() => this.reopen()))) this.scheduleReopen(next);
  }

  /**
   * Closes the failed database, opens it again and adopts what it holds. Returns false if that
   * failed; the database then stays closed (reads fail too) until the next attempt.
   */
  private async reopen(): Promise<boolean> {
    if (this.state !== 'open' || !this.failure) return true;
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    try {
      if (this.activeReads > 0) await new Promise<void>((resolve) => (this.readsDrained = resolve));
      if (this.kvOpen) {
        this.kvOpen = false;
        await this.kv.close().catch(() => undefined);
      }
      const kv = await openWrapped(this.options);
      // Everything acknowledged must be there: the in-memory tails vouch for it.
      const vouched = new Map([...this.logs].map(([shardId, log]) => [shardId, log.tail]));
      let recovered: Map<number, LogState>;
      try {
        recovered = await this.loadLogs(kv, vouched);
      } catch (err) {
        await kv.close().catch(() => undefined);
        throw err;
      }
      this.kv = kv;
      this.kvOpen = true;
      // what the reopened database holds is the truth now, checks included: nothing from before is served from memory
      this.cache?.clear();
      this.adopt(recovered, vouched);
      this.logger.info({ failedForMs: Date.now() - this.failedAt }, 'the data directory was reopened after a write failure: writes are accepted again');
      this.failure = undefined;
      this.blockedLoggedAt = 0;
      return true;
    } catch (err) {
      this.logger.warn({ err }, 'reopening the data directory failed: reads and writes are refused until it reopens');
      return false;
    } finally {
      this.gate = undefined;
      release();
    }
  }

  /** Runs a read against the current database: waits while it is being swapped, fails if it is not open. */
  private async withKv<T>(fn: (kv: Kv) => Promise<T>): Promise<T> {
    while (this.gate) await this.gate;
    if (this.state === 'closed') throw new StoreError('STORE_CLOSED', 'the store is closed');
    if (!this.kvOpen) throw new StoreError('STORE_IO', 'the data directory is being reopened after a write failure');
    this.activeReads++;
    try {
      return await fn(this.kv);
    } finally {
      if (--this.activeReads === 0 && this.readsDrained) {
        this.readsDrained();
        this.readsDrained = undefined;
      }
    }
  }

  /** The store's write failure while it lasts (until the database is reopened). */
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
    const cached = this.cache?.read(shardId, from, to, maxBatches, maxBytes);
    if (cached && cached.length > 0) return cached;
    return this.withKv(async (kv) => {
      const it = kv.iterator({
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
      // The tail itself may lie above LevelDB's last batch when the tail marker vouches for more.
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
    });
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
      const top = hi;
      const [row] = await this.withKv((kv) => readAll(kv, { gte: dataKey(shardId, mid), lte: dataKey(shardId, top), limit: 1 }));
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
    if (!Number.isSafeInteger(uptoLsn)) throw new TypeError(`trim of shard ${shardId}: the trim point is ${uptoLsn}`);
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
    this.cache?.dropUpTo(shardId, point);
    await this.clearRange({ gte: dataKey(shardId, 0), lte: dataKey(shardId, point) });
    return point;
  }

  /** Drops whole segments whose newest batch is older than `cutoffMs`. */
  async expire(shardId: number, cutoffMs: number): Promise<void> {
    // NaN compares false with every time, so every segment, the open one included, would go.
    if (!Number.isFinite(cutoffMs)) throw new TypeError(`expire of shard ${shardId}: the cut-off time is ${cutoffMs}`);
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
      // Appends, deletes, reopens and close wake waiters: an endless wait needs no timer.
      const timer = Number.isFinite(timeoutMs) ? setTimeout(finish, timeoutMs) : undefined;
      signal?.addEventListener('abort', finish, { once: true });
      log.waiters.add(finish);
    });
  }

  /** Waits until every queued write is written (and a reopen under way is done), then closes the database. */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closing';
    clearTimeout(this.reopenTimer);
    while (this.writing) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.state = 'closed';
    for (const log of this.logs.values()) wake(log);
    await this.marker?.close();
    if (this.kvOpen) {
      this.kvOpen = false;
      await this.kv.close();
    }
  }
}

async function openWrapped(options: LogStoreOptions): Promise<Kv> {
  const kv = await openKv(options.location);
  try {
    return options.wrapKv ? options.wrapKv(kv) : kv;
  } catch (err) {
    await kv.close().catch(() => undefined);
    throw err;
  }
}

/** Removes data of logs whose metadata is gone (a delete interrupted by a crash). */
async function clearOrphanData(kv: Kv, logs: ReadonlyMap<number, LogState>): Promise<void> {
  let from = dataKey(0, 0);
  for (;;) {
    const [first] = await readAll(kv, { gte: from, lt: Buffer.of(0x65), limit: 1 });
    if (!first) return;
    const { shardId } = decodeDataKey(first[0]);
    if (!logs.has(shardId)) await kv.clear({ gte: dataKey(shardId, 0), lt: shardEndKey(shardId) });
    from = dataKey(shardId + 1, 0);
  }
}

function wake(log: LogState): void {
  for (const waiter of [...log.waiters]) waiter();
}
