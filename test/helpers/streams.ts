/** Message shapes and small steps shared by the integration tests. */
import type { HStreamClient } from '../../src/client.js';
import { Compression, decodeRecords, type HStreamRecord } from '../../src/records.js';

export interface RecordIdMsg {
  shardId: string;
  batchId: string;
  batchIndex: number;
}

export interface Received {
  recordIds: RecordIdMsg[];
  record: { compressionType: string; publishTime: { seconds: string; nanos: number }; batchSize: number; payload: Buffer };
}

/** Creates a stream and returns its shard ids in ListShards order. */
export async function createStream(client: HStreamClient, name: string, shardCount = 1, extra: Record<string, unknown> = {}): Promise<string[]> {
  await client.unary('CreateStream', { streamName: name, replicationFactor: 1, shardCount, ...extra });
  const { shards } = await client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: name });
  return shards.map((s) => s.shardId);
}

let readers = 0;

/** Every record of the stream from the earliest to the latest, decoded (ReadStream with a fresh reader id). */
export async function readStreamRecords(client: HStreamClient, stream: string): Promise<HStreamRecord[]> {
  const msgs = await client.collect<{ receivedRecords: Received[] }>('ReadStream', {
    readerId: `test-read-${readers++}`,
    streamName: stream,
    from: { specialOffset: 'EARLIEST' },
    until: { specialOffset: 'LATEST' },
  });
  return msgs
    .flatMap((m) => m.receivedRecords)
    .flatMap((r) => decodeRecords(Compression[r.record.compressionType as 'None'], Buffer.from(r.record.payload)));
}
