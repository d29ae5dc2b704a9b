/**
 * HStreamDB record encoding: a BatchedRecord's payload is a serialized
 * BatchHStreamRecords, compressed as a whole (none, gzip or zstd). The server
 * forwards payloads untouched; it decodes them only where it must look inside
 * (ReadStreamByKey, redelivery of a subset, SQL).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { compress as zstdCompress, decompress as zstdDecompress } from 'zstd-napi';
import { invalidArgument, ErrorCode } from './errors.js';
import { PROTO_PATH } from './proto.js';
import { varintSize, WireReader, WireType, writeTag, writeVarint } from './wire/protobuf.js';

export const Compression = { None: 0, Gzip: 1, Zstd: 2 } as const;
export type CompressionName = keyof typeof Compression;

/** Decompressed batches larger than this are refused: a small payload must not expand without bound. */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export interface HStreamRecord {
  header: { flag: 'JSON' | 'RAW'; attributes: Record<string, string>; key: string };
  payload: Buffer;
}

/** The record types, parsed from the proto on first use: most servers never look inside a batch. */
let types: { BatchHStreamRecords: protobuf.Type } | undefined;
function recordTypes(): { BatchHStreamRecords: protobuf.Type } {
  if (!types) {
    const root = protobuf.loadSync(PROTO_PATH);
    root.resolveAll();
    types = { BatchHStreamRecords: root.lookupType('hstream.server.BatchHStreamRecords') };
  }
  return types;
}

export function compressionCode(value: string | number | null | undefined): number {
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) return Compression.None;
  const code = Compression[value as CompressionName];
  return code === undefined ? -1 : code;
}

export function compressionName(code: number): CompressionName {
  return code === Compression.Gzip ? 'Gzip' : code === Compression.Zstd ? 'Zstd' : 'None';
}

/** Content size declared in a zstd frame header, or undefined when the frame does not say. */
function zstdFrameContentSize(buf: Buffer): number | undefined {
  if (buf.length < 6 || buf.readUInt32LE(0) !== 0xfd2fb528) return undefined;
  const descriptor = buf[4]!;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictIdBytes = [0, 1, 2, 4][descriptor & 3]!;
  let offset = 5 + (singleSegment ? 0 : 1) + dictIdBytes;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0 || buf.length < offset + fcsBytes) return undefined;
  if (fcsBytes === 1) return buf[offset];
  if (fcsBytes === 2) return buf.readUInt16LE(offset) + 256;
  if (fcsBytes === 4) return buf.readUInt32LE(offset);
  return Number(buf.readBigUInt64LE(offset));
}

export function decompress(compression: number, payload: Buffer): Buffer {
  try {
    switch (compression) {
      case Compression.None:
        return payload;
      case Compression.Gzip:
        return gunzipSync(payload, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
      case Compression.Zstd: {
        const declared = zstdFrameContentSize(payload);
        if (declared !== undefined && declared > MAX_DECOMPRESSED_BYTES) {
          throw new Error(`declared size ${declared} exceeds ${MAX_DECOMPRESSED_BYTES} bytes`);
        }
        return zstdDecompress(payload);
      }
      default:
        throw new Error(`unknown compression type ${compression}`);
    }
  } catch (err) {
    throw invalidArgument(ErrorCode.InternalError, 'DecodeHStreamRecordErr', {
      extra: `cannot decompress the batch: ${(err as Error).message}`,
    });
  }
}

export function compress(compression: number, data: Buffer): Buffer {
  switch (compression) {
    case Compression.Gzip:
      return gzipSync(data);
    case Compression.Zstd:
      return zstdCompress(data, { compressionLevel: 1 });
    default:
      return data;
  }
}

/**
 * Reads BatchHStreamRecords straight from the wire (every sink and SQL read
 * passes here, record by record): no intermediate message objects, and each
 * payload is a view of the batch, which outlives its records anyway. Fields
 * we do not know, or with another wire type than declared, are skipped as
 * protobufjs skips unknown fields; an unknown flag reads as JSON, as before.
 */
export function decodeRecords(compression: number, payload: Buffer): HStreamRecord[] {
  const raw = decompress(compression, payload);
  try {
    const r = new WireReader(raw);
    const records: HStreamRecord[] = [];
    while (!r.done) {
      const [field, type] = r.tag();
      if (field === 1 && type === WireType.Len) records.push(decodeRecord(r.nested()));
      else r.skip(type, field);
    }
    return records;
  } catch (err) {
    throw invalidArgument(ErrorCode.InternalError, 'DecodeHStreamRecordErr', {
      extra: `the batch is not a valid BatchHStreamRecords: ${(err as Error).message}`,
    });
  }
}

const EMPTY = Buffer.alloc(0);

function decodeRecord(r: WireReader): HStreamRecord {
  let header: HStreamRecord['header'] | undefined;
  let payload: Buffer = EMPTY;
  while (!r.done) {
    const [field, type] = r.tag();
    // a header that occurs again is merged into the first, as protobuf does with any embedded message
    if (field === 1 && type === WireType.Len) header = decodeHeader(r.nested(), header);
    else if (field === 2 && type === WireType.Len) payload = r.bytes();
    else r.skip(type, field);
  }
  return { header: header ?? { flag: 'JSON', attributes: {}, key: '' }, payload };
}

/** Reads a header into `into` when the record had one already: fields it sets replace, attributes add up. */
function decodeHeader(r: WireReader, into?: HStreamRecord['header']): HStreamRecord['header'] {
  const header: HStreamRecord['header'] = into ?? { flag: 'JSON', attributes: {}, key: '' };
  while (!r.done) {
    const [field, type] = r.tag();
    if (field === 1 && type === WireType.Varint) header.flag = r.uint32() === 1 ? 'RAW' : 'JSON';
    else if (field === 2 && type === WireType.Len) {
      // a map entry: key 1, value 2, both strings, either may be absent; the last entry of a key wins
      const entry = r.nested();
      let key = '';
      let value = '';
      while (!entry.done) {
        const [f, t] = entry.tag();
        if (f === 1 && t === WireType.Len) key = entry.string();
        else if (f === 2 && t === WireType.Len) value = entry.string();
        else entry.skip(t, f);
      }
      header.attributes[key] = value;
    } else if (field === 3 && type === WireType.Len) header.key = r.string();
    else r.skip(type, field);
  }
  return header;
}

/**
 * BatchHStreamRecords of `records`, written by hand: the same bytes as
 * protobufjs (every field it writes, in its order), without the message
 * objects and the copy it makes per record. A continuous query encodes each
 * output row through here, and producers each batch. Records in another
 * shape than HStreamRecord's (what protobufjs would convert) go through
 * protobufjs.
 */
export function encodeRecords(records: HStreamRecord[]): Buffer {
  if (!records.every(isPlainRecord)) return encodeWithProtobufjs(records);
  let total = 0;
  for (const record of records) {
    const size = recordSize(record, headerSize(record.header));
    total += 1 + varintSize(size) + size;
  }
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const record of records) {
    const header = headerSize(record.header);
    pos = writeTag(buf, pos, 1, WireType.Len);
    pos = writeVarint(buf, pos, recordSize(record, header));
    pos = writeRecord(buf, pos, record, header);
  }
  if (pos !== total) throw new Error(`BatchHStreamRecords: wrote ${pos} of ${total} bytes`);
  return buf;
}

function encodeWithProtobufjs(records: HStreamRecord[]): Buffer {
  const { BatchHStreamRecords } = recordTypes();
  const message = BatchHStreamRecords.fromObject({ records });
  return Buffer.from(BatchHStreamRecords.encode(message).finish());
}

function isPlainRecord(record: HStreamRecord): boolean {
  const header = record?.header as Partial<HStreamRecord['header']> | undefined;
  if (!header || (header.flag !== 'JSON' && header.flag !== 'RAW') || typeof header.key !== 'string' || !(record.payload instanceof Uint8Array)) return false;
  const attributes = header.attributes;
  if (typeof attributes !== 'object' || attributes === null) return false;
  for (const key in attributes) if (typeof attributes[key] !== 'string') return false;
  return true;
}

/** A string field with its one-byte tag, as protobufjs writes it (empty ones too). */
const stringField = (text: string) => {
  const bytes = Buffer.byteLength(text);
  return 1 + varintSize(bytes) + bytes;
};

function headerSize(header: HStreamRecord['header']): number {
  let size = 2 + stringField(header.key); // flag: tag and one-byte value
  for (const key in header.attributes) {
    const entry = stringField(key) + stringField(header.attributes[key]!);
    size += 1 + varintSize(entry) + entry;
  }
  return size;
}

function recordSize(record: HStreamRecord, header: number): number {
  return 1 + varintSize(header) + header + 1 + varintSize(record.payload.length) + record.payload.length;
}

function writeString(buf: Buffer, pos: number, field: number, text: string): number {
  pos = writeTag(buf, pos, field, WireType.Len);
  pos = writeVarint(buf, pos, Buffer.byteLength(text));
  return pos + buf.write(text, pos, 'utf8');
}

function writeRecord(buf: Buffer, pos: number, record: HStreamRecord, headerBytes: number): number {
  const { header, payload } = record;
  pos = writeTag(buf, pos, 1, WireType.Len);
  pos = writeVarint(buf, pos, headerBytes);
  pos = writeTag(buf, pos, 1, WireType.Varint);
  buf[pos++] = header.flag === 'RAW' ? 1 : 0;
  for (const key in header.attributes) {
    const value = header.attributes[key]!;
    pos = writeTag(buf, pos, 2, WireType.Len);
    pos = writeVarint(buf, pos, stringField(key) + stringField(value));
    pos = writeString(buf, pos, 1, key);
    pos = writeString(buf, pos, 2, value);
  }
  pos = writeString(buf, pos, 3, header.key);
  pos = writeTag(buf, pos, 2, WireType.Len);
  pos = writeVarint(buf, pos, payload.length);
  buf.set(payload, pos);
  return pos + payload.length;
}
