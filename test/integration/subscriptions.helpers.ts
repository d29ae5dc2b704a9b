/**
 * Helpers for the subscription suites: a StreamingFetch consumer over our
 * own gRPC client that records every delivery, acks by policy and lets a
 * test wait for a condition on each arriving message (no sleeps).
 */
import * as grpc from '@grpc/grpc-js';
import type { HStreamClient } from '../../src/client.js';
import { compressionCode, decodeRecords } from '../../src/records.js';
import { batch, rawRecords, type TestRecord } from '../helpers/records.js';

export { createStream } from '../helpers/streams.js';

export interface WireRecordId {
  shardId: string;
  batchId: string;
  batchIndex: number;
}

export interface Delivery {
  /** "shardId-batchId-batchIndex" of each record */
  ids: string[];
  recordIds: WireRecordId[];
  payloads: string[];
  compressionType: string;
  publishTime: { seconds: string; nanos: number };
  atMs: number;
}

export type AckPolicy = 'all' | 'none' | ((id: string, delivery: Delivery) => boolean);

export const idText = (r: WireRecordId) => `${r.shardId}-${r.batchId}-${r.batchIndex}`;

interface FetchResponse {
  receivedRecords: {
    recordIds: WireRecordId[];
    record: { compressionType: string; publishTime: { seconds: string; nanos: number }; batchSize: number; payload: Buffer };
  };
}

export interface CallEnd {
  code: grpc.status;
  details: string;
}

export class TestConsumer {
  readonly deliveries: Delivery[] = [];
  /** how many times each record id arrived */
  readonly counts = new Map<string, number>();
  readonly ended: Promise<CallEnd>;
  readonly call: grpc.ClientDuplexStream<Record<string, unknown>, FetchResponse>;
  ack: AckPolicy;
  private waiters = new Set<() => void>();
  private halfClosed = false;

  constructor(
    client: HStreamClient,
    readonly subscriptionId: string,
    readonly name: string,
    options: { ack?: AckPolicy; metadata?: grpc.Metadata } = {},
  ) {
    this.ack = options.ack ?? 'all';
    this.call = client.bidi('StreamingFetch', options.metadata ?? new grpc.Metadata());
    this.ended = new Promise<CallEnd>((resolve) => {
      this.call.on('status', (s: grpc.StatusObject) => {
        resolve({ code: s.code, details: s.details });
        this.notify();
      });
    });
    this.call.on('error', () => undefined);
    this.call.on('data', (msg: FetchResponse) => this.onData(msg));
    this.call.write({ subscriptionId, consumerName: name, ackIds: [] });
  }

  private onData(msg: FetchResponse): void {
    const { recordIds, record } = msg.receivedRecords;
    const records = decodeRecords(compressionCode(record.compressionType), record.payload);
    const d: Delivery = {
      ids: recordIds.map(idText),
      recordIds,
      payloads: records.map((r) => r.payload.toString()),
      compressionType: record.compressionType,
      publishTime: record.publishTime,
      atMs: Date.now(),
    };
    this.deliveries.push(d);
    for (const id of d.ids) this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    const policy = this.ack;
    const toAck = policy === 'all' ? recordIds : policy === 'none' ? [] : recordIds.filter((r) => policy(idText(r), d));
    if (toAck.length > 0) this.sendAcks(toAck);
    this.notify();
  }

  sendAcks(ids: WireRecordId[]): void {
    // After a half-close nothing more can be sent: a write after end() destroys the client
    // stream without cancelling the call, and its status would never arrive.
    if (this.halfClosed) return;
    this.call.write({ subscriptionId: this.subscriptionId, consumerName: this.name, ackIds: ids });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Records received, counting redeliveries. */
  get recordCount(): number {
    let n = 0;
    for (const d of this.deliveries) n += d.ids.length;
    return n;
  }

  /** Distinct record ids received. */
  get distinct(): number {
    return this.counts.size;
  }

  /** Resolves when `check` holds, re-checked on every message and at the end of the call. */
  until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`${this.name}: ${what} not met within ${timeoutMs} ms (received ${this.recordCount} records, ${this.distinct} distinct)`));
      }, timeoutMs);
      const w = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(w);
        resolve();
      };
      this.waiters.add(w);
    });
  }

  untilDistinct(n: number, timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.distinct >= n, timeoutMs, `${n} distinct records`);
  }

  /**
   * Half-closes and waits for the server to end the call. Bounded, so a call the server
   * never ends fails the test with this consumer's name instead of the test timing out.
   */
  async close(timeoutMs = 20_000): Promise<CallEnd> {
    this.halfClosed = true;
    this.call.end();
    return within(this.ended, timeoutMs, `${this.name}: the server did not end the call after a half-close`);
  }

  cancel(): void {
    this.call.cancel();
  }
}

/** Appends `n` batches of `perBatch` raw records ("<prefix><batch>-<i>") to a shard; returns the record ids. */
export async function appendBatches(
  client: HStreamClient,
  streamName: string,
  shardId: string,
  n: number,
  perBatch = 1,
  options: { prefix?: string; compression?: 'None' | 'Gzip' | 'Zstd'; payloadBytes?: number } = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let b = 0; b < n; b++) {
    const records: TestRecord[] = options.payloadBytes
      ? Array.from({ length: perBatch }, (_, i) => ({ payload: `${options.prefix ?? 'r'}${b}-${i}-`.padEnd(options.payloadBytes!, 'x') }))
      : rawRecords(perBatch, `${options.prefix ?? 'r'}${b}-`);
    const res = await client.unary<{ recordIds: WireRecordId[] }>('Append', {
      streamName,
      shardId,
      records: batch(records, options.compression ?? 'None'),
    });
    ids.push(...res.recordIds.map(idText));
  }
  return ids;
}

export function createSubscription(
  client: HStreamClient,
  subscriptionId: string,
  streamName: string,
  options: { ackTimeoutSeconds?: number; maxUnackedRecords?: number; offset?: 'EARLIEST' | 'LATEST' | number } = {},
) {
  return client.unary<Record<string, unknown>>('CreateSubscription', {
    subscriptionId,
    streamName,
    ackTimeoutSeconds: options.ackTimeoutSeconds ?? 60,
    maxUnackedRecords: options.maxUnackedRecords ?? 10_000,
    offset: options.offset ?? 'EARLIEST',
  });
}

/** The JSON error body of a failed call: `{"error":N,"message":…,"extra":…}`. */
export function errorBody(err: unknown): { error: number; message: string; extra: unknown } {
  return JSON.parse((err as grpc.ServiceError).details) as { error: number; message: string; extra: unknown };
}

/** Runs a call that must fail; returns its gRPC code and parsed JSON body. */
export async function failure(call: Promise<unknown>): Promise<{ code: grpc.status; error: number; message: string; extra: unknown }> {
  try {
    await call;
  } catch (err) {
    return { code: (err as grpc.ServiceError).code, ...errorBody(err) };
  }
  throw new Error('the call succeeded but was expected to fail');
}

export async function committedOffsets(client: HStreamClient, subscriptionId: string): Promise<Record<string, string>> {
  const res = await client.unary<{ offsets: Array<{ shardId: string; batchId: string }> }>('GetSubscription', { id: subscriptionId });
  return Object.fromEntries(res.offsets.map((o) => [o.shardId, o.batchId]));
}

/** `promise`, or a rejection naming `what` once `timeoutMs` has passed. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} (within ${timeoutMs} ms)`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
