/**
 * The one way records enter a stream. gRPC Append, the REST gateway, SQL
 * INSERT, query sinks and (next) source connectors all call this, so every
 * producer meets the same limits, partitioning, errors and statistics.
 */
import { ErrorCode, invalidArgument } from '../errors.js';
import { Compression, encodeRecords, type HStreamRecord } from '../records.js';
import type { StatsRegistry } from './stats.js';
import type { StreamCatalog } from './streams.js';

/** A batch as a client built it, for one shard. */
export interface PreparedBatch {
  compression: number;
  batchSize: number;
  payload: Buffer;
  /** upstream measures the serialized BatchedRecord, publishTime included; computed when absent */
  wireSize?: number;
}

export interface AppendedBatch {
  streamName: string;
  shardId: number;
  lsn: number;
  /** records in the batch: RecordIds are (shardId, lsn, 0 … count-1) */
  count: number;
}

export interface ProducerLimits {
  /** largest serialized batch, as upstream's max-record-size */
  maxRecordSizeBytes: number;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Size of a BatchedRecord as upstream measures it: its serialized form. */
export function batchedRecordSize(
  batch: { payload: Buffer; batchSize: number; publishTime?: { seconds: number | string; nanos: number } | null },
  compression: number,
): number {
  return serializedSize(batch.payload.length, batch.batchSize, compression, batch.publishTime);
}

function serializedSize(
  payloadBytes: number,
  batchSize: number,
  compression: number,
  publishTime?: { seconds: number | string; nanos: number } | null,
): number {
  let size = 1 + varintSize(payloadBytes) + payloadBytes;
  if (compression !== 0) size += 2;
  if (batchSize !== 0) size += 1 + varintSize(batchSize);
  if (publishTime) {
    const seconds = Number(publishTime.seconds);
    const inner = (seconds > 0 ? 1 + varintSize(seconds) : seconds < 0 ? 11 : 0) + (publishTime.nanos > 0 ? 1 + varintSize(publishTime.nanos) : 0);
    size += 1 + varintSize(inner) + inner;
  }
  return size;
}

/**
 * Most records a batch can claim. Every record takes at least 2 bytes in a
 * BatchHStreamRecords (field tag and length), so an uncompressed payload of n
 * bytes holds at most n/2 of them; a compressed one may claim no more than the
 * largest uncompressed batch we accept. The bound matters because the reply
 * (and every read) carries one RecordId per claimed record: a 30-byte Append
 * claiming 2^32-1 records used to make the server build 4 billion RecordIds
 * until it ran out of memory (test/reliability, hostile input).
 */
export function maxRecordsInBatch(payloadBytes: number, compression: number, maxRecordSizeBytes: number): number {
  return Math.floor((compression === Compression.None ? payloadBytes : maxRecordSizeBytes) / 2);
}

/** Records per batch when a producer hands us records rather than batches. */
const DEFAULT_MAX_BATCH_RECORDS = 500;

export class Producer {
  constructor(
    private readonly streams: StreamCatalog,
    private readonly stats: StatsRegistry,
    private readonly limits: ProducerLimits,
  ) {}

  /**
   * Appends a batch a client built for one shard. `streamName` is what the
   * client said it appends to: statistics use it when the shard is unknown.
   */
  async appendBatch(shardId: number, batch: PreparedBatch, streamName = ''): Promise<AppendedBatch> {
    if (batch.batchSize === 0 || batch.payload.length === 0) {
      throw invalidArgument(ErrorCode.StreamEmptyBatchedRecord, "BatchedRecord shouldn't be Nothing", { extra: 'the batch has no records' });
    }
    if (!Number.isInteger(batch.compression) || batch.compression < 0 || batch.compression > Compression.Zstd) {
      throw invalidArgument(ErrorCode.InternalError, 'UnknownCompressionType', { extra: String(batch.compression) });
    }
    const size = batch.wireSize ?? batchedRecordSize(batch, batch.compression);
    if (size > this.limits.maxRecordSizeBytes) {
      throw invalidArgument(ErrorCode.StreamInvalidRecordSize, 'Record size exceeds the maximum size limit', { extra: size });
    }
    const maxRecords = maxRecordsInBatch(batch.payload.length, batch.compression, this.limits.maxRecordSizeBytes);
    if (batch.batchSize > maxRecords) {
      throw invalidArgument(ErrorCode.InternalError, 'InvalidBatchSize', {
        extra: `batchSize ${batch.batchSize} is more records than the payload can hold (at most ${maxRecords})`,
      });
    }
    const statName = this.streams.streamOfShard(shardId)?.name ?? streamName;
    try {
      const { stream, lsn } = await this.streams.append(shardId, { compression: batch.compression, batchSize: batch.batchSize, payload: batch.payload });
      this.stats.recordAppend(statName, size, batch.batchSize);
      return { streamName: stream.name, shardId, lsn, count: batch.batchSize };
    } catch (err) {
      if (this.streams.find(statName)) this.stats.recordAppendFailure(statName);
      throw err;
    }
  }

  /**
   * Appends records to a stream: each goes to the shard its key hashes to (or
   * all to `options.shardId`), packed in order into batches of at most
   * `maxBatchRecords` records within the size limit. A record too large for
   * any batch is refused before anything is appended. Batches are appended one
   * after another: if one fails, the ones before it stay appended and the
   * error is thrown (a caller that retries delivers at least once).
   */
  async appendRecords(
    streamName: string,
    records: readonly HStreamRecord[],
    options: { shardId?: number; maxBatchRecords?: number } = {},
  ): Promise<AppendedBatch[]> {
    const stream = this.streams.get(streamName);
    const maxBytes = this.limits.maxRecordSizeBytes;
    const maxRecords = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
    const byShard = new Map<number, Buffer[]>();
    for (const record of records) {
      const shardId = options.shardId ?? this.streams.shardForKey(stream, record.header.key).shardId;
      // One record encoded alone is a valid BatchHStreamRecords; several concatenated are one batch.
      const encoded = encodeRecords([record]);
      const size = serializedSize(encoded.length, 1, Compression.None);
      if (size > maxBytes) {
        throw invalidArgument(ErrorCode.StreamInvalidRecordSize, 'Record size exceeds the maximum size limit', { extra: size });
      }
      let list = byShard.get(shardId);
      if (!list) byShard.set(shardId, (list = []));
      list.push(encoded);
    }
    const appended: AppendedBatch[] = [];
    for (const [shardId, encoded] of byShard) {
      for (let start = 0; start < encoded.length; ) {
        let end = start;
        let bytes = 0;
        while (end < encoded.length && end - start < maxRecords && serializedSize(bytes + encoded[end]!.length, end - start + 1, Compression.None) <= maxBytes) {
          bytes += encoded[end]!.length;
          end++;
        }
        const payload = Buffer.concat(encoded.slice(start, end), bytes);
        appended.push(await this.appendBatch(shardId, { compression: Compression.None, batchSize: end - start, payload }, streamName));
        start = end;
      }
    }
    return appended;
  }
}
