/**
 * One running source: takes the records its driver reads, appends them to
 * the stream in batches through the producer (the path of the Append RPC:
 * the same size limits, key → shard routing and statistics), and acks each
 * to the driver only after its append was acknowledged, so the source
 * forgets nothing we have not stored.
 *
 * A batch is appended once `batch.maxRecords` records wait or the oldest
 * has waited `batch.maxDelayMs`. A failed append (the stream is gone, the
 * store refuses) is retried with backoff (1 s doubling to 30 s) with the
 * same records; meanwhile nothing is acked, so the driver's own window of
 * unacked records bounds what is held.
 */
import type { Logger } from 'pino';
import { ErrorCode, HStreamError } from '../errors.js';
import type { Producer } from '../core/producer.js';
import type { HStreamRecord } from '../records.js';
import type { ConnectorConfig } from './driver.js';
import { backoffMs, sleep } from './backoff.js';
import type { SinkCounters, TaskState } from './sink-task.js';
import type { SourceDriver, SourceMessage, SourceReader } from './source-driver.js';
import type { SourceRuntimeOptions } from './spec.js';
import type { TaskLog } from './task-log.js';

export interface SourceTaskDeps {
  /** the connector's name */
  name: string;
  driver: SourceDriver;
  config: ConnectorConfig;
  options: SourceRuntimeOptions;
  producer: Pick<Producer, 'appendRecords'>;
  log: TaskLog;
  pino: Logger;
  counters: SinkCounters;
  /** called on every change of state */
  onState(state: TaskState): void;
}

export class SourceTask {
  readonly #deps: SourceTaskDeps;
  readonly #controller = new AbortController();
  readonly #pending: SourceMessage[] = [];
  /** wakes the batching loop: a first record arrived, a batch filled up, or the task stops */
  #wake: (() => void) | undefined;
  /** the last state reported, so a reconnect after a failure says RUNNING again */
  #state: TaskState['kind'] = 'stopped';
  /** connection failures since the source was last reachable */
  #failures = 0;
  readonly done: Promise<void>;

  constructor(deps: SourceTaskDeps) {
    this.#deps = deps;
    this.done = this.#run().catch((err: unknown) => {
      // #run handles its own failures; this is a bug guard so a task never takes the server down.
      deps.pino.error({ err }, 'connector task ended unexpectedly');
      this.#setState({ kind: 'failed', error: String((err as Error)?.message ?? err) });
    });
  }

  /** Stops reading; the append under way finishes and is acked, records not yet appended are left to the source. */
  async stop(): Promise<void> {
    this.#controller.abort();
    this.#wake?.();
    await this.done;
  }

  get #signal(): AbortSignal {
    return this.#controller.signal;
  }

  #setState(state: TaskState): void {
    this.#state = state.kind;
    this.#deps.onState(state);
  }

  async #run(): Promise<void> {
    const deps = this.#deps;
    const reader = await this.#open();
    if (!reader) return;
    deps.log.info(`task started: writing stream ${deps.options.stream}`);
    try {
      await this.#batchLoop();
    } finally {
      await reader.close().catch((err: unknown) => deps.pino.warn({ err }, 'closing a connector source failed'));
      this.#pending.length = 0;
    }
    deps.log.info('task stopped');
    this.#setState({ kind: 'stopped' });
  }

  /** Opens the driver, retrying with backoff; undefined when the task stopped first. */
  async #open(): Promise<SourceReader | undefined> {
    const deps = this.#deps;
    const signal = this.#signal;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        const reader = await deps.driver.open(deps.config, {
          name: deps.name,
          log: deps.pino,
          signal,
          emit: (message) => this.#emit(message),
          skipped: (reason) => {
            deps.counters.skipped++;
            deps.log.warn(`message skipped: ${reason}`);
          },
          failing: (error) => {
            // a disconnect caused by our own stop is no failure
            if (signal.aborted) return;
            deps.counters.errors++;
            this.#failures++;
            if (this.#failures === 1) deps.log.warn(`source unreachable, retrying: ${error}`);
            this.#setState({ kind: 'retrying', attempt: this.#failures, error });
          },
          connected: (detail) => {
            if (signal.aborted) return;
            deps.log.info(this.#failures > 0 ? `${detail} (reachable again after ${this.#failures} failed attempts)` : detail);
            this.#failures = 0;
            if (this.#state !== 'running') this.#setState({ kind: 'running' });
          },
        });
        if (signal.aborted) await reader.close();
        else return reader;
      } catch (err) {
        attempt++;
        deps.counters.errors++;
        const message = (err as Error)?.message ?? String(err);
        const delay = backoffMs(attempt);
        deps.log.warn(`opening the source failed (attempt ${attempt}), retrying in ${delay} ms: ${message}`);
        this.#setState({ kind: 'retrying', attempt, error: message });
        await sleep(delay, signal);
      }
    }
    this.#setState({ kind: 'stopped' });
    return undefined;
  }

  #emit(message: SourceMessage): void {
    // After stop, records are left unacked: the source delivers them to the next reader.
    if (this.#signal.aborted) return;
    this.#pending.push(message);
    if (this.#pending.length === 1 || this.#pending.length >= this.#deps.options.maxBatchRecords) this.#wake?.();
  }

  async #batchLoop(): Promise<void> {
    const { maxBatchRecords, maxBatchDelayMs } = this.#deps.options;
    while (!this.#signal.aborted) {
      if (this.#pending.length === 0) await this.#waitForWake(undefined);
      if (this.#pending.length > 0 && this.#pending.length < maxBatchRecords && maxBatchDelayMs > 0) await this.#waitForWake(maxBatchDelayMs);
      if (this.#signal.aborted) return;
      const batch = this.#pending.splice(0, maxBatchRecords);
      if (batch.length > 0) await this.#appendAndAck(batch);
    }
  }

  /** Waits for #emit or stop to wake the loop, or for `ms` when given. */
  #waitForWake(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      if (ms !== undefined) timer = setTimeout(done, ms);
      if (this.#signal.aborted) done();
    });
  }

  async #appendAndAck(batch: SourceMessage[]): Promise<void> {
    const deps = this.#deps;
    let attempt = 0;
    for (;;) {
      try {
        await this.#append(batch);
        break;
      } catch (err) {
        // Stopping during a failing append: the records stay unacked and come back from the source.
        if (this.#signal.aborted) return;
        attempt++;
        deps.counters.errors++;
        const message = (err as Error)?.message ?? String(err);
        const delay = backoffMs(attempt);
        deps.log.warn(`append failed (attempt ${attempt}), retrying in ${delay} ms: ${message}`);
        this.#setState({ kind: 'retrying', attempt, error: message });
        await sleep(delay, this.#signal);
        if (this.#signal.aborted) return;
      }
    }
    if (attempt > 0) {
      deps.log.info(`append succeeded after ${attempt} failed attempts`);
      this.#setState({ kind: 'running' });
    }
    for (const m of batch) m.ack();
  }

  /** Appends the batch; a record too large for the stream is skipped (and acked) rather than blocking the others. */
  async #append(batch: readonly SourceMessage[]): Promise<void> {
    const deps = this.#deps;
    const records = batch.map((m) => m.record);
    try {
      await deps.producer.appendRecords(deps.options.stream, records, { maxBatchRecords: deps.options.maxBatchRecords });
      this.#count(records);
    } catch (err) {
      if (!(err instanceof HStreamError && err.errorCode === ErrorCode.StreamInvalidRecordSize)) throw err;
      // appendRecords refuses the whole batch before appending any of it: append one by one, skipping the large ones.
      for (const record of records) {
        try {
          await deps.producer.appendRecords(deps.options.stream, [record]);
          this.#count([record]);
        } catch (e) {
          if (!(e instanceof HStreamError && e.errorCode === ErrorCode.StreamInvalidRecordSize)) throw e;
          deps.counters.skipped++;
          deps.log.warn(`record skipped: larger than the server's record size limit (${String(e.extra)} bytes)`);
        }
      }
    }
  }

  #count(records: readonly HStreamRecord[]): void {
    const counters = this.#deps.counters;
    counters.records += records.length;
    counters.bytes += records.reduce((n, r) => n + r.payload.length, 0);
    counters.batches++;
  }
}
