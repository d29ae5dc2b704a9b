/**
 * A consumer of a subscription: a sink connector or a test inside the
 * server, and the gRPC StreamingFetch edge, which forwards each batch as is:
 * batches arrive as an async iterator, decoded on demand; one `ack(batch)`
 * acknowledges a whole batch, `nack(batch, retryAfterMs)` has it sent again
 * after a delay of the caller's choosing (a target that is down gets a few
 * retries with backoff, not one every tick), and `pause()` stops deliveries
 * without leaving. Assignment, back-pressure, ack timeout and redelivery are
 * the subscription's (subscription.ts), the same for every kind of consumer.
 */
import { decodeRecords, type HStreamRecord } from '../../records.js';
import type { Consumer, DeliveredBatch } from './consumer.js';
import type { SubscriptionManager } from './manager.js';
import type { AckId, Subscription } from './subscription.js';

export interface ConsumedBatch {
  readonly shardId: number;
  readonly lsn: number;
  /** store time of the batch (what clients read as publishTime) */
  readonly timeMs: number;
  /** batch indexes of the records here: all of the batch, or those still unacked on a redelivery */
  readonly indexes: readonly number[];
  /** the records, in `indexes` order; decoded on first call */
  records(): HStreamRecord[];
  /** the batch as stored (or the repacked unacked subset), for edges that forward it undecoded */
  readonly delivered: DeliveredBatch;
}

export interface DurableConsumerOptions {
  /** consumer name, unique within the subscription */
  name: string;
  /** batches delivered but not yet taken from the iterator before deliveries wait (default 16) */
  buffer?: number;
  /** closes the consumer when aborted */
  signal?: AbortSignal;
  /** where it connects from and what it is, as ListConsumers shows them */
  uri?: string;
  userAgent?: string;
}

const DEFAULT_BUFFER = 16;

export class DurableConsumer implements AsyncIterable<ConsumedBatch> {
  readonly #subscription: Subscription;
  readonly #consumer: Consumer;
  readonly #controller = new AbortController();
  readonly #buffer: number;
  readonly #queue: ConsumedBatch[] = [];
  #paused = false;
  #error: Error | undefined;
  /** aborts when the consumer closes: by `close()`, its `signal` option, or the subscription ending it (force delete) */
  readonly signal: AbortSignal;
  /** wakes a waiting `next()` */
  #wakeReader: (() => void) | undefined;
  /** resolves the delivery waiting for room */
  #room: { promise: Promise<void>; resolve: () => void } | undefined;

  private constructor(manager: SubscriptionManager, subscriptionId: string, options: DurableConsumerOptions) {
    this.#buffer = Math.max(1, options.buffer ?? DEFAULT_BUFFER);
    const signal = options.signal ? AbortSignal.any([this.#controller.signal, options.signal]) : this.#controller.signal;
    this.signal = signal;
    signal.addEventListener('abort', () => this.#wakeAll(), { once: true });
    const { subscription, consumer } = manager.attach(subscriptionId, {
      name: options.name,
      uri: options.uri ?? 'in-process',
      userAgent: options.userAgent ?? 'hstreamlite',
      signal,
      deliver: (batch) => this.#deliver(batch),
      kick: (err) => {
        this.#error = err;
        this.#controller.abort();
      },
    });
    this.#subscription = subscription;
    this.#consumer = consumer;
  }

  /** Attaches a consumer to a subscription (NOT_FOUND, ALREADY_EXISTS for a taken name, as StreamingFetch). */
  static open(manager: SubscriptionManager, subscriptionId: string, options: DurableConsumerOptions): DurableConsumer {
    return new DurableConsumer(manager, subscriptionId, options);
  }

  get closed(): boolean {
    return this.#consumer.closed;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Acknowledges every record of the batch. */
  ack(batch: ConsumedBatch): void {
    this.#subscription.ack(batch.indexes.map((batchIndex) => ({ shardId: batch.shardId, batchId: batch.lsn, batchIndex })));
  }

  /** Acknowledges records by id, as a StreamingFetch client sends them (unknown and repeated ids are ignored). */
  ackIds(ids: readonly AckId[]): void {
    this.#subscription.ack(ids);
  }

  /** The batch's unacked records come again after `retryAfterMs` (to whoever owns the shard then). */
  nack(batch: ConsumedBatch, retryAfterMs: number): void {
    this.#subscription.nack(this.#consumer, batch.shardId, batch.lsn, retryAfterMs);
  }

  /**
   * Batches already delivered and waiting, without waiting for more: whole
   * batches, in order, while their records stay within `maxRecords`. A sink
   * takes what the iterator gave plus these and writes them in one call.
   */
  takeBuffered(maxRecords: number): ConsumedBatch[] {
    if (this.closed) return [];
    let n = 0;
    let records = 0;
    while (n < this.#queue.length && records + this.#queue[n]!.indexes.length <= maxRecords) records += this.#queue[n++]!.indexes.length;
    const taken = this.#queue.splice(0, n);
    this.#releaseRoom();
    return taken;
  }

  /** Stops taking deliveries (what is buffered can still be read); held too long, the shards go to other consumers. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#releaseRoom();
  }

  /** Leaves the subscription: what was not acked goes to the other consumers (or to the next one). */
  close(): void {
    this.#controller.abort();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConsumedBatch> {
    for (;;) {
      // Closed means gone: what is still buffered is unacked and goes to the other consumers.
      if (this.closed) {
        if (this.#error) throw this.#error;
        return;
      }
      const next = this.#queue.shift();
      if (next) {
        this.#releaseRoom();
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => (this.#wakeReader = resolve));
      this.#wakeReader = undefined;
    }
  }

  #deliver(batch: DeliveredBatch): Promise<void> | undefined {
    // Indexes and records are built on first use: the gRPC edge forwards the batch and needs neither.
    let indexes = batch.indexes;
    let records: HStreamRecord[] | undefined;
    this.#queue.push({
      shardId: batch.shardId,
      lsn: batch.lsn,
      timeMs: batch.timeMs,
      get indexes() {
        return (indexes ??= Array.from({ length: batch.batchSize }, (_, i) => i));
      },
      records: () => (records ??= decodeRecords(batch.compression, batch.payload)),
      delivered: batch,
    });
    this.#wakeReader?.();
    if (!this.#paused && this.#queue.length < this.#buffer) return undefined;
    if (!this.#room) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#room = { promise, resolve };
    }
    return this.#room.promise;
  }

  #releaseRoom(): void {
    if (!this.#room || this.#paused || this.#queue.length >= this.#buffer) return;
    const { resolve } = this.#room;
    this.#room = undefined;
    resolve();
  }

  #wakeAll(): void {
    this.#wakeReader?.();
    const room = this.#room;
    this.#room = undefined;
    room?.resolve();
  }
}
