/**
 * On-disk framing of one stored batch. The client's batch is stored as one
 * value (never split per record): that is what makes appends cheap.
 *
 *   u8  format version (1)
 *   u8  compression type (0 none, 1 gzip, 2 zstd) as the producer sent it
 *   u32 BE batch size (number of records in the payload)
 *   f64 BE store time in ms since the epoch
 *   u32 BE crc32 of the payload
 *   ... payload bytes, untouched
 */
import { crc32 } from 'node:zlib';
import { StoreError } from './errors.js';

const FORMAT_VERSION = 1;
export const ENTRY_HEADER_BYTES = 18;

export interface BatchEntry {
  compression: number;
  batchSize: number;
  timeMs: number;
  payload: Buffer;
}

/** Frames `entry`, into `alloc(size)` when given (a caller reusing memory), else a new buffer. */
export function encodeEntry(entry: BatchEntry, alloc: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const out = alloc(ENTRY_HEADER_BYTES + entry.payload.length);
  out[0] = FORMAT_VERSION;
  out[1] = entry.compression;
  out.writeUInt32BE(entry.batchSize, 2);
  out.writeDoubleBE(entry.timeMs, 6);
  out.writeUInt32BE(crc32(entry.payload), 14);
  entry.payload.copy(out, ENTRY_HEADER_BYTES);
  return out;
}

export function decodeEntry(value: Uint8Array, where: string): BatchEntry {
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (buf.length < ENTRY_HEADER_BYTES || buf[0] !== FORMAT_VERSION) {
    throw new StoreError('STORE_CORRUPTION', `stored batch ${where} has an unknown format`);
  }
  const payload = buf.subarray(ENTRY_HEADER_BYTES);
  if (crc32(payload) !== buf.readUInt32BE(14)) {
    throw new StoreError('STORE_CORRUPTION', `stored batch ${where} failed its checksum`);
  }
  return {
    compression: buf[1]!,
    batchSize: buf.readUInt32BE(2),
    timeMs: buf.readDoubleBE(6),
    payload,
  };
}

/** Store time only, without checking the payload: used by time searches. */
export function entryTimeMs(value: Uint8Array): number {
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return buf.readDoubleBE(6);
}
