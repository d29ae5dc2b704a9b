/**
 * TypeScript shapes of the HStreamApi messages as handlers see them under
 * LOADER_OPTIONS (uint64 as decimal strings, enums as names, absent message
 * fields as null, oneof discriminators). Only the messages we serve.
 */

import type { RecordIdRun } from '../wire/hot-messages.js';

export type U64 = string;

export interface Timestamp {
  seconds: string | number;
  nanos: number;
}

export type SpecialOffsetName = 'EARLIEST' | 'LATEST';
export type CompressionTypeName = 'None' | 'Gzip' | 'Zstd';

/** As received, uint64 fields are decimal strings; replies may set them as numbers (ours stay below 2^53), which serialize about twice as fast. */
export interface RecordId {
  shardId: U64 | number;
  batchId: U64 | number;
  batchIndex: number;
}

export interface TimestampOffset {
  timestampInMs: string;
  strictAccuracy: boolean;
}

export interface ShardOffset {
  offset?: 'specialOffset' | 'recordOffset' | 'timestampOffset';
  specialOffset?: SpecialOffsetName | number | null;
  recordOffset?: RecordId | null;
  timestampOffset?: TimestampOffset | null;
}

export interface StreamOffset {
  offset?: 'specialOffset' | 'timestampOffset';
  specialOffset?: SpecialOffsetName | number | null;
  timestampOffset?: TimestampOffset | null;
}

export interface BatchedRecord {
  compressionType: CompressionTypeName | number;
  publishTime: Timestamp | null;
  batchSize: number;
  payload: Buffer;
}

export interface ReceivedRecord {
  /** as sent by the server: a run (see src/wire/hot-messages.ts) */
  recordIds: RecordId[] | RecordIdRun;
  record: BatchedRecord;
}

export interface Stream {
  streamName: string;
  replicationFactor: number;
  backlogDuration: number;
  shardCount: number;
  creationTime: Timestamp | null;
}

export interface Shard {
  streamName: string;
  shardId: U64;
  startHashRangeKey: string;
  endHashRangeKey: string;
  epoch: U64;
  isActive: boolean;
}

export interface ServerNode {
  id: number;
  host: string;
  port: number;
  version: { version: string; commit: string };
}

export interface AppendRequest {
  streamName: string;
  shardId: U64;
  records: BatchedRecord | null;
}

export interface DeleteStreamRequest {
  streamName: string;
  ignoreNonExist: boolean;
  force: boolean;
}

export interface TrimStreamRequest {
  streamName: string;
  trimPoint: StreamOffset | null;
}

export interface TrimShardRequest {
  streamName: string;
  shardId: U64;
  trimPoint: ShardOffset | null;
}

export interface TrimShardsRequest {
  streamName: string;
  recordIds: string[];
}

export interface CreateShardReaderRequest {
  streamName: string;
  shardId: U64;
  shardOffset: ShardOffset | null;
  readerId: string;
  timeout: number;
}

export interface ReadShardStreamRequest {
  readerId: string;
  shardId: U64;
  from: ShardOffset | null;
  maxReadBatches: U64;
  until: ShardOffset | null;
  streamName: string;
}

export interface ReadStreamRequest {
  readerId: string;
  streamName: string;
  from: StreamOffset | null;
  until: StreamOffset | null;
  maxReadBatches: U64;
}

export interface ReadSingleShardStreamRequest {
  readerId: string;
  streamName: string;
  from: ShardOffset | null;
  until: ShardOffset | null;
  maxReadBatches: U64;
}

export interface ReadStreamByKeyRequest {
  readerId: string;
  streamName: string;
  key: string;
  from: ShardOffset | null;
  until: ShardOffset | null;
  readRecordCount: U64;
}

export interface HStreamRecordMessage {
  header: { flag: 'JSON' | 'RAW'; attributes: Record<string, string>; key: string };
  payload: Buffer;
}

export interface Subscription {
  subscriptionId: string;
  streamName: string;
  ackTimeoutSeconds: number;
  maxUnackedRecords: number;
  offset: SpecialOffsetName | number;
  creationTime: Timestamp | null;
}

export interface StreamingFetchRequest {
  subscriptionId: string;
  consumerName: string;
  ackIds: RecordId[];
}

export interface StatType {
  stat?: string;
  [kind: string]: unknown;
}
