/**
 * One attached consumer (one StreamingFetch call) as the delivery core sees
 * it: a name, where it connects from, and a way to push batches that holds
 * the pushers back while its transport is full. Knows nothing about gRPC:
 * the edge passes a `deliver` function that writes one message and returns
 * a promise that resolves when the transport can take more.
 */
import type { HStreamError } from '../../errors.js';

/** A batch (or the still-unacked subset of one) on its way to a consumer. */
export interface DeliveredBatch {
  shardId: number;
  lsn: number;
  compression: number;
  /** store time of the batch: clients read it as publishTime */
  timeMs: number;
  /** number of records in `payload` */
  batchSize: number;
  payload: Buffer;
  /** batch indexes of the records in `payload`; undefined = all of 0..batchSize-1 */
  indexes?: number[];
}

/** Writes one message now; resolves (never rejects) when the transport has room again or the call ended. */
export type DeliverFn = (batch: DeliveredBatch) => Promise<void>;

export interface ConsumerOptions {
  name: string;
  uri: string;
  userAgent: string;
  /** aborts when the call ends (client cancel, half-close handled, send error) */
  signal: AbortSignal;
  deliver: DeliverFn;
  /** ends the call with this error (force delete) */
  kick: (err: HStreamError) => void;
}

export class Consumer {
  readonly name: string;
  readonly uri: string;
  readonly userAgent: string;
  readonly signal: AbortSignal;
  /** resolves when the transport drained after the last write that filled it */
  #gate: Promise<void> | undefined;
  readonly #deliver: DeliverFn;
  readonly #kick: (err: HStreamError) => void;

  constructor(options: ConsumerOptions) {
    this.name = options.name;
    this.uri = options.uri;
    this.userAgent = options.userAgent;
    this.signal = options.signal;
    this.#deliver = options.deliver;
    this.#kick = options.kick;
  }

  get closed(): boolean {
    return this.signal.aborted;
  }

  /** Resolves once the transport can take another message (or the consumer is gone). */
  async ready(): Promise<void> {
    while (this.#gate !== undefined && !this.signal.aborted) {
      const gate = this.#gate;
      await gate;
      if (this.#gate === gate) this.#gate = undefined;
    }
  }

  /**
   * Waits for room, then writes the batch. Returns true once written, false
   * when the consumer went away first. Does not wait for the write to drain:
   * the next push (or ready()) does.
   */
  async push(batch: DeliveredBatch): Promise<boolean> {
    await this.ready();
    if (this.signal.aborted) return false;
    try {
      this.#gate = this.#deliver(batch);
    } catch {
      return false;
    }
    return true;
  }

  kick(err: HStreamError): void {
    this.#kick(err);
  }
}
