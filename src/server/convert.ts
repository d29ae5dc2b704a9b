/** Conversions between wire messages and core values. */
import type { StoredBatch } from '../../storage/index.js';
import type { Offset } from '../core/readers.js';
import type { StreamSummary } from '../core/streams.js';
import { conflictShardReaderOffset, ErrorCode, invalidArgument, invalidShardOffset } from '../errors.js';
import { compressionName } from '../records.js';
import type { ReceivedRecord, ShardOffset, Stream, StreamOffset, Timestamp } from './messages.js';
import { parseId, quoted } from './validate.js';

export function timestamp(ms: number): Timestamp {
  return { seconds: Math.floor(ms / 1000), nanos: Math.round((ms % 1000) * 1e6) };
}

export function toStreamMessage(s: StreamSummary): Stream {
  return {
    streamName: s.name,
    replicationFactor: s.replicationFactor,
    backlogDuration: s.backlogDuration,
    shardCount: s.shardCount,
    creationTime: timestamp(s.creationTimeMs),
  };
}

/** A stored batch as delivered: the producer's bytes, with publishTime = store time, its RecordIds as a run. */
export function toReceivedRecord(b: StoredBatch): ReceivedRecord {
  return receivedRecord(b, undefined);
}

/** `toReceivedRecord` carrying only the records at `indexes` (their payload already cut down to them). */
export function receivedRecord(b: StoredBatch, indexes: readonly number[] | undefined): ReceivedRecord {
  return {
    recordIds: { shardId: b.shardId, batchId: b.lsn, count: indexes ? indexes.length : b.batchSize, indexes },
    record: {
      compressionType: compressionName(b.compression),
      publishTime: timestamp(b.timeMs),
      batchSize: b.batchSize,
      payload: b.payload,
    },
  };
}

function special(value: string | number | null | undefined): Offset {
  if (value === 'EARLIEST' || value === 0 || value === null || value === undefined) return { kind: 'earliest' };
  if (value === 'LATEST' || value === 1) return { kind: 'latest' };
  throw invalidShardOffset(`unknown special offset ${String(value)}`);
}

function timeOffset(value: { timestampInMs: string } | null | undefined): Offset {
  const ms = Number(value?.timestampInMs ?? 0);
  if (!Number.isFinite(ms)) throw invalidShardOffset('the timestamp is not a number');
  return { kind: 'time', timeMs: ms };
}

/** A ShardOffset message; unset → InvalidShardOffset (208) like upstream. */
export function parseShardOffset(offset: ShardOffset | null | undefined, what = 'offset'): Offset {
  switch (offset?.offset) {
    case 'specialOffset':
      return special(offset.specialOffset);
    case 'timestampOffset':
      return timeOffset(offset.timestampOffset);
    case 'recordOffset': {
      const rid = offset.recordOffset;
      const shardId = parseId(rid?.shardId);
      const lsn = parseId(rid?.batchId);
      if (shardId < 0 || lsn < 0) throw conflictShardReaderOffset(`the record id in the ${what} is out of range`);
      return { kind: 'record', shardId, lsn };
    }
    default:
      throw invalidShardOffset(`the ${what} is not set`);
  }
}

export function parseStreamOffset(offset: StreamOffset | null | undefined, what = 'offset'): Offset {
  switch (offset?.offset) {
    case 'specialOffset':
      return special(offset.specialOffset);
    case 'timestampOffset':
      return timeOffset(offset.timestampOffset);
    default:
      throw invalidShardOffset(`the ${what} is not set`);
  }
}

/** "shardId-batchId-batchIndex", the text form of a RecordId that clients and TrimShards use. */
export function parseRecordIdText(text: string): { shardId: number; lsn: number; index: number } {
  const m = /^(\d+)-(\d+)-(\d+)$/.exec(text);
  const parsed = m ? { shardId: parseId(m[1]), lsn: parseId(m[2]), index: parseId(m[3]) } : undefined;
  if (!parsed || parsed.shardId < 0 || parsed.lsn < 0 || parsed.index < 0) {
    throw invalidArgument(ErrorCode.StreamInvalidRecordId, 'InvalidRecordId', { extra: quoted(text) });
  }
  return parsed;
}
