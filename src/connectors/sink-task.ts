/**
 * One running sink: reads its stream through a subscription of its own (the
 * same delivery, back-pressure and checkpoints as a client's), hands the
 * target batches of records, and acknowledges them only after the target
 * confirmed the write, so the committed offset never passes a record the
 * target does not have.
 *
 * A failing target is retried with backoff (1 s doubling to 30 s) from the
 * same records, in order; nothing newer is written meanwhile, so per-key
 * order holds and the subscription's unacked limit bounds what is held.
 * A record the target cannot take is skipped or stops the task, by config.
 *
 * A writer that holds records in open files (the parquet sink) reports them
 * durable later, when their file is in place; they are acknowledged then,
 * and a failed write does not close it (that would drop what it holds).
 */
import type { Logger } from 'pino';
import { decodeRecords, type HStreamRecord } from '../records.js';
import { DurableConsumer, type ConsumedBatch } from '../core/subscriptions/durable-consumer.js';
import type { SubscriptionManager } from '../core/subscriptions/manager.js';
import { payloadJson, UnmappableRecord, type ConnectorConfig, type SinkBatch, type SinkContext, type SinkDriver, type SinkRecord, type SinkWriter, type SourceStream } from './driver.js';
import { backoffMs, sleep } from './backoff.js';
import type { RuntimeOptions } from './spec.js';
import type { TaskLog } from './task-log.js';

/** batches a sink may have delivered and not yet taken: room for a few writes of `task.batch.maxRecords` */
const BUFFERED_BATCHES = 64;

export interface SinkCounters {
  records: number;
  bytes: number;
  batches: number;
  errors: number;
  skipped: number;
  /** records a file sink set aside as unreadable (not JSON) in its `_rejected/` files */
  rejected: number;
}

/** What the task is doing, for GetConnector: running, retrying a failed write, or ended on an error. */
export type TaskState = { kind: 'running' } | { kind: 'retrying'; attempt: number; error: string } | { kind: 'stopped' } | { kind: 'failed'; error: string };

export interface SinkTaskDeps {
  driver: SinkDriver;
  config: ConnectorConfig;
  options: RuntimeOptions;
  subscriptions: SubscriptionManager;
  subscriptionId: string;
  log: TaskLog;
  pino: Logger;
  counters: SinkCounters;
  /** where file sinks may write (--connector-path-root) */
  pathRoot: string;
  /** the subscription's unacked bound: what a holding writer may keep */
  maxHeldRecords: number;
  /** the stream read, as it is now (undefined once deleted) */
  source(): SourceStream | undefined;
  /** called on every change of state */
  onState(state: TaskState): void;
}

export class SinkTask {
  readonly #deps: SinkTaskDeps;
  readonly #controller = new AbortController();
  readonly done: Promise<void>;
  /** highest batch written per shard: a redelivered copy of an older batch is acked and not written again */
  readonly #writtenUpTo = new Map<number, number>();
  #writer: SinkWriter | undefined;
  #consumer: DurableConsumer | undefined;
  /** batches a holding writer took and has not yet made durable, with what to acknowledge then */
  readonly #held = new Map<SinkBatch, ConsumedBatch>();

  constructor(deps: SinkTaskDeps) {
    this.#deps = deps;
    this.done = this.#run().catch((err: unknown) => {
      // #run handles its own failures; this is a bug guard so a task never takes the server down.
      deps.pino.error({ err }, 'connector task ended unexpectedly');
      deps.onState({ kind: 'failed', error: String((err as Error)?.message ?? err) });
    });
  }

  /** Stops reading and writing; resolves when the task has let go of its target and subscription. */
  async stop(): Promise<void> {
    this.#controller.abort();
    this.#consumer?.close();
    await this.done;
  }

  get #signal(): AbortSignal {
    return this.#controller.signal;
  }

  async #run(): Promise<void> {
    const deps = this.#deps;
    const consumer = DurableConsumer.open(deps.subscriptions, deps.subscriptionId, {
      name: 'connector',
      uri: 'in-process',
      userAgent: `hstreamlite-connector/${deps.driver.target}`,
      signal: this.#signal,
      buffer: BUFFERED_BATCHES,
    });
    this.#consumer = consumer;
    deps.log.info(`task started: reading stream ${deps.options.stream}`);
    deps.onState({ kind: 'running' });
    try {
      const batches = consumer[Symbol.asyncIterator]();
      const max = deps.options.maxBatchRecords;
      // One write is in flight while the next group is read and decoded: the target and our
      // decoding work at the same time instead of taking turns.
      let writing: Promise<boolean> = Promise.resolve(true);
      // A holding writer returns without waiting on its target: parsing ahead would overlap nothing.
      const parseAhead = deps.driver.readsJson === true && deps.driver.holdsRecords !== true;
      for (;;) {
        const next = await batches.next();
        if (next.done) break;
        const group = [next.value, ...consumer.takeBuffered(max - next.value.indexes.length)];
        if (parseAhead) prepare(group);
        if (!(await writing)) return;
        // what arrived during the write fills the group up
        const more = consumer.takeBuffered(max - group.reduce((n, b) => n + b.indexes.length, 0));
        if (parseAhead) prepare(more);
        writing = this.#deliver(consumer, [...group, ...more]);
        writing.catch(() => undefined);
      }
      if (!(await writing)) return;
    } catch (err) {
      if (!this.#signal.aborted) {
        const message = `reading the stream failed: ${(err as Error).message}`;
        deps.log.error(message);
        deps.onState({ kind: 'failed', error: message });
        return;
      }
    } finally {
      consumer.close();
      await this.#closeWriter();
    }
    if (this.#signal.aborted) {
      deps.log.info('task stopped');
      deps.onState({ kind: 'stopped' });
    }
  }

  /** Writes a group in chunks of at most maxBatchRecords records; false when the task must end. */
  async #deliver(consumer: DurableConsumer, group: ConsumedBatch[]): Promise<boolean> {
    let chunk: ConsumedBatch[] = [];
    let records = 0;
    for (const batch of group) {
      if (batch.lsn <= (this.#writtenUpTo.get(batch.shardId) ?? 0)) {
        consumer.ack(batch);
        continue;
      }
      if (chunk.length > 0 && records + batch.indexes.length > this.#deps.options.maxBatchRecords) {
        if (!(await this.#writeAndAck(consumer, chunk))) return false;
        chunk = [];
        records = 0;
      }
      chunk.push(batch);
      records += batch.indexes.length;
    }
    return chunk.length === 0 || this.#writeAndAck(consumer, chunk);
  }

  async #writeAndAck(consumer: DurableConsumer, chunk: ConsumedBatch[]): Promise<boolean> {
    const keepDecoded = this.#deps.driver.holdsRecords !== true;
    let batches = chunk.map((b) => toSinkBatch(b, keepDecoded));
    const deps = this.#deps;
    let attempt = 0;
    for (;;) {
      if (this.#signal.aborted) return false;
      const holds = deps.driver.holdsRecords === true;
      // Registered before the write: the writer may make them durable before it returns.
      if (holds) batches.forEach((b, i) => this.#held.set(b, chunk[i]!));
      try {
        this.#writer ??= await deps.driver.open(deps.config, this.#sinkContext());
        await this.#writer.write(batches);
        break;
      } catch (err) {
        // a holding writer takes all of a write or none of it
        if (holds) for (const b of batches) this.#held.delete(b);
        if (this.#signal.aborted) return false;
        if (err instanceof UnmappableRecord) {
          deps.counters.errors++;
          if (!deps.options.skipUnmappable) {
            const message = `record ${err.recordId} cannot be written: ${err.message} (task.error.skipStrategy is NeverSkip: the connector stops; RESUME it after fixing the target, or set SkipAll)`;
            deps.log.error(message);
            deps.onState({ kind: 'failed', error: message });
            return false;
          }
          deps.counters.skipped++;
          deps.log.warn(`record ${err.recordId} skipped: ${err.message}`);
          batches = withoutRecord(batches, err.recordId);
          continue;
        }
        attempt++;
        deps.counters.errors++;
        const message = (err as Error)?.message ?? String(err);
        // A holding writer keeps the records of its open files across a failed write; closing it
        // would drop them unacknowledged until the ack timeout.
        if (!holds) await this.#closeWriter();
        if (deps.options.maxRetries >= 0 && attempt > deps.options.maxRetries) {
          const final = `write failed ${attempt} times, giving up (task.error.maxRetries = ${deps.options.maxRetries}): ${message}`;
          deps.log.error(final);
          deps.onState({ kind: 'failed', error: final });
          return false;
        }
        const delay = backoffMs(attempt);
        deps.log.warn(`write failed (attempt ${attempt}), retrying in ${delay} ms: ${message}`);
        deps.onState({ kind: 'retrying', attempt, error: message });
        await sleep(delay, this.#signal);
      }
    }
    if (attempt > 0) {
      deps.log.info(`write succeeded after ${attempt} failed attempts`);
      deps.onState({ kind: 'running' });
    }
    if (!deps.driver.holdsRecords) this.#acknowledge(consumer, chunk, batches);
    return true;
  }

  #sinkContext(): SinkContext {
    const deps = this.#deps;
    return {
      log: deps.pino,
      signal: this.#signal,
      source: deps.source(),
      pathRoot: deps.pathRoot,
      maxHeldRecords: deps.maxHeldRecords,
      durable: (batches, rejected) => {
        const consumer = this.#consumer;
        const chunk: ConsumedBatch[] = [];
        const taken: SinkBatch[] = [];
        for (const b of batches) {
          const consumed = this.#held.get(b);
          if (!consumed) continue;
          this.#held.delete(b);
          chunk.push(consumed);
          taken.push(b);
        }
        deps.counters.rejected += rejected;
        if (consumer && chunk.length > 0) this.#acknowledge(consumer, chunk, taken);
      },
    };
  }

  /** The target has the batches: commit them and count them. */
  #acknowledge(consumer: DurableConsumer, chunk: readonly ConsumedBatch[], batches: readonly SinkBatch[]): void {
    const deps = this.#deps;
    for (const batch of chunk) {
      consumer.ack(batch);
      const prev = this.#writtenUpTo.get(batch.shardId) ?? 0;
      if (batch.lsn > prev) this.#writtenUpTo.set(batch.shardId, batch.lsn);
    }
    for (const b of batches) {
      // a batch as stored counts its stored bytes; one that lost a record was decoded already
      deps.counters.records += b.raw ? b.raw.batchSize : b.records.length;
      deps.counters.bytes += b.raw ? b.raw.payload.length : b.records.reduce((n, r) => n + r.record.payload.length, 0);
    }
    deps.counters.batches++;
  }

  async #closeWriter(): Promise<void> {
    const writer = this.#writer;
    this.#writer = undefined;
    try {
      await writer?.close();
    } catch (err) {
      this.#deps.pino.warn({ err }, 'closing a connector target failed');
    }
    // What a holding writer still had is unacknowledged: the subscription delivers it again.
    this.#held.clear();
  }
}

/** Decodes the batches and parses their JSON payloads ahead of the write that needs them. */
function prepare(group: readonly ConsumedBatch[]): void {
  for (const batch of group) for (const record of batch.records()) payloadJson(record);
}

/** A record of a consumed batch; its id is spelled out only when a driver reads it (most never do). */
class BatchRecord implements SinkRecord {
  constructor(
    readonly record: HStreamRecord,
    readonly shardId: number,
    readonly lsn: number,
    readonly index: number,
  ) {}

  get id(): string {
    return `${this.shardId}-${this.lsn}-${this.index}`;
  }
}

/**
 * Records are decoded on first use: the mirror forwards most batches as
 * stored and never needs them. A holding writer reads a batch's records
 * once, into its file, and keeps the batch until the file is written: for
 * it they are decoded on each read and not kept, so the records die young.
 */
function toSinkBatch(batch: ConsumedBatch, keepDecoded: boolean): SinkBatch {
  const { delivered } = batch;
  let records: SinkRecord[] | undefined;
  const decode = (decoded: HStreamRecord[]) => decoded.map((record, i) => new BatchRecord(record, batch.shardId, batch.lsn, batch.indexes[i]!));
  return {
    shardId: batch.shardId,
    timeMs: batch.timeMs,
    get records() {
      // the delivered payload holds exactly the records of `indexes`, as batch.records() reads it, uncached
      if (!keepDecoded) return decode(decodeRecords(delivered.compression, delivered.payload));
      return (records ??= decode(batch.records()));
    },
    raw: { compression: delivered.compression, payload: delivered.payload, batchSize: delivered.batchSize, timeMs: batch.timeMs },
  };
}

/** The batches without one record; a batch that lost a record no longer matches its raw form. */
function withoutRecord(batches: SinkBatch[], recordId: string): SinkBatch[] {
  return batches.map((b) => {
    if (!b.records.some((r) => r.id === recordId)) return b;
    return { ...b, records: b.records.filter((r) => r.id !== recordId), raw: undefined };
  });
}
