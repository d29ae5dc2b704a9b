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
 * A driver may take its next write while the previous one is in flight
 * (`writesInFlight`); writes are acknowledged in order, and when one fails,
 * those sent after it are written again after its retry, since they may
 * have landed before it.
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
import { payloadJson, RewriteNeeded, UnmappableRecord, type ConnectorConfig, type SinkBatch, type SinkContext, type SinkDriver, type SinkRecord, type SinkWriter, type SourceStream } from './driver.js';
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
  /**
   * highest batch per shard whose write has started: a redelivered copy of a batch still in flight
   * is dropped, not written after the newer records of its group (the original's acknowledgement
   * covers the copy, and if the original is never acknowledged the copy comes again)
   */
  readonly #startedUpTo = new Map<number, number>();
  /** the open writer, or the one being opened */
  #writer: Promise<SinkWriter> | undefined;
  #consumer: DurableConsumer | undefined;
  /** batches a holding writer took and has not yet made durable, with what to acknowledge then */
  readonly #held = new Map<SinkBatch, ConsumedBatch>();
  /** writes kept in flight (the driver's writesInFlight) */
  readonly #depth: number;

  constructor(deps: SinkTaskDeps) {
    this.#deps = deps;
    // a holding writer's writes become durable later, out of order with their calls: one at a time
    this.#depth = deps.driver.holdsRecords === true ? 1 : Math.max(1, deps.driver.writesInFlight ?? 1);
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
    // Writes in flight, oldest first, while the next group is read and decoded: the target and
    // our decoding work at the same time instead of taking turns.
    const inFlight: StartedWrite[] = [];
    try {
      const batches = consumer[Symbol.asyncIterator]();
      const max = deps.options.maxBatchRecords;
      const depth = this.#depth;
      // A holding writer returns without waiting on its target: parsing ahead would overlap nothing.
      const parseAhead = deps.driver.readsJson === true && deps.driver.holdsRecords !== true;
      let reading: Promise<IteratorResult<ConsumedBatch>> | undefined;
      for (;;) {
        reading ??= batches.next();
        // Writes that finish while the stream is quiet are settled (acknowledged) now, not when more records come.
        while (inFlight.length > 0) {
          const first = await Promise.race([reading.then(() => 'read' as const), inFlight[0]!.write.then(() => 'written' as const, () => 'written' as const)]);
          if (first === 'read') break;
          if (!(await this.#settleOldest(consumer, inFlight))) return;
        }
        const next = await reading;
        reading = undefined;
        if (next.done) break;
        const group = [next.value, ...consumer.takeBuffered(max - next.value.indexes.length)];
        if (parseAhead) prepare(group);
        while (inFlight.length >= depth) if (!(await this.#settleOldest(consumer, inFlight))) return;
        // what arrived during the write fills the group up
        const more = consumer.takeBuffered(max - group.reduce((n, b) => n + b.indexes.length, 0));
        if (parseAhead) prepare(more);
        for (const chunk of this.#chunks(consumer, [...group, ...more])) {
          while (inFlight.length >= depth) if (!(await this.#settleOldest(consumer, inFlight))) return;
          // PAUSE or DROP came while a write was settled: what is left of the group is not written
          if (this.#signal.aborted) return;
          inFlight.push(this.#start(chunk));
        }
      }
      while (inFlight.length > 0) if (!(await this.#settleOldest(consumer, inFlight))) return;
    } catch (err) {
      if (!this.#signal.aborted) {
        const message = `reading the stream failed: ${(err as Error).message}`;
        deps.log.error(message);
        deps.onState({ kind: 'failed', error: message });
        return;
      }
    } finally {
      consumer.close();
      // a writer closed under a write still in flight may leak the write's connection
      await Promise.allSettled(inFlight.map((w) => w.write));
      await this.#closeWriter();
    }
    if (this.#signal.aborted) {
      deps.log.info('task stopped');
      deps.onState({ kind: 'stopped' });
    }
  }

  /**
   * A group in chunks of at most maxBatchRecords records, without batches written already (acked at
   * once) or being written (dropped: see #startedUpTo).
   */
  #chunks(consumer: DurableConsumer, group: readonly ConsumedBatch[]): ConsumedBatch[][] {
    const chunks: ConsumedBatch[][] = [];
    let chunk: ConsumedBatch[] = [];
    let records = 0;
    for (const batch of group) {
      if (batch.lsn <= (this.#writtenUpTo.get(batch.shardId) ?? 0)) {
        consumer.ack(batch);
        continue;
      }
      if (batch.lsn <= (this.#startedUpTo.get(batch.shardId) ?? 0)) continue;
      this.#startedUpTo.set(batch.shardId, batch.lsn);
      if (chunk.length > 0 && records + batch.indexes.length > this.#deps.options.maxBatchRecords) {
        chunks.push(chunk);
        chunk = [];
        records = 0;
      }
      chunk.push(batch);
      records += batch.indexes.length;
    }
    if (chunk.length > 0) chunks.push(chunk);
    return chunks;
  }

  /** A chunk's first write, sent now; its outcome is taken by #settleOldest, in order. */
  #start(chunk: ConsumedBatch[]): StartedWrite {
    const batches = chunk.map((b) => toSinkBatch(b, this.#deps.driver.holdsRecords !== true));
    // every first attempt goes out ahead: the runtime settles writes in order, later than they fail
    const ahead = this.#depth > 1;
    const write = this.#attempt(chunk, batches, ahead);
    // settled in order by #settleOldest; until then a rejection must not count as unhandled
    write.catch(() => undefined);
    return { chunk, batches, write, ahead };
  }

  /**
   * Takes the oldest write in flight: acknowledged when it succeeded. When it
   * failed, the writes sent after it may have landed before its records do,
   * so once they have settled it is retried, and then each of them is written
   * again, one at a time, in order. False when the task must end.
   */
  async #settleOldest(consumer: DurableConsumer, inFlight: StartedWrite[]): Promise<boolean> {
    const oldest = inFlight[0]!;
    try {
      await oldest.write;
      inFlight.shift();
      // a holding writer's batches are acknowledged when it reports them durable
      if (this.#deps.driver.holdsRecords !== true) this.#acknowledge(consumer, oldest.chunk, oldest.batches);
      return true;
    } catch {
      // handled below, by the retry of the oldest
    }
    const all = inFlight.splice(0);
    await Promise.allSettled(all.map((w) => w.write));
    if (!(await this.#writeAndAck(consumer, all[0]!))) return false;
    for (const later of all.slice(1)) {
      if (!(await this.#writeAndAck(consumer, { chunk: later.chunk, batches: later.batches }))) return false;
    }
    return true;
  }

  /** One write of the batches; a holding writer's batches are registered before, as it may make them durable before it returns. */
  async #attempt(chunk: readonly ConsumedBatch[], batches: readonly SinkBatch[], ahead = false): Promise<void> {
    const holds = this.#deps.driver.holdsRecords === true;
    if (holds) batches.forEach((b, i) => this.#held.set(b, chunk[i]!));
    try {
      const writer = await this.#openWriter();
      await writer.write(batches, { ahead });
    } catch (err) {
      // a holding writer takes all of a write or none of it
      if (holds) for (const b of batches) this.#held.delete(b);
      throw err;
    }
  }

  /** The writer, opened once however many writes ask for it at the same time. */
  #openWriter(): Promise<SinkWriter> {
    if (this.#writer === undefined) {
      const deps = this.#deps;
      const opening = deps.driver.open(deps.config, this.#sinkContext());
      this.#writer = opening;
      // a failed open is tried again by the next write
      opening.catch(() => {
        if (this.#writer === opening) this.#writer = undefined;
      });
    }
    return this.#writer;
  }

  /**
   * Writes a chunk until the target has it, retrying failures with backoff,
   * then acknowledges it. `started.write` is its first attempt when already
   * sent. False when the task must end.
   */
  async #writeAndAck(consumer: DurableConsumer, started: Pick<StartedWrite, 'chunk' | 'batches'> & Partial<Pick<StartedWrite, 'write' | 'ahead'>>): Promise<boolean> {
    const { chunk } = started;
    let { batches } = started;
    let pending: Promise<void> | undefined = started.write;
    const deps = this.#deps;
    const holds = deps.driver.holdsRecords === true;
    let attempt = 0;
    for (;;) {
      if (this.#signal.aborted) return false;
      const sentAhead = pending !== undefined && started.ahead === true;
      try {
        await (pending ?? this.#attempt(chunk, batches));
        break;
      } catch (err) {
        if (this.#signal.aborted) return false;
        // The earlier write it depended on has been redone: this one goes again as it is, at once.
        // Only a write sent ahead can need that; from any other (a driver's bug) it is a failure
        // like any other, with backoff and maxRetries, or the task would retry without end.
        if (err instanceof RewriteNeeded && sentAhead) continue;
        // likewise a record to skip that the write does not hold: skipping it would change nothing
        if (err instanceof UnmappableRecord && holdsRecord(batches, err.recordId)) {
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
      } finally {
        pending = undefined;
      }
    }
    if (attempt > 0) {
      deps.log.info(`write succeeded after ${attempt} failed attempts`);
      deps.onState({ kind: 'running' });
    }
    if (!holds) this.#acknowledge(consumer, chunk, batches);
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
    const opening = this.#writer;
    this.#writer = undefined;
    try {
      const writer = await opening?.catch(() => undefined);
      await writer?.close();
    } catch (err) {
      this.#deps.pino.warn({ err }, 'closing a connector target failed');
    }
    // What a holding writer still had is unacknowledged: the subscription delivers it again.
    this.#held.clear();
  }
}

/** A chunk's write, sent and not yet settled, with what it wrote. */
interface StartedWrite {
  readonly chunk: ConsumedBatch[];
  readonly batches: SinkBatch[];
  readonly write: Promise<void>;
  /** sent while earlier writes were in flight (see SinkWriter.write) */
  readonly ahead: boolean;
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

function holdsRecord(batches: readonly SinkBatch[], recordId: string): boolean {
  return batches.some((b) => b.records.some((r) => r.id === recordId));
}

/** The batches without one record; a batch that lost a record no longer matches its raw form. */
function withoutRecord(batches: SinkBatch[], recordId: string): SinkBatch[] {
  return batches.map((b) => {
    if (!b.records.some((r) => r.id === recordId)) return b;
    return { ...b, records: b.records.filter((r) => r.id !== recordId), raw: undefined };
  });
}
