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

export function decodeRecords(compression: number, payload: Buffer): HStreamRecord[] {
  const raw = decompress(compression, payload);
  try {
    const { BatchHStreamRecords } = recordTypes();
    const message = BatchHStreamRecords.decode(raw);
    const obj = BatchHStreamRecords.toObject(message, { enums: String, defaults: true, longs: String }) as {
      records: HStreamRecord[];
    };
    return obj.records.map((r) => ({
      header: {
        flag: r.header?.flag === 'RAW' ? 'RAW' : 'JSON',
        attributes: r.header?.attributes ?? {},
        key: r.header?.key ?? '',
      },
      payload: Buffer.from(r.payload ?? Buffer.alloc(0)),
    }));
  } catch (err) {
    throw invalidArgument(ErrorCode.InternalError, 'DecodeHStreamRecordErr', {
      extra: `the batch is not a valid BatchHStreamRecords: ${(err as Error).message}`,
    });
  }
}

export function encodeRecords(records: HStreamRecord[]): Buffer {
  const { BatchHStreamRecords } = recordTypes();
  const message = BatchHStreamRecords.fromObject({ records });
  return Buffer.from(BatchHStreamRecords.encode(message).finish());
}
