/**
 * All subscriptions of the node: create / get / list / delete, consumer
 * attach, and persistence of their metadata and committed offsets.
 *
 * Metadata layout (in the store's meta space):
 *   sub/<id>             SubscriptionMeta
 *   ckpt/<id>/<shardId>  committed LSN of that shard (0 = nothing yet)
 *
 * Committed offsets are written at most CHECKPOINT_INTERVAL_MS after they
 * move, and on close. Every metadata write of this module goes through one
 * queue, so a late checkpoint can never resurrect a deleted subscription.
 */
import type { Logger } from 'pino';
import { LSN_BASE, type MetaOp } from '../../../storage/index.js';
import {
  aborted,
  alreadyExists,
  ErrorCode,
  failedPrecondition,
  invalidArgument,
  subscriptionNotFound,
  unavailable,
} from '../../errors.js';
import type { StreamCatalog } from '../streams.js';
import type { Consumer, ConsumerOptions } from './consumer.js';
import { Subscription, type ConsumerInfo, type ShardState, type SubscriptionMeta, type SubscriptionOffsetName } from './subscription.js';
import { Wakeups } from './wakeups.js';

export const CHECKPOINT_INTERVAL_MS = 500;
/** How ListSubscriptions names the stream of a subscription whose stream was force-deleted (upstream's text). */
export const DELETED_STREAM_NAME = '__deleted_stream__';

const subPath = (id: string) => `sub/${id}`;
const ckptPrefix = (id: string) => `ckpt/${id}/`;
const ckptPath = (id: string, shardId: number) => `ckpt/${id}/${shardId}`;

export interface NewSubscription {
  subscriptionId: string;
  streamName: string;
  ackTimeoutSeconds: number;
  maxUnackedRecords: number;
  /** as it came off the wire: 'EARLIEST' / 'LATEST' or an enum number */
  offset: string | number | null | undefined;
}

/** A subscription as listed: its metadata, with the stream name shown to clients. */
export interface SubscriptionView {
  meta: SubscriptionMeta;
  streamName: string;
}

export function parseSubscriptionOffset(value: string | number | null | undefined): SubscriptionOffsetName {
  if (value === 'EARLIEST' || value === 0 || value === null || value === undefined) return 'EARLIEST';
  if (value === 'LATEST' || value === 1) return 'LATEST';
  throw invalidArgument(ErrorCode.SubscriptionInvalidOffset, 'InvalidSubscriptionOffset', { extra: String(value) });
}

export class SubscriptionManager {
  readonly #subs = new Map<string, Subscription>();
  /** records handed to consumers since start, over all subscriptions (the console's delivery rate) */
  deliveredRecords = 0;
  /** ids being created right now */
  readonly #creating = new Set<string>();
  /** streamId → number of subscriptions (including ones being created) */
  readonly #perStream = new Map<number, number>();
  #dirty = new Map<Subscription, Set<number>>();
  #flushTimer: NodeJS.Timeout | undefined;
  #writes: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** one timer for every subscription's deadlines */
  readonly #wakeups = new Wakeups((err) => this.log.error({ err }, 'a subscription deadline check failed'));

  constructor(
    private readonly catalog: StreamCatalog,
    private readonly log: Logger,
    private readonly checkpointIntervalMs = CHECKPOINT_INTERVAL_MS,
  ) {
    catalog.dependents.register({
      kind: 'subscription',
      holdsData: true,
      dependentsOf: (stream) => {
        const names = [...this.#subs.values()].filter((s) => s.meta.streamId === stream.id).map((s) => s.id);
        // one being created counts too: a delete must not drop the logs it is about to read
        const creating = (this.#perStream.get(stream.id) ?? 0) - names.length;
        return creating > 0 ? [...names, `(${creating} being created)`] : names;
      },
    });
  }

  private get store() {
    return this.catalog.store;
  }

  async load(): Promise<void> {
    const committed = new Map<string, Map<number, number>>();
    for (const { path, value } of await this.store.meta.list<number>('ckpt/')) {
      const [, id, shard] = path.split('/');
      if (id === undefined || shard === undefined) continue;
      let m = committed.get(id);
      if (!m) committed.set(id, (m = new Map()));
      m.set(Number(shard), value);
    }
    for (const meta of await this.store.meta.values<SubscriptionMeta>('sub/')) {
      const saved = committed.get(meta.subscriptionId) ?? new Map<number, number>();
      const stream = this.catalog.byStreamId(meta.streamId);
      if (!stream) this.log.warn({ subscriptionId: meta.subscriptionId, streamId: meta.streamId }, 'subscription of a stream that no longer exists');
      const shardIds = stream ? stream.shards.map((s) => s.shardId) : [...saved.keys()];
      const offsets = new Map(shardIds.map((id) => [id, saved.get(id) ?? 0]));
      this.#subs.set(meta.subscriptionId, this.#make(meta, offsets));
      this.#ref(meta.streamId, +1);
    }
    // A crash between deleting the last subscription of a force-deleted stream and dropping its logs leaves
    // an archived stream nobody reads.
    for (const id of this.catalog.archivedStreamIds()) {
      if (!this.#holds(id)) await this.catalog.releaseArchived(id);
    }
    this.log.debug({ subscriptions: this.#subs.size }, 'subscriptions loaded');
  }

  #make(meta: SubscriptionMeta, committed: ReadonlyMap<number, number>): Subscription {
    return new Subscription(meta, committed, {
      store: this.store,
      log: this.log,
      wakeups: this.#wakeups,
      onCommit: (sub, shard) => this.#markDirty(sub, shard),
      onDeliver: (records) => (this.deliveredRecords += records),
    });
  }

  #holds(streamId: number): boolean {
    return (this.#perStream.get(streamId) ?? 0) > 0;
  }

  #ref(streamId: number, delta: number): number {
    const n = (this.#perStream.get(streamId) ?? 0) + delta;
    if (n > 0) this.#perStream.set(streamId, n);
    else this.#perStream.delete(streamId);
    return n;
  }

  /** Drops one reference; the last subscription of a force-deleted stream lets its logs go. */
  async #unref(streamId: number): Promise<void> {
    if (this.#ref(streamId, -1) > 0) return;
    if (this.catalog.byStreamId(streamId)?.archived) {
      try {
        await this.catalog.releaseArchived(streamId);
      } catch (err) {
        this.log.error({ err, streamId }, 'cannot drop the logs of a deleted stream');
      }
    }
  }

  /** Runs metadata writes one after another; `build` runs when its turn comes. */
  #write(build: () => MetaOp[]): Promise<void> {
    const run = this.#writes.then(async () => {
      const ops = build();
      if (ops.length > 0) await this.store.meta.write(ops);
    });
    this.#writes = run.catch(() => undefined);
    return run;
  }

  async create(req: NewSubscription): Promise<SubscriptionMeta> {
    if (this.#closed) throw unavailable('the server is shutting down');
    const stream = this.catalog.find(req.streamName);
    if (!stream) {
      throw failedPrecondition(ErrorCode.SubscriptionCreationOnNonExistentStream, 'NonExistentStream', { extra: req.streamName });
    }
    const offset = parseSubscriptionOffset(req.offset);
    const id = req.subscriptionId;
    if (this.#subs.has(id) || this.#creating.has(id)) {
      throw alreadyExists(ErrorCode.SubscriptionExists, 'SubscriptionExists', { extra: id });
    }
    const meta: SubscriptionMeta = {
      subscriptionId: id,
      streamId: stream.id,
      streamName: stream.name,
      ackTimeoutSeconds: req.ackTimeoutSeconds,
      maxUnackedRecords: req.maxUnackedRecords,
      offset,
      creationTimeMs: Date.now(),
    };
    // LATEST starts after the tail as it is now, so later appends are delivered even before any consumer comes.
    const committed = new Map(stream.shards.map((s) => [s.shardId, offset === 'LATEST' ? this.store.tail(s.shardId) : 0]));
    this.#creating.add(id);
    // Count it before the write: a concurrent DeleteStream must see it.
    this.#ref(stream.id, +1);
    try {
      await this.#write(() => [
        { type: 'put', path: subPath(id), value: meta },
        ...[...committed].map(([shardId, lsn]): MetaOp => ({ type: 'put', path: ckptPath(id, shardId), value: lsn })),
      ]);
    } catch (err) {
      this.#creating.delete(id);
      await this.#unref(stream.id);
      throw err;
    }
    this.#creating.delete(id);
    this.#subs.set(id, this.#make(meta, committed));
    this.log.info({ subscriptionId: id, stream: stream.name, offset }, 'subscription created');
    return meta;
  }

  find(id: string): Subscription | undefined {
    return this.#subs.get(id);
  }

  get(id: string): Subscription {
    const sub = this.#subs.get(id);
    if (!sub) throw subscriptionNotFound(id);
    return sub;
  }

  exists(id: string): boolean {
    return this.#subs.has(id);
  }

  /**
   * Subscriptions whose id starts with `prefix`, by id. Ids starting with
   * "__" belong to the server (a connector's) and are listed only when the
   * prefix asks for them: users cannot create such ids.
   */
  list(prefix = ''): SubscriptionView[] {
    const internal = prefix.startsWith('__');
    return [...this.#subs.values()]
      .filter((s) => s.id.startsWith(prefix) && (internal || !s.id.startsWith('__')))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((s) => ({ meta: s.meta, streamName: this.displayStreamName(s) }));
  }

  displayStreamName(sub: Subscription): string {
    const stream = this.catalog.byStreamId(sub.meta.streamId);
    return !stream || stream.archived ? DELETED_STREAM_NAME : sub.meta.streamName;
  }

  /** Committed LSN per shard of the stream, 0 when nothing was committed. */
  offsets(id: string): Array<{ shardId: number; lsn: number }> {
    return this.get(id)
      .committed()
      // LSNs at or below LSN_BASE name no batch: such a commit point means "nothing yet".
      .map(({ shardId, lsn }) => ({ shardId, lsn: lsn > LSN_BASE ? lsn : 0 }));
  }

  consumers(id: string): ConsumerInfo[] {
    return this.get(id).consumers();
  }

  /** Registers a consumer on a subscription (StreamingFetch's first message). */
  attach(id: string, options: ConsumerOptions): { subscription: Subscription; consumer: Consumer } {
    const subscription = this.get(id);
    if (this.#closed) throw unavailable('the server is shutting down');
    if (subscription.deleting) throw aborted(ErrorCode.InternalError, 'SubscriptionIsDeleting', { extra: id });
    return { subscription, consumer: subscription.attach(options) };
  }

  /**
   * Deletes a subscription. With consumers attached it needs `force`; then
   * every consumer's call ends with ABORTED before the metadata goes.
   */
  async delete(id: string, force: boolean): Promise<void> {
    const sub = this.get(id);
    if (sub.deleting) throw aborted(ErrorCode.InternalError, 'SubscriptionIsDeleting', { extra: id });
    if (sub.consumerCount > 0 && !force) {
      throw failedPrecondition(ErrorCode.SubscriptionFoundActiveConsumers, 'FoundActiveConsumers', { extra: id });
    }
    sub.deleting = true;
    sub.kickAll(aborted(ErrorCode.InternalError, 'SubscriptionIsDeleting', { extra: id }));
    sub.stop();
    this.#dirty.delete(sub);
    try {
      const stored = (await this.store.meta.list<number>(ckptPrefix(id))).map((row) => row.path);
      const paths = new Set([subPath(id), ...[...sub.shards.keys()].map((shardId) => ckptPath(id, shardId)), ...stored]);
      await this.#write(() => [...paths].map((path): MetaOp => ({ type: 'del', path })));
    } catch (err) {
      // Still there: put a fresh, idle copy back so it keeps working.
      const offsets = new Map(sub.committed().map(({ shardId, lsn }) => [shardId, lsn]));
      this.#subs.set(id, this.#make(sub.meta, offsets));
      throw err;
    }
    this.#subs.delete(id);
    this.log.info({ subscriptionId: id, force }, 'subscription deleted');
    await this.#unref(sub.meta.streamId);
  }

  #markDirty(sub: Subscription, shard: ShardState): void {
    if (sub.deleting) return;
    let shards = this.#dirty.get(sub);
    if (!shards) this.#dirty.set(sub, (shards = new Set()));
    shards.add(shard.shardId);
    if (this.#flushTimer === undefined && !this.#closed) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        void this.flush();
      }, this.checkpointIntervalMs);
      this.#flushTimer.unref();
    }
  }

  /** Writes every committed offset that moved since the last flush. */
  async flush(): Promise<void> {
    const dirty = this.#dirty;
    if (dirty.size === 0) return this.#writes.then(() => undefined);
    this.#dirty = new Map();
    try {
      await this.#write(() => {
        const ops: MetaOp[] = [];
        for (const [sub, shardIds] of dirty) {
          // A subscription deleted (or replaced) meanwhile must not come back.
          if (this.#subs.get(sub.id) !== sub || sub.deleting) continue;
          for (const shardId of shardIds) {
            const shard = sub.shards.get(shardId);
            if (shard) ops.push({ type: 'put', path: ckptPath(sub.id, shardId), value: shard.window.committedLsn });
          }
        }
        return ops;
      });
    } catch (err) {
      this.log.error({ err }, 'cannot persist subscription offsets; will retry');
      for (const [sub, shardIds] of dirty) {
        for (const shardId of shardIds) {
          const shard = sub.shards.get(shardId);
          if (shard) this.#markDirty(sub, shard);
        }
      }
    }
  }

  /** Stops all delivery and persists every committed offset. Call before the store closes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const sub of this.#subs.values()) sub.stop();
    this.#wakeups.close();
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    await this.flush();
    await this.#writes;
  }
}
