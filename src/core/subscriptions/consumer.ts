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

/**
 * Writes one message now. Returns undefined when the transport can take more
 * at once, else a promise that resolves (never rejects) when it has drained
 * or the call ended.
 */
export type DeliverFn = (batch: DeliveredBatch) => Promise<void> | undefined;

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
  /** called each time the transport drains after having been full */
  onUnblocked: (() => void) | undefined;
  /** called each time the transport becomes full */
  onBlocked: (() => void) | undefined;
  /** resolves when the transport drained after the last write that filled it */
  #gate: Promise<void> | undefined;
  /** when the transport became full (undefined while it takes more) */
  #blockedSinceMs: number | undefined;
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

  /** How long the transport has been full without draining (0 when it takes more). */
  blockedForMs(nowMs: number): number {
    return this.#blockedSinceMs === undefined ? 0 : nowMs - this.#blockedSinceMs;
  }

  /**
   * Resolves once the transport can take another message, the consumer is
   * gone, or `cancel` fires. A pump whose shard moved to another consumer
   * cancels: it must not wait for a transport that may never drain.
   */
  async ready(cancel?: AbortSignal): Promise<void> {
    while (this.#gate !== undefined && !this.signal.aborted && !cancel?.aborted) {
      await (cancel === undefined ? this.#gate : untilEither(this.#gate, cancel));
    }
  }

  /**
   * Waits for room, then writes the batch. Returns true once written, false
   * when the consumer went away (or `cancel` fired) first; the caller then
   * delivers the batch elsewhere. Does not wait for the write to drain: the
   * next push (or ready()) does.
   */
  async push(batch: DeliveredBatch, cancel?: AbortSignal): Promise<boolean> {
    if (this.#gate !== undefined) await this.ready(cancel);
    if (this.signal.aborted || cancel?.aborted) return false;
    let drained: Promise<void> | undefined;
    try {
      drained = this.#deliver(batch);
    } catch {
      return false;
    }
    if (drained) this.#block(drained);
    return true;
  }

  #block(drained: Promise<void>): void {
    this.#gate = drained;
    if (this.#blockedSinceMs === undefined) {
      this.#blockedSinceMs = Date.now();
      this.onBlocked?.();
    }
    void drained.then(() => {
      if (this.#gate !== drained) return;
      this.#gate = undefined;
      this.#blockedSinceMs = undefined;
      this.onUnblocked?.();
    });
  }

  kick(err: HStreamError): void {
    this.#kick(err);
  }
}

/** Resolves when `gate` resolves or `cancel` fires, whichever is first; leaves no listener behind. */
function untilEither(gate: Promise<void>, cancel: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      cancel.removeEventListener('abort', done);
      resolve();
    };
    cancel.addEventListener('abort', done, { once: true });
    void gate.then(done);
  });
}
