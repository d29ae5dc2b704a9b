/**
 * The delivery state machine of one subscription: its shards' read
 * positions and ack windows, its consumers and who owns which shard, the
 * unacked budget (maxUnackedRecords) and redelivery after the ack timeout.
 *
 * Per shard with an owner, one async "pump" reads the log in chunks and
 * pushes one batch per message to the owner; it reads only when the owner's
 * transport has room and the subscription is under its unacked limit, and
 * waits on the log's tail otherwise. Shard assignment never happens inside a
 * pump: joins and leaves reassign synchronously, so a full unacked budget
 * cannot block it (upstream PR #1259).
 *
 * An idle subscription (no consumer) has no pumps: only its committed
 * offsets in memory. Deadlines (redeliveries, nack retries, consumers that
 * stopped reading) are kept here and woken by the manager's one timer
 * (wakeups.ts), so attached consumers with nothing outstanding cost nothing.
 *
 * Persistence is not done here: commits are reported through `onCommit` and
 * the manager writes them.
 */
import type { Logger } from 'pino';
import type { LogStore, StoredBatch } from '../../../storage/index.js';
import { alreadyExists, ErrorCode, type HStreamError } from '../../errors.js';
import { compress, decodeRecords, encodeRecords } from '../../records.js';
import { ShardAckWindow } from './ack-window.js';
import { ShardAssignment, type ShardMove } from './assignment.js';
import { Consumer, type ConsumerOptions, type DeliveredBatch } from './consumer.js';
import { DeadlineQueue } from './deadline-queue.js';
import type { Wakeable, Wakeups } from './wakeups.js';

export type SubscriptionOffsetName = 'EARLIEST' | 'LATEST';

/** What is persisted under `sub/<id>`. */
export interface SubscriptionMeta {
  subscriptionId: string;
  /** internal id of the stream (StreamInfo.id): follows the stream even after it is archived */
  streamId: number;
  /** the stream's name at creation */
  streamName: string;
  ackTimeoutSeconds: number;
  maxUnackedRecords: number;
  offset: SubscriptionOffsetName;
  creationTimeMs: number;
}

/** Upstream client defaults, used when a subscription was created with a value ≤ 0 (not validated upstream). */
export const DEFAULT_ACK_TIMEOUT_SECONDS = 60;
export const DEFAULT_MAX_UNACKED_RECORDS = 10_000;

/** One store read: at most this many batches / bytes (a pump holds up to two: the one being sent, the next). */
export const READ_CHUNK_BATCHES = 100;
export const READ_CHUNK_BYTES = 2 * 1024 * 1024;
const RETRY_DELAY_MS = 1_000;
/** Stale deadline entries are swept once there are this many more entries than pending batches. */
const COMPACT_SLACK = 4096;

/** An ack id as it comes off the wire (uint64 fields as decimal strings). */
export interface AckId {
  shardId: string | number;
  batchId: string | number;
  batchIndex: number;
}

export interface ShardState {
  readonly shardId: number;
  readonly window: ShardAckWindow;
  /** next LSN the pump reads */
  next: number;
  /** bumped by every rewind: deliveries and deadlines of an older epoch are void */
  epoch: number;
  owner: Consumer | undefined;
  /** aborts the running pump of this shard */
  pump: AbortController | undefined;
}

/** A chunk read before it was needed, valid only while the shard is still read from `from` in the same epoch. */
interface ReadAhead {
  from: number;
  epoch: number;
  batches: Promise<StoredBatch[]>;
}

interface PendingDelivery {
  dueMs: number;
  shard: ShardState;
  epoch: number;
  lsn: number;
  /** who got it last; undefined for a delivery that still has to happen */
  consumer: Consumer | undefined;
  /** superseded by another entry for the same batch */
  dead: boolean;
}

export interface SubscriptionDeps {
  store: LogStore;
  log: Logger;
  /** the manager's one timer for every subscription's deadlines */
  wakeups: Wakeups;
  /** a shard's commit point moved (the manager persists it) */
  onCommit(sub: Subscription, shard: ShardState): void;
  /** records were handed to a consumer (first deliveries and redeliveries) */
  onDeliver(records: number): void;
}

export interface ConsumerInfo {
  name: string;
  uri: string;
  userAgent: string;
}

export class Subscription implements Wakeable {
  readonly meta: SubscriptionMeta;
  readonly shards = new Map<number, ShardState>();
  readonly ackTimeoutMs: number;
  readonly maxUnacked: number;
  /** set by the manager while a delete is under way */
  deleting = false;

  readonly #deps: SubscriptionDeps;
  #logger: Logger | undefined;
  readonly #assignment: ShardAssignment;
  readonly #consumers = new Map<string, Consumer>();
  /** attached consumers whose transport stayed full for a whole ack timeout: they own no shards until it drains */
  readonly #benched = new Set<Consumer>();
  readonly #pending = new DeadlineQueue<PendingDelivery>();
  /** the newest pending entry per batch ("shardId:lsn"), so a nack finds it without a scan */
  readonly #latest = new Map<string, PendingDelivery>();
  readonly #roomWaiters = new Set<() => void>();
  #unacked = 0;
  #checking = false;
  /** a wake-up came while a check was running: check again when it ends */
  #recheck = false;
  #stopped = false;

  constructor(meta: SubscriptionMeta, committed: ReadonlyMap<number, number>, deps: SubscriptionDeps) {
    this.meta = meta;
    this.#deps = deps;
    this.ackTimeoutMs = (meta.ackTimeoutSeconds > 0 ? meta.ackTimeoutSeconds : DEFAULT_ACK_TIMEOUT_SECONDS) * 1000;
    this.maxUnacked = meta.maxUnackedRecords > 0 ? meta.maxUnackedRecords : DEFAULT_MAX_UNACKED_RECORDS;
    for (const [shardId, lsn] of committed) {
      this.shards.set(shardId, { shardId, window: new ShardAckWindow(lsn), next: lsn + 1, epoch: 0, owner: undefined, pump: undefined });
    }
    this.#assignment = new ShardAssignment([...this.shards.keys()]);
  }

  /** Created on first use: idle subscriptions should not each carry a child logger. */
  get #log(): Logger {
    return (this.#logger ??= this.#deps.log.child({ subscriptionId: this.meta.subscriptionId }));
  }

  get id(): string {
    return this.meta.subscriptionId;
  }

  /** Delivered records not acked yet, over all shards. */
  get unackedRecords(): number {
    return this.#unacked;
  }

  get consumerCount(): number {
    return this.#consumers.size;
  }

  consumers(): ConsumerInfo[] {
    return [...this.#consumers.values()].map((c) => ({ name: c.name, uri: c.uri, userAgent: c.userAgent }));
  }

  /** Owned shards per consumer name (for tests and admin output). */
  assignment(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const name of this.#assignment.consumers) out[name] = this.#assignment.shardsOf(name);
    return out;
  }

  /** Committed LSN per shard, ascending by shard id. */
  committed(): Array<{ shardId: number; lsn: number }> {
    return [...this.shards.values()].map((s) => ({ shardId: s.shardId, lsn: s.window.committedLsn })).sort((a, b) => a.shardId - b.shardId);
  }

  // ---------------------------------------------------------------- consumers

  /** Registers a consumer and gives it shards. Duplicate name → ALREADY_EXISTS (code 0, ConsumerExists). */
  attach(options: ConsumerOptions): Consumer {
    if (this.#stopped) throw new TypeError('attach to a stopped subscription');
    if (this.#consumers.has(options.name)) {
      throw alreadyExists(ErrorCode.InternalError, 'ConsumerExists', { extra: options.name });
    }
    const consumer = new Consumer(options);
    consumer.onUnblocked = () => this.#unbench(consumer);
    // a consumer whose transport stays full for an ack timeout is benched: look again then
    consumer.onBlocked = () => this.#deps.wakeups.wake(this, Date.now() + this.ackTimeoutMs);
    this.#consumers.set(consumer.name, consumer);
    this.#applyMoves(this.#assignment.join(consumer.name));
    this.#log.debug({ consumer: consumer.name, shards: this.#assignment.shardsOf(consumer.name) }, 'consumer attached');
    // The edge detaches when its call ends; this is the fallback. It waits a turn so acks the call
    // already received are applied first (detaching rewinds the shards, and later acks would be lost).
    const fallback = () => setImmediate(() => this.detach(consumer));
    if (consumer.signal.aborted) fallback();
    else consumer.signal.addEventListener('abort', fallback, { once: true });
    return consumer;
  }

  /**
   * Removes a consumer at once. The shards it owned are rewound to their
   * commit point and re-read by their new owners, so its unacked records
   * reach another consumer now rather than after the ack timeout; batches it
   * still held on shards it no longer owned are redelivered right away.
   */
  detach(consumer: Consumer): void {
    if (this.#consumers.get(consumer.name) !== consumer) return;
    this.#consumers.delete(consumer.name);
    this.#benched.delete(consumer);
    if (this.#stopped) return;
    this.#release(consumer);
    if (this.#consumers.size === 0) {
      this.#deps.wakeups.cancel(this);
      this.#pending.clear();
      this.#latest.clear();
    }
    this.#log.debug({ consumer: consumer.name }, 'consumer detached');
    this.#wakeRoom();
  }

  /** Takes every shard away from a consumer and gets what it held unacked to the new owners now. */
  #release(consumer: Consumer): void {
    const moves = this.#assignment.leave(consumer.name);
    for (const move of moves) {
      const shard = this.shards.get(move.shardId)!;
      this.#stopPump(shard);
      this.#rewind(shard);
    }
    this.#applyMoves(moves);
    const held = [...this.#pending.entries()].filter((e) => e.consumer === consumer && !e.dead && e.epoch === e.shard.epoch);
    for (const entry of held) {
      entry.dead = true;
      this.#pending.pushUrgent({ ...entry, dead: false, consumer: undefined, dueMs: 0 });
    }
    this.#armDeadlines();
  }

  /**
   * A consumer that has not taken a single message for a whole ack timeout
   * (connected, but not reading) is benched while another consumer is
   * healthy: its shards and unacked records go to the others, and it gets
   * shards again once its transport drains.
   */
  #benchStalled(nowMs: number): void {
    if (this.#consumers.size < 2) return;
    const stalled = (c: Consumer) => c.blockedForMs(nowMs) >= this.ackTimeoutMs;
    for (const consumer of this.#consumers.values()) {
      if (this.#benched.has(consumer) || !stalled(consumer) || this.#assignment.shardsOf(consumer.name).length === 0) continue;
      const healthy = [...this.#consumers.values()].some((c) => c !== consumer && !this.#benched.has(c) && !stalled(c));
      if (!healthy) return;
      this.#log.warn({ consumer: consumer.name, blockedMs: consumer.blockedForMs(nowMs) }, 'consumer stopped reading; its shards go to others');
      this.#benched.add(consumer);
      this.#release(consumer);
      this.#wakeRoom();
    }
  }

  #unbench(consumer: Consumer): void {
    if (!this.#benched.delete(consumer) || this.#stopped || this.#consumers.get(consumer.name) !== consumer) return;
    this.#log.info({ consumer: consumer.name }, 'consumer reads again; it takes shards again');
    this.#applyMoves(this.#assignment.join(consumer.name));
  }

  /** Ends every consumer's call with `err` (force delete). */
  kickAll(err: HStreamError): void {
    for (const consumer of [...this.#consumers.values()]) consumer.kick(err);
  }

  /** Stops all delivery for good (delete, shutdown). Committed offsets stay readable. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#deps.wakeups.cancel(this);
    for (const shard of this.shards.values()) {
      this.#stopPump(shard);
      shard.owner = undefined;
      if (shard.window.commit() !== undefined) this.#deps.onCommit(this, shard);
    }
    this.#pending.clear();
    this.#latest.clear();
    for (const wake of [...this.#roomWaiters]) wake();
  }

  // --------------------------------------------------------------------- acks

  /** Applies acks from a consumer; unknown, duplicate, out-of-range and already committed ids are ignored. */
  ack(ids: readonly AckId[]): void {
    if (this.#stopped || ids.length === 0) return;
    let newlyAcked = 0;
    let shard: ShardState | undefined;
    let shardKey: string | number | undefined;
    let touched: ShardState[] | undefined;
    // Clients ack a delivery's ids in order: runs of consecutive indexes of one batch go to the window as one range.
    for (let i = 0; i < ids.length; ) {
      const id = ids[i]!;
      if (id.shardId !== shardKey) {
        shardKey = id.shardId;
        shard = this.shards.get(typeof shardKey === 'number' ? shardKey : Number(shardKey));
        if (shard) {
          touched ??= [];
          if (!touched.includes(shard)) touched.push(shard);
        }
      }
      let last = i;
      while (last + 1 < ids.length) {
        const nextId = ids[last + 1]!;
        if (nextId.shardId !== id.shardId || nextId.batchId !== id.batchId || nextId.batchIndex !== ids[last]!.batchIndex + 1) break;
        last++;
      }
      if (shard !== undefined) {
        const lsn = typeof id.batchId === 'number' ? id.batchId : Number(id.batchId);
        newlyAcked += last === i ? (shard.window.ack(lsn, id.batchIndex) ? 1 : 0) : shard.window.ackRange(lsn, id.batchIndex, ids[last]!.batchIndex);
      }
      i = last + 1;
    }
    if (newlyAcked === 0 || !touched) return;
    this.#unacked -= newlyAcked;
    for (const s of touched) {
      if (s.window.commit() !== undefined) this.#deps.onCommit(this, s);
    }
    this.#wakeRoom();
  }

  // ------------------------------------------------------------------ delivery

  #applyMoves(moves: ShardMove[]): void {
    for (const move of moves) {
      const shard = this.shards.get(move.shardId)!;
      this.#stopPump(shard);
      shard.owner = move.to === undefined ? undefined : this.#consumers.get(move.to);
      if (shard.owner) this.#startPump(shard, shard.owner);
    }
  }

  #stopPump(shard: ShardState): void {
    shard.pump?.abort();
    shard.pump = undefined;
  }

  #startPump(shard: ShardState, owner: Consumer): void {
    const controller = new AbortController();
    shard.pump = controller;
    this.#pumpLoop(shard, owner, controller.signal).catch((err: unknown) => {
      this.#log.error({ err, shardId: shard.shardId }, 'subscription delivery failed');
    });
  }

  /** Forgets what was delivered past the commit point so the shard is read again from there. */
  #rewind(shard: ShardState): void {
    if (shard.window.commit() !== undefined) this.#deps.onCommit(this, shard);
    this.#unacked -= shard.window.reset();
    shard.epoch++;
    shard.next = shard.window.committedLsn + 1;
  }

  async #pumpLoop(shard: ShardState, owner: Consumer, signal: AbortSignal): Promise<void> {
    const store = this.#deps.store;
    const { shardId } = shard;
    // The next chunk, read while this one is being sent: reads run on LevelDB's threads, and a pump
    // that only read once the previous chunk was out left the transport idle for every read.
    let ahead: ReadAhead | undefined;
    while (!signal.aborted) {
      if (this.#unacked >= this.maxUnacked) {
        await this.#waitForRoom(signal);
        continue;
      }
      // Read only what the transport can take now.
      await owner.ready(signal);
      if (signal.aborted) return;
      const epoch = shard.epoch;
      // Every batch holds at least one record, so more batches than the room left cannot be sent.
      const room = this.maxUnacked - this.#unacked;
      let batches: StoredBatch[];
      try {
        const readAhead = ahead?.from === shard.next && ahead.epoch === epoch ? ahead.batches : undefined;
        ahead = undefined;
        batches = await (readAhead ?? store.read(shardId, shard.next, Number.MAX_SAFE_INTEGER, Math.min(READ_CHUNK_BATCHES, Math.max(1, room)), READ_CHUNK_BYTES));
      } catch (err) {
        if (signal.aborted) return;
        if (!store.hasLog(shardId)) {
          this.#log.warn({ shardId }, 'shard log is gone; delivery of this shard stops');
          return;
        }
        this.#log.error({ err, shardId }, 'subscription read failed; retrying');
        await delay(RETRY_DELAY_MS, signal);
        continue;
      }
      if (signal.aborted) return;
      if (shard.epoch !== epoch) continue;
      if (batches.length === 0) {
        if (!store.hasLog(shardId)) return;
        // Nothing in [max(next, head), tail]: wait for the tail to pass that point. Appends, a
        // deleted log and closing the store wake the wait, so it needs no timer of its own.
        await store.waitForAppend(shardId, Math.max(shard.next, store.head(shardId)) - 1, Number.POSITIVE_INFINITY, signal);
        continue;
      }
      const after = batches[batches.length - 1]!.lsn + 1;
      if (after <= store.tail(shardId)) {
        const next = store.read(shardId, after, Number.MAX_SAFE_INTEGER, READ_CHUNK_BATCHES, READ_CHUNK_BYTES);
        next.catch(() => undefined); // a failed read-ahead is read again (and reported) by the loop
        ahead = { from: after, epoch, batches: next };
      }
      for (const batch of batches) {
        if (signal.aborted || shard.epoch !== epoch || this.#unacked >= this.maxUnacked) break;
        shard.next = batch.lsn + 1;
        if (!shard.window.track(batch.lsn, batch.batchSize)) continue;
        this.#unacked += batch.batchSize;
        const written = await owner.push(batch, signal);
        if (written) this.#deps.onDeliver(batch.batchSize);
        this.#delivered(shard, epoch, batch.lsn, written ? owner : undefined);
      }
    }
  }

  /** After a push: start the ack timer, or, if the consumer vanished first, deliver again at once. */
  #delivered(shard: ShardState, epoch: number, lsn: number, consumer: Consumer | undefined): void {
    if (this.#stopped || shard.epoch !== epoch) return;
    if (consumer) {
      const entry: PendingDelivery = { dueMs: Date.now() + this.ackTimeoutMs, shard, epoch, lsn, consumer, dead: false };
      this.#pending.push(entry);
      this.#latest.set(`${shard.shardId}:${lsn}`, entry);
    } else {
      this.#pending.pushUrgent({ dueMs: 0, shard, epoch, lsn, consumer: undefined, dead: false });
    }
    this.#armDeadlines();
  }

  /**
   * A consumer could not process a batch it was sent: its still-unacked
   * records go to the shard's owner again after `retryAfterMs` (0: now),
   * instead of after the ack timeout. Ignored when the consumer no longer
   * holds that delivery (acked, or its shard moved since).
   */
  nack(consumer: Consumer, shardId: number, lsn: number, retryAfterMs: number): void {
    if (this.#stopped) return;
    const key = `${shardId}:${lsn}`;
    const entry = this.#latest.get(key);
    if (!entry || entry.dead || entry.consumer !== consumer || entry.epoch !== entry.shard.epoch) return;
    entry.dead = true;
    this.#latest.delete(key);
    const retry: PendingDelivery = { dueMs: Date.now() + Math.max(0, retryAfterMs), shard: entry.shard, epoch: entry.epoch, lsn, consumer: undefined, dead: false };
    if (retryAfterMs <= 0) this.#pending.pushUrgent(retry);
    else this.#pending.pushAnyOrder(retry);
    this.#armDeadlines();
  }

  /** Asks the manager's timer for the earliest pending deadline (cheap when one is already asked for). */
  #armDeadlines(): void {
    if (this.#stopped || this.#consumers.size === 0) return;
    const due = this.#pending.nextDueMs();
    if (due !== undefined) this.#deps.wakeups.wake(this, due);
  }

  #waitForRoom(signal: AbortSignal): Promise<void> {
    if (this.#unacked < this.maxUnacked || signal.aborted || this.#stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.#roomWaiters.delete(done);
        resolve();
      };
      this.#roomWaiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #wakeRoom(): void {
    if (this.#roomWaiters.size === 0 || this.#unacked >= this.maxUnacked) return;
    for (const wake of [...this.#roomWaiters]) wake();
  }

  // ---------------------------------------------------------------- redelivery

  /** Called by the manager's timer at (or after) a deadline this subscription asked for. */
  runDue(nowMs: number): void {
    if (this.#stopped) return;
    this.#benchStalled(nowMs);
    this.#armStallChecks(nowMs);
    if (this.#checking) {
      this.#recheck = true;
      return;
    }
    this.#checking = true;
    this.#redeliverDue()
      .catch((err: unknown) => this.#log.error({ err }, 'redelivery check failed'))
      .finally(() => {
        this.#checking = false;
        if (this.#recheck) {
          this.#recheck = false;
          this.#deps.wakeups.wake(this, Date.now());
        }
        this.#armDeadlines();
      });
  }

  /** Consumers still full but not stalled yet: look again when they would be. */
  #armStallChecks(nowMs: number): void {
    if (this.#consumers.size < 2) return;
    for (const consumer of this.#consumers.values()) {
      const blocked = consumer.blockedForMs(nowMs);
      if (blocked > 0 && !this.#benched.has(consumer)) this.#deps.wakeups.wake(this, nowMs + Math.max(1, this.ackTimeoutMs - blocked));
    }
  }

  async #redeliverDue(): Promise<void> {
    for (;;) {
      const entry = this.#pending.pollDue(Date.now());
      if (!entry || this.#stopped) break;
      await this.#redeliver(entry);
    }
    if (this.#pending.size > COMPACT_SLACK) {
      let pendingBatches = 0;
      for (const shard of this.shards.values()) pendingBatches += shard.window.pendingBatches;
      if (this.#pending.size > pendingBatches + COMPACT_SLACK) {
        const live = (e: PendingDelivery) => !e.dead && e.epoch === e.shard.epoch && (e.shard.window.unackedIndexes(e.lsn)?.length ?? 0) > 0;
        this.#pending.compact(live);
        for (const [key, e] of this.#latest) if (!live(e)) this.#latest.delete(key);
      }
    }
  }

  /**
   * Sends the still-unacked records of one batch to its shard's current
   * owner: the stored batch as is when none was acked, else just those
   * records repacked (same compression, publishTime and RecordIds).
   */
  async #redeliver(entry: PendingDelivery): Promise<void> {
    const { shard, epoch, lsn } = entry;
    const key = `${shard.shardId}:${lsn}`;
    if (this.#latest.get(key) === entry) this.#latest.delete(key);
    if (entry.dead || shard.epoch !== epoch || !shard.owner) return;
    if (!shard.window.unackedIndexes(lsn)?.length) return;
    let stored: StoredBatch | undefined;
    try {
      [stored] = await this.#deps.store.read(shard.shardId, lsn, lsn, 1, Number.MAX_SAFE_INTEGER);
    } catch (err) {
      if (this.#stopped || !this.#deps.store.hasLog(shard.shardId)) return;
      this.#log.error({ err, shardId: shard.shardId, lsn }, 'redelivery read failed; retrying');
      this.#pending.pushAnyOrder({ ...entry, dueMs: Date.now() + RETRY_DELAY_MS });
      this.#armDeadlines();
      return;
    }
    if (this.#stopped || shard.epoch !== epoch) return;
    const unacked = shard.window.unackedIndexes(lsn);
    if (!unacked?.length) return;
    if (!stored || stored.lsn !== lsn) {
      // Trimmed away meanwhile: a gap counts as acked, so the commit point can pass it.
      let acked = 0;
      for (const i of unacked) if (shard.window.ack(lsn, i)) acked++;
      this.#unacked -= acked;
      if (shard.window.commit() !== undefined) this.#deps.onCommit(this, shard);
      this.#wakeRoom();
      return;
    }
    const target = shard.owner;
    if (!target) return;
    const batch = unacked.length === stored.batchSize ? stored : this.#subset(stored, unacked);
    // Cancelled with the owner's pump: if the shard moves while this waits for room, the batch
    // goes to the new owner instead of waiting for a transport that may never drain.
    void target.push(batch, shard.pump?.signal).then((written) => {
      if (written) this.#deps.onDeliver(unacked.length);
      this.#delivered(shard, epoch, lsn, written ? target : undefined);
    });
  }

  #subset(stored: StoredBatch, indexes: number[]): DeliveredBatch {
    try {
      const records = decodeRecords(stored.compression, stored.payload);
      if (records.length !== stored.batchSize) throw new Error(`batch holds ${records.length} records, expected ${stored.batchSize}`);
      const payload = compress(stored.compression, encodeRecords(indexes.map((i) => records[i]!)));
      return { ...stored, payload, batchSize: indexes.length, indexes };
    } catch (err) {
      // Cannot look inside the batch: send it whole (acked records come again; at-least-once holds).
      this.#log.warn({ err, shardId: stored.shardId, lsn: stored.lsn }, 'cannot repack a partly acked batch; redelivering it whole');
      return stored;
    }
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
