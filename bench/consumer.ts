/**
 * A long-lived StreamingFetch consumer for the bench: attached once, acks
 * every RecordId as it arrives, and hands each delivered batch to a callback
 * (the latency rows read the send time out of the records). Detached with
 * cancel(); the subscription stays.
 */
import * as grpc from '@grpc/grpc-js';
import type { HStreamClient } from '../src/client.js';
import { compressionCode, decodeRecords, type HStreamRecord } from '../src/records.js';
import { CALL_DEADLINE_MS } from './clients.js';

export interface RecordIdMessage {
  shardId: string;
  batchId: string;
  batchIndex: number;
}

interface FetchResponse {
  receivedRecords: { recordIds: RecordIdMessage[]; record: { compressionType: string | number; payload: Buffer } | null } | null;
}

interface FetchRequest {
  subscriptionId: string;
  consumerName: string;
  ackIds: RecordIdMessage[];
}

export interface Consumer {
  /** records delivered so far */
  received(): number;
  /** stops the call (the server sees a cancel) */
  cancel(): void;
  /** the first error the call ended with, if any */
  failure(): Error | undefined;
}

export async function createSubscription(client: HStreamClient, subscriptionId: string, streamName: string, maxUnackedRecords = 10_000): Promise<void> {
  await client.unary(
    'CreateSubscription',
    { subscriptionId, streamName, ackTimeoutSeconds: 60, maxUnackedRecords, offset: 'EARLIEST' },
    { deadlineMs: CALL_DEADLINE_MS },
  );
}

/**
 * Attaches one consumer that acks every id. With `onRecords`, each delivered
 * batch is decoded and handed over with the time it arrived.
 */
export function attachConsumer(
  client: HStreamClient,
  subscriptionId: string,
  onRecords?: (records: HStreamRecord[], arrivedMs: number) => void,
  consumerName = 'bench_consumer',
): Consumer {
  const call = client.bidi<FetchRequest, FetchResponse>('StreamingFetch');
  let received = 0;
  let failure: Error | undefined;
  call.on('data', (msg: FetchResponse) => {
    const arrived = performance.now();
    const batch = msg.receivedRecords;
    const ids = batch?.recordIds ?? [];
    received += ids.length;
    call.write({ subscriptionId, consumerName, ackIds: ids });
    if (onRecords && batch?.record) onRecords(decodeRecords(compressionCode(batch.record.compressionType), batch.record.payload), arrived);
  });
  call.on('error', (err: grpc.ServiceError) => {
    if (err.code !== grpc.status.CANCELLED) failure ??= err;
  });
  call.write({ subscriptionId, consumerName, ackIds: [] });
  return { received: () => received, cancel: () => call.cancel(), failure: () => failure };
}
