/**
 * Which shards have batches in LevelDB's write-ahead log, read before the
 * database opens (opening replays the log into a table and deletes it).
 *
 * Why: after a clean shutdown recovery takes each shard's tail from the tail
 * marker instead of reading every shard's last batch (see recovery.ts). The
 * shutdown synced the log (clean-shutdown.ts), so the one way LevelDB can then
 * hold less than the marker says is a damaged log record, which recovery
 * skips; so the shards whose batches are in the log are checked against the
 * data, and only they.
 *
 * LevelDB's log is 32 KiB blocks of records (7-byte header: masked crc32c of
 * type and payload, u16 LE length, type FULL/FIRST/MIDDLE/LAST; a block's
 * last < 7 bytes are padding). Records carry write batches: u64 sequence,
 * u32 count, then per operation a tag (1 put, 0 delete), varint key and, for a
 * put, varint value. Anything this reader does not fully understand (a
 * torn record, an unknown tag, lengths that do not add up) makes it answer
 * undefined: the caller then checks every shard. Checksums are not verified
 * (crc32c in JavaScript took ~30 ms per MiB, and the log may hold 32 MiB): a
 * damaged record that still parses names the shards it touched, which are
 * the very shards to check; a record is only skipped by LevelDB, never by us.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_KEY_BYTES, decodeDataKey, isDataKey } from './keys.js';

const BLOCK_BYTES = 32 * 1024;
const HEADER_BYTES = 7;
const enum RecordType {
  Zero = 0,
  Full = 1,
  First = 2,
  Middle = 3,
  Last = 4,
}

/** Whether `name` (in a LevelDB directory) is one of its write-ahead logs. */
export function isWriteAheadLog(name: string): boolean {
  return /^\d+\.log$/.test(name);
}

/** Shards with a put or delete of a data key in the write-ahead logs of `dir`; undefined if a log is not fully readable. */
export function shardsInWriteAheadLog(dir: string): Set<number> | undefined {
  const shards = new Set<number>();
  try {
    for (const name of readdirSync(dir)) {
      if (!isWriteAheadLog(name)) continue;
      if (!readLog(readFileSync(join(dir, name)), shards)) return undefined;
    }
  } catch {
    return undefined;
  }
  return shards;
}

function readLog(log: Buffer, shards: Set<number>): boolean {
  let pending: Buffer[] | undefined;
  let at = 0;
  while (at < log.length) {
    const left = BLOCK_BYTES - (at % BLOCK_BYTES);
    if (left < HEADER_BYTES) {
      at += left;
      continue;
    }
    if (at + HEADER_BYTES > log.length) return false;
    const length = log.readUInt16LE(at + 4);
    const type = log[at + 6]!;
    if (type === RecordType.Zero && length === 0) {
      // preallocated or padding: the rest of the block is empty
      at += left;
      continue;
    }
    const end = at + HEADER_BYTES + length;
    if (end > log.length || HEADER_BYTES + length > left) return false;
    const payload = log.subarray(at + HEADER_BYTES, end);
    at = end;
    if (type === RecordType.Full) {
      if (pending || !readBatch(payload, shards)) return false;
    } else if (type === RecordType.First) {
      if (pending) return false;
      pending = [payload];
    } else if (type === RecordType.Middle) {
      if (!pending) return false;
      pending.push(payload);
    } else if (type === RecordType.Last) {
      if (!pending) return false;
      pending.push(payload);
      if (!readBatch(Buffer.concat(pending), shards)) return false;
      pending = undefined;
    } else {
      return false;
    }
  }
  return pending === undefined;
}

function readBatch(batch: Buffer, shards: Set<number>): boolean {
  if (batch.length < 12) return false;
  const count = batch.readUInt32LE(8);
  let at = 12;
  for (let i = 0; i < count; i++) {
    const tag = batch[at++];
    if (tag !== 0 && tag !== 1) return false;
    const key = readSlice(batch, at);
    if (!key) return false;
    at = key.next;
    if (key.bytes.length === DATA_KEY_BYTES && isDataKey(key.bytes)) shards.add(decodeDataKey(key.bytes).shardId);
    if (tag === 1) {
      const value = readSlice(batch, at);
      if (!value) return false;
      at = value.next;
    }
  }
  return at === batch.length;
}

function readSlice(buf: Buffer, at: number): { bytes: Buffer; next: number } | undefined {
  let length = 0;
  for (let shift = 0; shift <= 28; shift += 7) {
    if (at >= buf.length) return undefined;
    const byte = buf[at++]!;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) {
      if (at + length > buf.length) return undefined;
      return { bytes: buf.subarray(at, at + length), next: at + length };
    }
  }
  return undefined;
}
