/**
 * Hand-written codecs for the messages on the data path: Append replies,
 * every message that carries ReceivedRecords (StreamingFetch, ReadShard*,
 * ReadStream), StreamingFetch requests (acks), and CreateStream's Stream
 * (creating streams in bulk is a path of its own). The record messages
 * carry one RecordId per record, and protobufjs spends more on those hundred small messages
 * (object conversion, Long arithmetic for every uint64) than on the 100 KiB
 * payload next to them. Here a RecordId run that shares shardId and batchId
 * is encoded from one precomputed prefix, and uint64s stay plain numbers.
 *
 * They read and write the same object shapes as protobufjs under
 * LOADER_OPTIONS (src/proto.ts), which the equivalence tests in
 * test/unit/hot-messages.test.ts check field by field; the server decodes
 * uint64s as numbers (safe below 2^53, decimal strings above), the client as
 * decimal strings like the rest of its messages.
 */
import type * as grpc from '@grpc/grpc-js';
import {
  tagSize,
  u64Bytes,
  u64Size,
  varintSize,
  WireError,
  WireReader,
  WireType,
  writeTag,
  writeU64,
  writeVarint,
  type U64Input,
} from './protobuf.js';
import { encodeStream, serializeStreamList, type EncodedStreamList, type WireStream } from './stream-list.js';

export interface WireRecordId {
  shardId: U64Input;
  batchId: U64Input;
  batchIndex: number;
}

export interface WireTimestamp {
  seconds: U64Input;
  nanos: number;
}

export interface WireBatchedRecord {
  compressionType: string | number;
  publishTime: WireTimestamp | null;
  batchSize: number;
  payload: Uint8Array;
}

/**
 * The RecordIds of one stored batch without an object per record: shardId
 * and batchId shared, batchIndex 0..count-1 or the listed `indexes`. The
 * server's data path writes these: a hundred RecordId objects per batch
 * lived as long as the message waited for the transport, long enough to be
 * promoted, and made V8 run a full collection every few dozen milliseconds.
 */
export interface RecordIdRun {
  shardId: number;
  batchId: number;
  count: number;
  indexes?: readonly number[];
}

export interface WireReceivedRecord {
  recordIds: WireRecordId[] | RecordIdRun;
  record: WireBatchedRecord | null;
}

function isRun(ids: WireRecordId[] | RecordIdRun): ids is RecordIdRun {
  return !Array.isArray(ids);
}

const COMPRESSION_CODES: Record<string, number> = { None: 0, Gzip: 1, Zstd: 2 };
const COMPRESSION_NAMES = ['None', 'Gzip', 'Zstd'] as const;

/** Varint bytes of an int32 (negative values take ten bytes, sign-extended). */
function i32Bytes(n: number): number | Buffer {
  return n >= 0 ? n : u64Bytes(BigInt(n));
}

function compressionCode(value: string | number): number {
  if (typeof value === 'number') return value;
  const code = COMPRESSION_CODES[value];
  if (code === undefined) throw new TypeError(`unknown compression type ${value}`);
  return code;
}

// ------------------------------------------------------------------ encoding

/**
 * A message being encoded in two passes: sizes first (so the buffer is
 * allocated once), then bytes. Sizes of nested messages are kept in visit
 * order and replayed by the write pass.
 */
class Encoder {
  private sizes: number[] = [];
  private next = 0;
  buf: Buffer = Buffer.alloc(0);
  pos = 0;

  measureRecordIds(ids: WireRecordId[] | RecordIdRun): number {
    if (isRun(ids)) return this.measureRun(ids);
    let total = 0;
    let prevShard: U64Input | undefined;
    let prevBatch: U64Input | undefined;
    let prefix = 0;
    for (const id of ids) {
      if (id.shardId !== prevShard || id.batchId !== prevBatch) {
        prevShard = id.shardId;
        prevBatch = id.batchId;
        prefix = fieldU64Size(1, u64Bytes(id.shardId)) + fieldU64Size(2, u64Bytes(id.batchId));
      }
      total += recordIdSize(prefix, id.batchIndex >>> 0);
    }
    return total;
  }

  measureRun(run: RecordIdRun): number {
    const prefix = fieldU64Size(1, u64Bytes(run.shardId)) + fieldU64Size(2, u64Bytes(run.batchId));
    let total = 0;
    for (let i = 0; i < run.count; i++) total += recordIdSize(prefix, (run.indexes ? run.indexes[i]! : i) >>> 0);
    return total;
  }

  writeRun(field: number, run: RecordIdRun): void {
    const buf = this.buf;
    let pos = this.pos;
    const shard = u64Bytes(run.shardId);
    const batch = u64Bytes(run.batchId);
    const prefix = fieldU64Size(1, shard) + fieldU64Size(2, batch);
    for (let i = 0; i < run.count; i++) pos = writeRecordId(buf, pos, field, prefix, shard, batch, (run.indexes ? run.indexes[i]! : i) >>> 0);
    this.pos = pos;
  }

  writeRecordIds(field: number, ids: WireRecordId[] | RecordIdRun): void {
    if (isRun(ids)) return this.writeRun(field, ids);
    const buf = this.buf;
    let pos = this.pos;
    let prevShard: U64Input | undefined;
    let prevBatch: U64Input | undefined;
    let shard: number | Buffer = 0;
    let batch: number | Buffer = 0;
    let prefix = 0;
    for (const id of ids) {
      if (id.shardId !== prevShard || id.batchId !== prevBatch) {
        prevShard = id.shardId;
        prevBatch = id.batchId;
        shard = u64Bytes(id.shardId);
        batch = u64Bytes(id.batchId);
        prefix = fieldU64Size(1, shard) + fieldU64Size(2, batch);
      }
      pos = writeRecordId(buf, pos, field, prefix, shard, batch, id.batchIndex >>> 0);
    }
    this.pos = pos;
  }

  measureBatchedRecord(r: WireBatchedRecord): number {
    let size = 0;
    const compression = i32Bytes(compressionCode(r.compressionType));
    if (compression !== 0) size += 1 + u64Size(compression);
    if (r.publishTime) {
      const ts = timestampSize(r.publishTime);
      size += 1 + varintSize(ts) + ts;
    }
    if (r.batchSize) size += 1 + varintSize(r.batchSize >>> 0);
    size += lenFieldSize(r.payload.length);
    return size;
  }

  writeBatchedRecord(r: WireBatchedRecord): void {
    const buf = this.buf;
    let pos = this.pos;
    const compression = i32Bytes(compressionCode(r.compressionType));
    if (compression !== 0) pos = writeU64(buf, writeTag(buf, pos, 1, WireType.Varint), compression);
    if (r.publishTime) {
      pos = writeTag(buf, pos, 2, WireType.Len);
      pos = writeVarint(buf, pos, timestampSize(r.publishTime));
      const seconds = u64Bytes(r.publishTime.seconds);
      if (seconds !== 0) pos = writeU64(buf, writeTag(buf, pos, 1, WireType.Varint), seconds);
      const nanos = i32Bytes(r.publishTime.nanos);
      if (nanos !== 0) pos = writeU64(buf, writeTag(buf, pos, 2, WireType.Varint), nanos);
    }
    if (r.batchSize) pos = writeVarint(buf, writeTag(buf, pos, 3, WireType.Varint), r.batchSize >>> 0);
    if (r.payload.length) {
      pos = writeVarint(buf, writeTag(buf, pos, 4, WireType.Len), r.payload.length);
      buf.set(r.payload, pos);
      pos += r.payload.length;
    }
    this.pos = pos;
  }

  /** Size of a ReceivedRecord's body; remembers its parts' sizes for the write pass. */
  measureReceived(r: WireReceivedRecord): number {
    let size = this.measureRecordIds(r.recordIds);
    if (r.record) {
      const record = this.measureBatchedRecord(r.record);
      this.sizes.push(record);
      size += 1 + varintSize(record) + record;
    }
    this.sizes.push(size);
    return size;
  }

  writeReceived(field: number, r: WireReceivedRecord): void {
    const record = r.record ? this.sizes[this.next++]! : 0;
    const size = this.sizes[this.next++]!;
    this.pos = writeVarint(this.buf, writeTag(this.buf, this.pos, field, WireType.Len), size);
    this.writeRecordIds(1, r.recordIds);
    if (r.record) {
      this.pos = writeVarint(this.buf, writeTag(this.buf, this.pos, 2, WireType.Len), record);
      this.writeBatchedRecord(r.record);
    }
  }

  alloc(size: number, reuse = false): void {
    this.buf = reuse ? scratchBuffer(size) : Buffer.allocUnsafe(size);
    this.pos = 0;
    this.next = 0;
  }

  writeString(field: number, value: string, bytes: number): void {
    if (!bytes) return;
    this.pos = writeVarint(this.buf, writeTag(this.buf, this.pos, field, WireType.Len), bytes);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  finish(): Buffer {
    if (this.pos !== this.buf.length) throw new Error(`encoder wrote ${this.pos} of ${this.buf.length} bytes`);
    return this.buf;
  }
}

/**
 * grpc-js copies a server response into its own framed buffer before the
 * serializer's caller returns (ServerInterceptingCall.serializeMessage), so
 * server responses are written into one reused buffer: a fresh 100 KiB
 * allocation per delivered batch kept the garbage collector busy for a sixth
 * of the server's time. Not for client requests, which grpc-js may hold.
 */
let scratch = Buffer.allocUnsafeSlow(0);
const MAX_SCRATCH_BYTES = 8 * 1024 * 1024;

function scratchBuffer(size: number): Buffer {
  if (size > MAX_SCRATCH_BYTES) return Buffer.allocUnsafe(size);
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.min(MAX_SCRATCH_BYTES, Math.max(size, scratch.length * 2, 64 * 1024)));
  return scratch.subarray(0, size);
}

/** Bytes of one RecordId as a length-delimited field (fields 1–15). */
function recordIdSize(prefix: number, index: number): number {
  const body = prefix + (index ? 1 + varintSize(index) : 0);
  return 1 + varintSize(body) + body;
}

/** One RecordId as a length-delimited field; `prefix` is the size of its shardId and batchId fields. */
function writeRecordId(buf: Buffer, pos: number, field: number, prefix: number, shard: number | Buffer, batch: number | Buffer, index: number): number {
  pos = writeTag(buf, pos, field, WireType.Len);
  pos = writeVarint(buf, pos, prefix + (index ? 1 + varintSize(index) : 0));
  if (shard !== 0) pos = writeU64(buf, writeTag(buf, pos, 1, WireType.Varint), shard);
  if (batch !== 0) pos = writeU64(buf, writeTag(buf, pos, 2, WireType.Varint), batch);
  if (index) pos = writeVarint(buf, writeTag(buf, pos, 3, WireType.Varint), index);
  return pos;
}

function fieldU64Size(field: number, bytes: number | Buffer): number {
  return bytes === 0 ? 0 : tagSize(field) + u64Size(bytes);
}

function timestampSize(ts: WireTimestamp): number {
  return fieldU64Size(1, u64Bytes(ts.seconds)) + fieldU64Size(2, i32Bytes(ts.nanos));
}

function stringField(value: string | undefined): number {
  return value ? Buffer.byteLength(value, 'utf8') : 0;
}

/** Size of a length-delimited field (fields 1–15) holding `bytes` bytes; absent when empty. */
function lenFieldSize(bytes: number): number {
  return bytes ? 1 + varintSize(bytes) + bytes : 0;
}

/**
 * `{ receivedRecords }` of StreamingFetchResponse (one ReceivedRecord) and of
 * ReadShard/ReadShardStream/ReadStream/ReadSingleShardStreamResponse (a
 * list): both are field 1 on the wire.
 */
export function encodeReceivedRecords(message: { receivedRecords: WireReceivedRecord | WireReceivedRecord[] | null }, reuseBuffer = false): Buffer {
  const value = message.receivedRecords;
  const records = value === null || value === undefined ? [] : Array.isArray(value) ? value : [value];
  const enc = new Encoder();
  let size = 0;
  for (const r of records) {
    const body = enc.measureReceived(r);
    size += 1 + varintSize(body) + body;
  }
  enc.alloc(size, reuseBuffer);
  for (const r of records) enc.writeReceived(1, r);
  return enc.finish();
}

export interface WireAppendResponse {
  streamName: string;
  shardId: U64Input;
  recordIds: WireRecordId[] | RecordIdRun;
}

export function encodeAppendResponse(message: WireAppendResponse): Buffer {
  const enc = new Encoder();
  const nameBytes = stringField(message.streamName);
  const shard = u64Bytes(message.shardId);
  const size = lenFieldSize(nameBytes) + fieldU64Size(2, shard) + enc.measureRecordIds(message.recordIds);
  enc.alloc(size);
  enc.writeString(1, message.streamName, nameBytes);
  if (shard !== 0) enc.pos = writeU64(enc.buf, writeTag(enc.buf, enc.pos, 2, WireType.Varint), shard);
  enc.writeRecordIds(3, message.recordIds);
  return enc.finish();
}

export interface WireFetchRequest {
  subscriptionId: string;
  consumerName: string;
  ackIds: WireRecordId[];
}

export function encodeStreamingFetchRequest(message: WireFetchRequest): Buffer {
  const enc = new Encoder();
  const sub = stringField(message.subscriptionId);
  const consumer = stringField(message.consumerName);
  const ackIds = message.ackIds ?? [];
  const size = lenFieldSize(sub) + lenFieldSize(consumer) + enc.measureRecordIds(ackIds);
  enc.alloc(size);
  enc.writeString(1, message.subscriptionId, sub);
  enc.writeString(2, message.consumerName, consumer);
  enc.writeRecordIds(3, ackIds);
  return enc.finish();
}

// ------------------------------------------------------------------ decoding

/** How uint64 values come out: numbers for the server's handlers, decimal strings for clients. */
type U64Out = (r: WireReader) => number | string;
const asNumber: U64Out = (r) => r.uint64();
const asString: U64Out = (r) => String(r.uint64());

/**
 * The RecordIds of one delivered batch repeat their shardId and batchId a
 * hundred times: a client reuses the last string of each field instead of
 * formatting (and, when it acks, parsing) the same number again per record.
 */
class U64TextMemo {
  private value: number | string = 0;
  private text = '0';

  read(r: WireReader): string {
    const value = r.uint64();
    if (value !== this.value) {
      this.value = value;
      this.text = String(value);
    }
    return this.text;
  }
}
const shardIdTexts = new U64TextMemo();
const batchIdTexts = new U64TextMemo();

/**
 * Reads a message field by field: `take` reads the fields it knows (with the
 * wire type their declaration implies) and returns false for the rest,
 * which are skipped as protobufjs skips unknown fields.
 */
function readFields(r: WireReader, take: (field: number, type: WireType) => boolean): void {
  while (!r.done) {
    const [field, type] = r.tag();
    if (!take(field, type)) r.skip(type, field);
  }
}

/**
 * Reads one embedded RecordId in place: an ack message carries one per
 * record, and a nested reader, a closure and a [field, type] pair per field
 * made the decoder allocate six objects per acked record.
 */
function decodeRecordId(r: WireReader, u64: U64Out): WireRecordId {
  const end = r.enter();
  let shardId: number | string = u64 === asNumber ? 0 : '0';
  let batchId = shardId;
  let batchIndex = 0;
  while (r.pos < end) {
    const key = r.uint32();
    const field = key >>> 3;
    const type = (key & 7) as WireType;
    if (field === 0) throw new WireError('field number 0');
    if (type !== WireType.Varint) r.skip(type, field);
    else if (field === 1) shardId = u64 === asString ? shardIdTexts.read(r) : u64(r);
    else if (field === 2) batchId = u64 === asString ? batchIdTexts.read(r) : u64(r);
    else if (field === 3) batchIndex = r.uint32();
    else r.skip(type, field);
  }
  r.leave(end);
  return { shardId, batchId, batchIndex };
}

export function decodeStreamingFetchRequest(bytes: Buffer): WireFetchRequest {
  const r = new WireReader(bytes);
  const out: WireFetchRequest = { subscriptionId: '', consumerName: '', ackIds: [] };
  while (!r.done) {
    const key = r.uint32();
    const field = key >>> 3;
    const type = (key & 7) as WireType;
    if (field === 0) throw new WireError('field number 0');
    if (type !== WireType.Len) r.skip(type, field);
    else if (field === 3) out.ackIds.push(decodeRecordId(r, asNumber));
    else if (field === 1) out.subscriptionId = r.string();
    else if (field === 2) out.consumerName = r.string();
    else r.skip(type, field);
  }
  return out;
}

export interface DecodedAppendResponse {
  streamName: string;
  shardId: string;
  recordIds: WireRecordId[];
}

export function decodeAppendResponse(bytes: Buffer): DecodedAppendResponse {
  const r = new WireReader(bytes);
  const out: DecodedAppendResponse = { streamName: '', shardId: '0', recordIds: [] };
  readFields(r, (field, type) => {
    if (field === 1 && type === WireType.Len) out.streamName = r.string();
    else if (field === 2 && type === WireType.Varint) out.shardId = String(r.uint64());
    else if (field === 3 && type === WireType.Len) out.recordIds.push(decodeRecordId(r, asString));
    else return false;
    return true;
  });
  return out;
}

function decodeTimestamp(r: WireReader): WireTimestamp {
  const inner = r.nested();
  const ts: WireTimestamp = { seconds: '0', nanos: 0 };
  readFields(inner, (field, type) => {
    if (type !== WireType.Varint) return false;
    if (field === 1) ts.seconds = String(inner.int64());
    else if (field === 2) ts.nanos = inner.int32();
    else return false;
    return true;
  });
  return ts;
}

function decodeBatchedRecord(r: WireReader): WireBatchedRecord {
  const inner = r.nested();
  const out: WireBatchedRecord = { compressionType: 'None', publishTime: null, batchSize: 0, payload: Buffer.alloc(0) };
  readFields(inner, (field, type) => {
    if (field === 1 && type === WireType.Varint) {
      const code = inner.int32();
      out.compressionType = COMPRESSION_NAMES[code] ?? code;
    } else if (field === 2 && type === WireType.Len) out.publishTime = decodeTimestamp(inner);
    else if (field === 3 && type === WireType.Varint) out.batchSize = inner.uint32();
    else if (field === 4 && type === WireType.Len) out.payload = inner.bytes();
    else return false;
    return true;
  });
  return out;
}

function decodeReceivedRecord(r: WireReader): WireReceivedRecord {
  const inner = r.nested();
  const ids: WireRecordId[] = [];
  const out: WireReceivedRecord = { recordIds: ids, record: null };
  readFields(inner, (field, type) => {
    if (type !== WireType.Len) return false;
    if (field === 1) ids.push(decodeRecordId(inner, asString));
    else if (field === 2) out.record = decodeBatchedRecord(inner);
    else return false;
    return true;
  });
  return out;
}

/** ReceivedRecords in field 1, as clients see them: the last one (StreamingFetchResponse) or all (the read responses). */
function decodeReceivedField(bytes: Buffer): WireReceivedRecord[] {
  const r = new WireReader(bytes);
  const list: WireReceivedRecord[] = [];
  readFields(r, (field, type) => {
    if (field !== 1 || type !== WireType.Len) return false;
    list.push(decodeReceivedRecord(r));
    return true;
  });
  return list;
}

export function decodeStreamingFetchResponse(bytes: Buffer): { receivedRecords: WireReceivedRecord | null } {
  return { receivedRecords: decodeReceivedField(bytes).pop() ?? null };
}

/** ReadShard/ReadShardStream/ReadStream/ReadSingleShardStreamResponse. */
export function decodeReceivedRecordList(bytes: Buffer): { receivedRecords: WireReceivedRecord[] } {
  return { receivedRecords: decodeReceivedField(bytes) };
}

/** A Stream as protobufjs reads it under LOADER_OPTIONS (creationTime null when absent). */
export interface DecodedStream {
  streamName: string;
  replicationFactor: number;
  backlogDuration: number;
  shardCount: number;
  creationTime: WireTimestamp | null;
}

/** One Stream message: CreateStream's request on the server, its reply on the client. */
export function decodeStream(bytes: Buffer): DecodedStream {
  return readStream(new WireReader(bytes));
}

function readStream(r: WireReader): DecodedStream {
  const stream: DecodedStream = { streamName: '', replicationFactor: 0, backlogDuration: 0, shardCount: 0, creationTime: null };
  readFields(r, (field, type) => {
    if (field === 1 && type === WireType.Len) stream.streamName = r.string();
    else if (field === 2 && type === WireType.Varint) stream.replicationFactor = r.uint32();
    else if (field === 3 && type === WireType.Varint) stream.backlogDuration = r.uint32();
    else if (field === 4 && type === WireType.Varint) stream.shardCount = r.uint32();
    else if (field === 5 && type === WireType.Len) stream.creationTime = decodeTimestamp(r);
    else return false;
    return true;
  });
  return stream;
}

/**
 * ListStreamsResponse on the client: protobufjs took ~170 ms to read a
 * listing of 100k streams into objects (issue 16), most of the call.
 */
export function decodeListStreamsResponse(bytes: Buffer): { streams: DecodedStream[] } {
  const r = new WireReader(bytes);
  const streams: DecodedStream[] = [];
  readFields(r, (field, type) => {
    if (field !== 1 || type !== WireType.Len) return false;
    streams.push(readStream(r.nested()));
    return true;
  });
  return { streams };
}

const isUint32 = (n: unknown) => n === undefined || (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff);
const isU64 = (n: unknown) => n === undefined || (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) || (typeof n === 'string' && /^\d{1,18}$/.test(n));

/**
 * Whether `m` is a Stream the hand-written encoder writes exactly as
 * protobufjs would: plain field values only. Anything else (strings for
 * numbers, negative seconds, extra conversions protobufjs applies) is left
 * to protobufjs, so a caller sees the same bytes and the same errors.
 */
function isPlainStream(m: unknown): m is WireStream {
  if (typeof m !== 'object' || m === null) return false;
  const s = m as Record<string, unknown>;
  if (typeof s['streamName'] !== 'string' || !isUint32(s['replicationFactor']) || !isUint32(s['backlogDuration']) || !isUint32(s['shardCount'])) return false;
  const ts = s['creationTime'];
  if (ts === undefined || ts === null) return true;
  if (typeof ts !== 'object') return false;
  const t = ts as Record<string, unknown>;
  return isU64(t['seconds']) && (t['nanos'] === undefined || (typeof t['nanos'] === 'number' && Number.isInteger(t['nanos']) && t['nanos'] >= 0 && t['nanos'] <= 0x7fffffff));
}

/** Encodes a plain Stream by hand and anything else with protobufjs (`fallback`). */
function streamSerializer(fallback: (m: unknown) => Buffer): (m: unknown) => Buffer {
  return (m) => {
    if (!isPlainStream(m)) return fallback(m);
    const s = m as Partial<WireStream> & { streamName: string };
    const ts = s.creationTime;
    return encodeStream({
      streamName: s.streamName,
      replicationFactor: s.replicationFactor ?? 0,
      backlogDuration: s.backlogDuration ?? 0,
      shardCount: s.shardCount ?? 0,
      creationTime: ts ? { seconds: ts.seconds ?? 0, nanos: ts.nanos ?? 0 } : null,
    });
  };
}

// ------------------------------------------------------- service definitions

type Codec = Partial<Pick<grpc.MethodDefinition<unknown, unknown>, 'requestSerialize' | 'requestDeserialize' | 'responseSerialize' | 'responseDeserialize'>>;

const RECEIVED_LISTS = ['ReadShard', 'ReadShardStream', 'ReadStream', 'ReadSingleShardStream'];

function swap(definition: grpc.ServiceDefinition, codecs: Record<string, Codec>): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...definition };
  for (const [name, codec] of Object.entries(codecs)) {
    const method = definition[name];
    if (method) out[name] = { ...method, ...codec } as grpc.MethodDefinition<unknown, unknown>;
  }
  return out as grpc.ServiceDefinition;
}

/** The server side of the service with the data path (and the stream listings, src/wire/stream-list.ts) on these codecs. */
export function withServerHotCodecs(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const codecs: Record<string, Codec> = {
    Append: { responseSerialize: (m) => encodeAppendResponse(m as WireAppendResponse) },
    StreamingFetch: {
      requestDeserialize: (b: Buffer) => decodeStreamingFetchRequest(b),
      responseSerialize: (m) => encodeReceivedRecords(m as { receivedRecords: WireReceivedRecord }, true),
    },
  };
  for (const name of RECEIVED_LISTS) codecs[name] = { responseSerialize: (m) => encodeReceivedRecords(m as { receivedRecords: WireReceivedRecord[] }, true) };
  for (const name of ['ListStreams', 'ListStreamsWithPrefix']) codecs[name] = { responseSerialize: (m) => serializeStreamList(m as EncodedStreamList | { streams: WireStream[] }) };
  const create = definition['CreateStream'];
  if (create) codecs['CreateStream'] = { requestDeserialize: (b: Buffer) => decodeStream(b), responseSerialize: streamSerializer(create.responseSerialize) };
  return swap(definition, codecs);
}

/** The client side of the service with the data path on these codecs. */
export function withClientHotCodecs(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const codecs: Record<string, Codec> = {
    Append: { responseDeserialize: (b: Buffer) => decodeAppendResponse(b) },
    StreamingFetch: {
      requestSerialize: (m) => encodeStreamingFetchRequest(m as WireFetchRequest),
      responseDeserialize: (b: Buffer) => decodeStreamingFetchResponse(b),
    },
  };
  for (const name of RECEIVED_LISTS) codecs[name] = { responseDeserialize: (b: Buffer) => decodeReceivedRecordList(b) };
  for (const name of ['ListStreams', 'ListStreamsWithPrefix']) codecs[name] = { responseDeserialize: (b: Buffer) => decodeListStreamsResponse(b) };
  const create = definition['CreateStream'];
  if (create) codecs['CreateStream'] = { requestSerialize: streamSerializer(create.requestSerialize), responseDeserialize: (b: Buffer) => decodeStream(b) };
  return swap(definition, codecs);
}
